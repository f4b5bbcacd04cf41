"""edgeai's ONNX custom ops: quantized MatMul/Gemm and Conv running on edgeai's kernels.

Two implementations of the same ops, bit for bit (both call the same C kernels):

- native (default): a custom-op library built into edgeai._C against ONNX Runtime's C API
  (bindings/ortops.cpp; the onnxruntime wheel ships no C headers, so bindings/ort_api_min.h declares
  the few functions used, by their fixed slots in ONNX Runtime's append-only function table).
  :func:`register` returns the library's path for ``SessionOptions.register_custom_ops_library``;
  each node's kernel calls ea_linear / ea_conv2d(_nhwc) on ONNX Runtime's own buffers, with no Python
  and no copies. Needs ONNX Runtime >= 1.16 (C API version 16).
- Python (fallback): the functions below, registered with onnxruntime-extensions by
  :func:`register_python`. onnxruntime-extensions hands every input to Python as a copy (the uint8
  weights included) and copies the output back, with the interpreter per op call: on the terrain
  UNet (q8_0, 2-core Zen 3, bench/bench_onnx_ops.py) 0.397 s/image against the native library's
  0.361 at 1 thread, 0.284 against 0.256 at 2 threads, with the same output bits. :class:`edgeai.onnx.InferenceSession` uses it only if the native library cannot be
  registered (the reason is kept in ``InferenceSession.custom_ops_fallback``), or when asked to
  (``custom_ops="python"`` or EDGEAI_ONNX_OPS=python).

onnxruntime-extensions' stock Python hook returns each op's output as ``flatten().tolist()``, which
its C++ side then converts back element by element (~0.25 us per float); :func:`register_python`
installs a hook that hands back the contiguous array instead.

Errors of the native ops come back from ONNX Runtime as messages tagged ``[edgeai:ShapeError] ...``;
:func:`native_error` turns them into the same exception types the Python ops raise.

Ops (domain ``ai.onnx.contrib``; every node carries its geometry in one JSON string ``params``):
    EdgeaiMatMul(X[..., K] f32, W[N, Kp] u8 blocks, B[N or 0] f32) -> Y[..., N]
    EdgeaiConv(X[B, C, H, W] f32, W[O, Kp] u8 blocks, B[O or 0] f32) -> Y[B, O, oh, ow]
        params["layout"]: "hwc" (weight rows in (kh, kw, c) order, K = Kp) or absent / "chw"
        ((c, kh, kw) order, zero-padded to Kp; models quantized before "hwc" existed)
    EdgeaiConvAdd(X, W, B, Z[B, O, oh, ow] f32) -> EdgeaiConv(X, W, B) + Z
        a Conv and the Add of a same-shaped residual after it, fused by :func:`edgeai.onnx.quantize`:
        Z is added to each output tile while it is in cache (the bits of the separate Add)
"""
import json
import re
import sys
import threading
from functools import lru_cache
from typing import Optional, Tuple

import numpy as np

from .. import _C, _env
from ..errors import FormatError, ShapeError
from ..formats import format_info
from ..tensor import QuantizedTensor, _check_threads
from .im2col import conv2d, conv2d_nhwc_raw, conv_output_size, same_pads

DOMAIN = "ai.onnx.contrib"
MATMUL_OP = "EdgeaiMatMul"
CONV_OP = "EdgeaiConv"
CONV_ADD_OP = "EdgeaiConvAdd"  # EdgeaiConv(X, W, B) + Z: a Conv and the residual Add after it (quantize fuses them)

_state = threading.local()
_registered = False
_lock = threading.Lock()


def set_threads(n: Optional[int], ort_pool: bool = False) -> None:
    """Kernel threads for the ops run by this thread (None: edgeai's global count), and whether the
    native ops run them on ONNX Runtime's intra-op pool (``ort_pool``, see :func:`use_ort_pool`).

    The native ops read what the calling thread set (ONNX Runtime's sequential executor runs every
    node on the thread that called ``run``); a node run on any other thread uses what was set last
    by any thread of the process."""
    _state.threads = n
    _C.set_onnx_op_threads(_check_threads(n))
    _C.set_onnx_op_pool(bool(ort_pool))


def _threads() -> Optional[int]:
    return getattr(_state, "threads", None)


@lru_cache(maxsize=4096)
def _params(text: str) -> dict:
    p = json.loads(text)
    info = format_info(p["fmt"])  # FormatError for an unknown format, once per node
    p["_type_id"], p["_block"] = info.type_id, info.block_size
    return p


def _raw_weights(w: np.ndarray) -> np.ndarray:
    """The op's uint8 weight input as flat bytes (ORT hands it over contiguous: no copy)."""
    if w.dtype != np.uint8 or w.ndim != 1 or not w.flags.c_contiguous:
        w = np.ascontiguousarray(w).reshape(-1).view(np.uint8)
    return w


def _weights(w: np.ndarray, p: dict) -> QuantizedTensor:
    return QuantizedTensor(np.ascontiguousarray(w).reshape(-1).view(np.uint8), p["fmt"], (p["n"], p["kp"]))


# GGUF's 8-bit activation blocks store their scale d = max|block| / 127 as fp16: blocks whose max
# is above ~8.3e6 overflow to inf and blocks below ~7.8e-3 fall into fp16 subnormals (lost bits).
# Diffusion UNets run at both extremes, so activations are scaled by a power of two (exact in
# float) that puts the tensor's max at 2**20 (2**10 for q8_1, whose fp16 s = d * sum(qs) would
# overflow); blocks down to ~1e-8 of it stay normal. The rule is ea_act_prescale
# (kernels/nn/conv2d-nhwc.c), which the native ops, linear.c and conv2d-nhwc.c call too.
def _act_scale(x: np.ndarray, act_format: str) -> Tuple[float, float]:
    """(2**e, 2**-e) with e putting max|x| near 2**20 (2**10 for q8_1 activations); (1, 1) for an
    all-zero or non-finite x.

    Args:
        x: float32, C-contiguous activations.
        act_format: the weights' activation format (``FORMATS[fmt].act_format``).
    Returns:
        (scale, unscale).
    """
    return _C.act_prescale(x, format_info(act_format).type_id, _check_threads(_threads()))


def run_matmul(x: np.ndarray, w: np.ndarray, bias: np.ndarray, params: str) -> np.ndarray:
    """``Y[..., N] = X[..., K] @ W[N, K]^T + B``; X is zero-padded to the block multiple Kp.

    One C call (kernels/nn/linear.c) does the activation prescale, the padding, the product and
    the bias.

    Args:
        x: float32 ``[..., K]``. w: the uint8 block bytes of ``[N, Kp]``. bias: ``[N]`` or empty.
        params: JSON with fmt, n, k, kp.
    Returns:
        float32 ``[..., N]``.
    """
    p = _params(params)
    k, kp, n = p["k"], p["kp"], p["n"]
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim == 0 or x.shape[-1] != k:
        raise ShapeError(f"{MATMUL_OP}: input has shape {x.shape}, the weights expect K={k}")
    y = np.empty(x.shape[:-1] + (n,), dtype=np.float32)
    if bias.dtype != np.float32 or not bias.flags.c_contiguous:
        bias = np.ascontiguousarray(bias, dtype=np.float32)
    _C.linear(p["_type_id"], _raw_weights(w), n, k, kp, x, bias if bias.size else None, y, _check_threads(_threads()))
    return y


def run_conv_add(x: np.ndarray, w: np.ndarray, bias: np.ndarray, z: np.ndarray, params: str) -> np.ndarray:
    """EdgeaiConvAdd: :func:`run_conv` + z, with the bits of a separate Add (z: the output's shape)."""
    return run_conv(x, w, bias, params, residual=z)


def run_conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray, params: str,
             residual: Optional[np.ndarray] = None) -> np.ndarray:
    """ONNX Conv (2-D) on edgeai's GEMM path.

    ``params["layout"] == "hwc"`` (what :func:`edgeai.onnx.quantize` writes when a group's channels
    are whole blocks): weight rows in (kh, kw, c) order, the input quantized once into NHWC blocks
    (:func:`edgeai.onnx.im2col.conv2d_nhwc`). Otherwise (c, kh, kw) rows and the float im2col of
    :func:`edgeai.onnx.im2col.conv2d`.
    """
    p = _params(params)
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ShapeError(f"{CONV_OP}: input must be [B, C, H, W], got shape {x.shape}")
    kh, kw = p["kernel"]
    pads = p["pads"]
    if p["auto_pad"] in ("SAME_UPPER", "SAME_LOWER"):
        up = p["auto_pad"] == "SAME_UPPER"
        top, bottom = same_pads(x.shape[2], kh, p["strides"][0], p["dilations"][0], up)
        left, right = same_pads(x.shape[3], kw, p["strides"][1], p["dilations"][1], up)
        pads = [top, left, bottom, right]
    b = bias if bias.size else None
    if p.get("layout") == "hwc":
        return conv2d_nhwc_raw(x, _raw_weights(w), p["_type_id"], p["_block"], p["k"], b, p["n"], (kh, kw),
                               p["strides"], pads, p["dilations"], p["group"], _check_threads(_threads()), residual)
    scale, unscale = _act_scale(x, format_info(p["fmt"]).act_format)
    return conv2d(x, _weights(w, p), b, out_channels=p["n"], kernel=(kh, kw),
                  strides=p["strides"], pads=pads, dilations=p["dilations"], group=p["group"], k_real=p["k"],
                  threads=_threads(), x_scale=scale, y_scale=unscale, residual=residual)


def native_library() -> str:
    """Path of the native custom-op library (edgeai._C itself: it exports ``RegisterCustomOps``)."""
    return _C.__file__


def use_ort_pool() -> bool:
    """Whether the native ops run their kernels on ONNX Runtime's intra-op pool: ONNX Runtime serves
    ``KernelContext_ParallelFor`` (1.17+; known once a session registered the ops) and EDGEAI_ONNX_POOL
    is not ``edgeai``. A session's ``run`` passes its answer to :func:`set_threads`.

    Raises:
        ValueError: EDGEAI_ONNX_POOL is neither ``ort`` nor ``edgeai``.
    """
    if _env.ONNX_POOL not in ("ort", "edgeai"):
        raise ValueError(f"EDGEAI_ONNX_POOL must be 'ort' or 'edgeai', not {_env.ONNX_POOL!r}")
    return _env.ONNX_POOL == "ort" and bool(_C.onnx_ops_stats()["ort_pool"])


def register() -> str:
    """The library to pass to ``SessionOptions.register_custom_ops_library``: the native ops.

    Registration itself happens in ONNX Runtime (it dlopens the file and calls ``RegisterCustomOps``),
    and fails with an ``[edgeai:RuntimeError]`` message on an ONNX Runtime older than 1.16; then
    :func:`register_python` is the fallback.
    """
    return native_library()


def register_python() -> str:
    """Register the Python ops with onnxruntime-extensions (once per process): the fallback.

    Returns:
        Path of the onnxruntime-extensions library to pass to
        ``SessionOptions.register_custom_ops_library``.
    Raises:
        ImportError: onnxruntime-extensions is not installed (``pip install edgeai[onnx]``).
    """
    global _registered
    # onnxruntime-extensions imports torch and transformers when installed, for tokenizer converters
    # edgeai does not use: ~200 MB of RSS and seconds of start-up. Both are hidden during that import
    # (a None entry makes `import x` raise ImportError, which it handles) unless already loaded, so
    # neither is imported, nor caches a wrong "not installed" answer.
    hide = [m for m in ("torch", "transformers") if m not in sys.modules]
    for m in hide:
        sys.modules[m] = None
    try:
        from onnxruntime_extensions import PyCustomOpDef, get_library_path, onnx_op
    except ImportError as exc:
        raise ImportError("edgeai's quantized ONNX ops need onnxruntime-extensions: "
                          "pip install 'edgeai[onnx]'") from exc
    finally:
        for m in hide:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
    with _lock:
        if not _registered:
            sig = dict(inputs=[PyCustomOpDef.dt_float, PyCustomOpDef.dt_uint8, PyCustomOpDef.dt_float],
                       outputs=[PyCustomOpDef.dt_float], attrs={"params": PyCustomOpDef.dt_string})

            @onnx_op(op_type=MATMUL_OP, **sig)
            def _matmul(x, w, b, **attrs):
                return _guarded(run_matmul, x, w, b, attrs["params"])

            @onnx_op(op_type=CONV_OP, **sig)
            def _conv(x, w, b, **attrs):
                return _guarded(run_conv, x, w, b, attrs["params"])

            @onnx_op(op_type=CONV_ADD_OP, inputs=sig["inputs"] + [PyCustomOpDef.dt_float], outputs=sig["outputs"],
                     attrs=sig["attrs"])
            def _conv_add(x, w, b, z, **attrs):
                return _guarded(run_conv_add, x, w, b, z, attrs["params"])

            PyCustomOpDef.install_hooker(_invoke)
            _registered = True
    return get_library_path()


_NATIVE_TYPES = {"ShapeError": ShapeError, "FormatError": FormatError, "ValueError": ValueError,
                 "MemoryError": MemoryError, "RuntimeError": RuntimeError}
_NATIVE_TAG = re.compile(r"\[edgeai:(\w+)\] ([^\n]*)")
_NODE_NAME = re.compile(r"running (\w+) node\. Name:'([^']*)'")


def native_error(exc: BaseException) -> Optional[BaseException]:
    """The typed exception behind an ONNX Runtime error raised by a native edgeai op, or None.

    The native ops tag their messages ``[edgeai:<Type>] <message>``; ONNX Runtime wraps them in its
    own exception text, which also names the node."""
    text = str(exc)
    m = _NATIVE_TAG.search(text)
    if m is None:
        return None
    msg = m.group(2).strip()
    node = _NODE_NAME.search(text)
    if node and node.group(2):
        msg += f" (node {node.group(2)!r})"
    return _NATIVE_TYPES.get(m.group(1), RuntimeError)(msg)


def take_error() -> Optional[BaseException]:
    """The first exception raised by an op during the last run on this thread (cleared)."""
    err = getattr(_state, "error", None)
    _state.error = None
    return err


def _guarded(fn, x, *inputs_and_params) -> np.ndarray:
    """Run op ``fn(x, *inputs, params)``; an exception must not cross into onnxruntime-extensions' C++
    (it aborts the process), so it is kept for InferenceSession.run to raise, and a zero tensor goes back."""
    params = inputs_and_params[-1]
    try:
        return fn(x, *inputs_and_params)
    except Exception as exc:  # noqa: BLE001 - re-raised by InferenceSession.run
        if getattr(_state, "error", None) is None:
            _state.error = exc
        lead = x.shape[:-1] if getattr(x, "ndim", 0) >= 1 else ()
        try:
            n = int(_params(params)["n"])
        except Exception:  # noqa: BLE001 - unreadable params: the error above is what gets raised
            n = 1
        return np.zeros(lead + (n,), np.float32)


def _invoke(k_id, feed, attributes):
    """onnxruntime-extensions' op-invocation hook, returning outputs as flat arrays instead of lists."""
    from onnxruntime_extensions import _ocos
    op = _ocos.Opdef._odlist.get(k_id)
    if op is None:
        raise RuntimeError(f"no Python custom op with id {k_id} (decorate it with @onnx_op)")
    rv = op.body(*feed, **op.cast_attributes(attributes))
    res = []
    for r in (rv if isinstance(rv, tuple) else (rv,)):
        r = np.asarray(r)
        res.append(r.shape)
        # string tensors still travel as lists (the C++ side reads them as std::vector<std::string>)
        res.append(r.flatten().tolist() if r.dtype.kind in "OUS" else np.ascontiguousarray(r).reshape(-1))
    return (k_id,) + tuple(res)


__all__ = ["DOMAIN", "MATMUL_OP", "CONV_OP", "CONV_ADD_OP", "register", "register_python", "native_library",
           "native_error", "run_matmul", "run_conv", "run_conv_add", "set_threads", "conv_output_size", "use_ort_pool"]
