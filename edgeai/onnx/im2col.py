"""Conv2d as im2col + edgeai's GEMM path (weights in a GGUF block format).

ONNX Conv: x[B, C, H, W], w[O, C/g, kh, kw] -> y[B, O, oh, ow]. For each group the input
patches become rows of a column matrix cols[B*oh*ow, (C/g)*kh*kw] (the same (c, kh, kw) order as
the weight rows), and ``edgeai.matmul(cols, W_g[O/g, Kp])`` gives y in NHWC order. Rows are
processed in chunks so the column matrix stays within ``CHUNK_BYTES`` whatever the image size.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .. import matmul
from ..tensor import QuantizedTensor

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


def conv2d(x: np.ndarray, w: QuantizedTensor, bias: Optional[np.ndarray], *, out_channels: int,
           kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int], dilations: Sequence[int],
           group: int, k_real: int, threads: Optional[int] = None) -> np.ndarray:
    """2-D convolution through im2col and :func:`edgeai.matmul`.

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
    Returns:
        float32 ``[B, O, oh, ow]``.
    Raises:
        ShapeError: input channels or rank that do not fit the weights.
    """
    from ..errors import ShapeError
    if x.ndim != 4:
        raise ShapeError(f"Conv expects a 4-D input [B, C, H, W], got shape {x.shape}")
    b, c, h, wd = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    cg, og = c // group, out_channels // group
    if c % group or cg * kh * kw != k_real:
        raise ShapeError(f"Conv input has {c} channels; the weights expect {k_real // (kh * kw) * group} "
                         f"(group={group}, kernel={kh}x{kw})")
    oh = conv_output_size(h, kh, sh, dh, pt, pb)
    ow = conv_output_size(wd, kw, sw, dw, pl, pr)
    if oh <= 0 or ow <= 0:
        raise ShapeError(f"Conv output would be empty: input {h}x{wd}, kernel {kh}x{kw}, pads {list(pads)}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    kp = w.shape[1]
    y = np.empty((b, out_channels, oh, ow), dtype=np.float32)
    pointwise = kh == kw == 1 and sh == sw == 1 and not any(pads)
    if not pointwise and any(pads):
        xp = np.zeros((b, c, h + pt + pb, wd + pl + pr), dtype=np.float32)
        xp[:, :, pt:pt + h, pl:pl + wd] = x
    else:
        xp = x
    # output rows per chunk: the column buffer [rows*ow, Kp] must fit CHUNK_BYTES
    rows = max(1, min(oh, CHUNK_BYTES // max(1, ow * kp * 4)))
    wrow = w.data.nbytes // out_channels
    cols = np.zeros((rows * ow, kp), dtype=np.float32)  # pad columns k_real..Kp stay zero
    for gi in range(group):
        wg = QuantizedTensor(w.data[gi * og * wrow:(gi + 1) * og * wrow], w.fmt, (og, kp))
        xg = xp[:, gi * cg:(gi + 1) * cg]
        for bi in range(b):
            for r0 in range(0, oh, rows):
                r1 = min(oh, r0 + rows)
                m = (r1 - r0) * ow
                dst = cols[:m]
                if pointwise:
                    # [Cg, r, W] -> [r*W, Cg]
                    dst[:, :k_real] = xg[bi, :, r0:r1, :].reshape(cg, m).T
                else:
                    _gather(xg[bi], dst[:, :k_real], r0, r1, ow, kh, kw, sh, sw, dh, dw)
                out = matmul(dst, wg, threads=threads)            # [m, Og]
                y[bi, gi * og:(gi + 1) * og, r0:r1, :] = out.T.reshape(og, r1 - r0, ow)
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def _gather(xb: np.ndarray, dst: np.ndarray, r0: int, r1: int, ow: int, kh: int, kw: int,
            sh: int, sw: int, dh: int, dw: int) -> None:
    """Fill ``dst[(r1-r0)*ow, Cg*kh*kw]`` with the patches of output rows r0..r1 of ``xb[Cg, Hp, Wp]``."""
    cg = xb.shape[0]
    view = dst.reshape(r1 - r0, ow, cg, kh, kw)
    for i in range(kh):
        y0 = r0 * sh + i * dh
        for j in range(kw):
            x0 = j * dw
            # [Cg, r, ow] strided slice -> [r, ow, Cg]
            patch = xb[:, y0:y0 + (r1 - r0 - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw]
            view[:, :, :, i, j] = patch.transpose(1, 2, 0)
