"""Conv2d as im2col + edgeai's GEMM path (weights in a GGUF block format), in C (kernels/nn/conv2d.c).

ONNX Conv: x[B, C, H, W], w[O, C/g, kh, kw] -> y[B, O, oh, ow]. For each group every output pixel's
input patch (the (c, kh, kw) order of the weight rows, zero padded to the block multiple Kp) is
gathered into an L1-sized float row and quantized at once to the weights' activation blocks (q8_0
for q8_0/q4_0); the dispatched GEMM kernel multiplies those rows with W_g[O/g, Kp] (NHWC out), and
the result is scattered into NCHW with the bias. Output rows are processed in chunks, so the
buffers stay under ``CHUNK_BYTES`` whatever the image size; gather and GEMM use the thread pool.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .. import _C
from ..errors import ShapeError
from ..tensor import QuantizedTensor, _check_threads

CHUNK_BYTES = 16 << 20  # bound on the float32 column buffer of one chunk


def conv_output_size(size: int, k: int, stride: int, dil: int, pad0: int, pad1: int) -> int:
    """Output length of one spatial axis (ONNX Conv semantics)."""
    return (size + pad0 + pad1 - dil * (k - 1) - 1) // stride + 1


def same_pads(size: int, k: int, stride: int, dil: int, upper: bool) -> Tuple[int, int]:
    """auto_pad SAME_UPPER / SAME_LOWER: pads that make out = ceil(size / stride)."""
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + dil * (k - 1) + 1 - size)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _residual(residual: Optional[np.ndarray], y: np.ndarray) -> Optional[np.ndarray]:
    """A fused Add's other input, checked against the conv output ``y`` and made float32 C-contiguous."""
    if residual is None:
        return None
    if residual.shape != y.shape:
        raise ShapeError(f"Conv residual has shape {residual.shape}, the conv output is {y.shape}")
    return np.ascontiguousarray(residual, dtype=np.float32)


def conv2d(x: np.ndarray, w: QuantizedTensor, bias: Optional[np.ndarray], *, out_channels: int,
           kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int], dilations: Sequence[int],
           group: int, k_real: int, threads: Optional[int] = None, x_scale: float = 1.0,
           y_scale: float = 1.0, residual: Optional[np.ndarray] = None) -> np.ndarray:
    """2-D convolution through im2col and edgeai's matmul kernels.

    Args:
        x: float32 input ``[B, C, H, W]``.
        w: weights ``[O, Kp]``: row o holds filter o flattened as (c, kh, kw), zero-padded from
            ``k_real = (C/g)*kh*kw`` to the format's block multiple ``Kp``.
        bias: float32 ``[O]`` or None.
        out_channels: O. kernel: (kh, kw). strides, dilations: 2 ints each.
        pads: (top, left, bottom, right) as in ONNX.
        group: number of groups g (C and O are multiples of it).
        k_real: unpadded row length.
        threads: kernel threads (None: edgeai's global count).
        x_scale, y_scale: the input is multiplied by x_scale on its way into the column buffer, the
            product by y_scale before the bias (the activation prescale of edgeai.onnx.ops).
        residual: None, or float32 of the output's shape added after the bias (a fused Add, same bits).
    Returns:
        float32 ``[B, O, oh, ow]``.
    Raises:
        ShapeError: input rank or channels that do not fit the weights, an empty output, or a
            residual of another shape.
    """
    if x.ndim != 4:
        raise ShapeError(f"Conv expects a 4-D input [B, C, H, W], got shape {x.shape}")
    b, c, h, wd = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    if c % group or (c // group) * kh * kw != k_real or out_channels % group:
        raise ShapeError(f"Conv input has {c} channels; the weights expect {k_real // (kh * kw) * group} "
                         f"(group={group}, kernel={kh}x{kw})")
    oh = conv_output_size(h, kh, sh, dh, pt, pb)
    ow = conv_output_size(wd, kw, sw, dw, pl, pr)
    if oh <= 0 or ow <= 0:
        raise ShapeError(f"Conv output would be empty: input {h}x{wd}, kernel {kh}x{kw}, pads {list(pads)}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.empty((b, out_channels, oh, ow), dtype=np.float32)
    geom = dict(batch=b, in_c=c, in_h=h, in_w=wd, out_c=out_channels, out_h=oh, out_w=ow, kh=kh, kw=kw, sh=sh,
                sw=sw, dh=dh, dw=dw, pad_top=pt, pad_left=pl, group=group, k_real=k_real, k_padded=w.shape[1])
    if bias is not None:
        bias = np.ascontiguousarray(bias, dtype=np.float32).reshape(-1)
    _C.conv2d(w.fmt.type_id, w.data, x, bias, y, geom, float(x_scale), float(y_scale), CHUNK_BYTES,
              _check_threads(threads), _residual(residual, y))
    return y


def conv2d_nhwc(x: np.ndarray, w: QuantizedTensor, bias: Optional[np.ndarray], *, out_channels: int,
                kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int], dilations: Sequence[int],
                group: int, threads: Optional[int] = None) -> np.ndarray:
    """2-D convolution with (kh, kw, c)-ordered weights, in C (kernels/nn/conv2d-nhwc.c).

    The input is scaled by the activation prescale (a power of two, computed inside), transposed
    to NHWC and quantized to the weights' activation blocks once; each output pixel's patch is then
    copied as whole blocks, and 1x1 convs read the quantized input in place.

    Args:
        x: float32 ``[B, C, H, W]``.
        w: weights ``[O, K]``, K = (C/g)*kh*kw: row o holds filter o as (kh, kw, c); C/g must be a
            multiple of the format's block size (no padding of K).
        bias, out_channels, kernel, strides, pads, dilations, group, threads: as :func:`conv2d`.
    Returns:
        float32 ``[B, O, oh, ow]``.
    Raises:
        ShapeError: input rank or channels that do not fit the weights, or an empty output.
    """
    if w.shape[0] != out_channels:
        raise ShapeError(f"weights have {w.shape[0]} rows for {out_channels} output channels")
    return conv2d_nhwc_raw(x, w.data, w.fmt.type_id, w.fmt.block_size, w.shape[1], bias, out_channels, kernel,
                           strides, pads, dilations, group, _check_threads(threads))


def conv2d_nhwc_raw(x: np.ndarray, wdata: np.ndarray, type_id: int, block: int, k: int, bias: Optional[np.ndarray],
                    out_channels: int, kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int],
                    dilations: Sequence[int], group: int, threads: int,
                    residual: Optional[np.ndarray] = None) -> np.ndarray:
    """:func:`conv2d_nhwc` on raw weight bytes (the op's per-call path: no QuantizedTensor to build).
    ``threads``: 0 for edgeai's global count. The C side checks the weight buffer's size.
    ``residual``: None, or float32 of the output's shape added after the bias (a fused Add, same bits)."""
    if x.ndim != 4:
        raise ShapeError(f"Conv expects a 4-D input [B, C, H, W], got shape {x.shape}")
    b, c, h, wd = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    if c % group or (c // group) * kh * kw != k or out_channels % group or (c // group) % block:
        raise ShapeError(f"Conv input has {c} channels; the weights expect {k // (kh * kw) * group} "
                         f"(group={group}, kernel={kh}x{kw}, whole {block}-channel blocks per group)")
    oh = conv_output_size(h, kh, sh, dh, pt, pb)
    ow = conv_output_size(wd, kw, sw, dw, pl, pr)
    if oh <= 0 or ow <= 0:
        raise ShapeError(f"Conv output would be empty: input {h}x{wd}, kernel {kh}x{kw}, pads {list(pads)}")
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.empty((b, out_channels, oh, ow), dtype=np.float32)
    if bias is not None and (bias.dtype != np.float32 or not bias.flags.c_contiguous or bias.ndim != 1):
        bias = np.ascontiguousarray(bias, dtype=np.float32).reshape(-1)
    if wdata.dtype != np.uint8 or wdata.ndim != 1 or not wdata.flags.c_contiguous:
        wdata = np.ascontiguousarray(wdata).reshape(-1).view(np.uint8)
    _C.conv2d_nhwc(type_id, wdata, x, bias, y, (b, c, h, wd, out_channels, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl,
                                                group, k, k), threads, _residual(residual, y))
    return y
