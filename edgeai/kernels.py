"""Access to individual kernel variants, for tests and benchmarks (the registry in variants.inc).

Normal code calls :func:`edgeai.matmul`; this module runs one named variant, bypassing dispatch,
so every compiled variant the CPU can run is checked, not only the dispatched one.
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from . import _C
from .formats import _BY_ID, FormatInfo
from .tensor import QuantizedTensor, _check_threads


@dataclass(frozen=True)
class Variant:
    """One registered kernel: ``ea_<op>_<wfmt>[_<afmt>]__<isa>``."""

    index: int
    name: str
    op: str           # quantize | dequantize | dot | gemm
    fmt: FormatInfo   # the weight (or converted) format
    act: FormatInfo   # activation format (f32 for quantize / dequantize)
    isa: str
    supported: bool   # this CPU can run it


def variants() -> List[Variant]:
    """Every compiled variant, in registry order."""
    return [Variant(v["index"], v["name"], v["op"], _BY_ID[v["wtype"]], _BY_ID[v["atype"]], v["isa"], v["supported"])
            for v in _C.variants()]


def find(op: str, fmt: str, isa: str) -> Optional[Variant]:
    """The variant of (op, format, isa), or None if it is not compiled."""
    for v in variants():
        if v.op == op and v.fmt.name == fmt and v.isa == isa:
            return v
    return None


def quantize_with(v: Variant, x: np.ndarray) -> np.ndarray:
    """Quantize float32 rows ``x[rows, K]`` with variant ``v``; returns the packed uint8 bytes."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    rows, k = (1, x.shape[0]) if x.ndim == 1 else (int(np.prod(x.shape[:-1])), x.shape[-1])
    out = np.empty(rows * v.fmt.row_nbytes(k), dtype=np.uint8)
    _C.quantize(v.fmt.type_id, x, out, rows, k, v.index)
    return out


def dequantize_with(v: Variant, data: np.ndarray, rows: int, k: int) -> np.ndarray:
    """Dequantize ``rows`` rows of ``k`` elements from packed bytes with variant ``v``."""
    out = np.empty((rows, k), dtype=np.float32)
    _C.dequantize(v.fmt.type_id, np.ascontiguousarray(data).reshape(-1).view(np.uint8), out, rows, k, v.index)
    return out


def matmul_with(x: np.ndarray, w: QuantizedTensor, *, dot: Optional[Variant] = None,
                gemm: Optional[Variant] = None, quantize: Optional[Variant] = None,
                threads: Optional[int] = None) -> np.ndarray:
    """``x[M, K] @ W[N, K]^T`` through explicit variants (``dot`` or ``gemm``, and the activation
    ``quantize`` variant for quantized formats; None picks the reference quantizer)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    n, k = w.shape
    m = x.shape[0]
    if quantize is None and w.fmt.act_format != "f32":
        quantize = find("quantize", w.fmt.act_format, "ref")
    out = np.empty((m, n), dtype=np.float32)
    _C.matmul(w.fmt.type_id, w.data, n, k, x, out, m, _check_threads(threads),
              quantize.index if quantize else -1, dot.index if dot else -1, gemm.index if gemm else -1)
    return out
