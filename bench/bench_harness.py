"""Timing and workloads shared by bench_matmul.py and the pytest-benchmark suite.

Timing: a warm-up call, then batches of calls until ``min_time`` has passed and at least
``min_batches`` batches ran; the result is the best batch's time per call (STREAM's convention:
on a shared machine the fastest batch is the one least disturbed) and the median batch's.

Cold weights: a GEMV reads every weight once; to measure it from memory, not from a cache the
previous call warmed, calls rotate through ``copies`` matrices whose total is at least
``COLD_FACTOR`` times the last-level cache. The copies are byte copies of one quantized matrix in
one buffer (zero-copy views via QuantizedTensor.from_buffer): the kernels' speed does not depend
on the values, and quantizing once keeps set-up short.
"""
import math
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np

COLD_FACTOR = 2.0


@dataclass
class Timing:
    """Seconds per call: ``best`` batch and ``median`` batch; ``calls`` timed in all."""

    best: float
    median: float
    calls: int


def time_calls(fn: Callable[[int], None], period: int = 1, min_time: float = 0.4, min_batches: int = 3,
               max_time: float = 20.0) -> Timing:
    """Time ``fn(i)`` for i = 0, 1, 2... (i picks the cold copy).

    Args:
        fn: does one unit of work; called with a running index.
        period: calls per batch (a cold set's size, so every batch reads every copy once).
        min_time: keep going until this many seconds of batches were timed...
        min_batches: ...and at least this many batches.
        max_time: stop after this many seconds even if min_batches is not reached (slow ref kernels).
    Returns:
        Timing, per call.
    """
    fn(0)                                   # warm-up: page faults, pool start, lazy init
    i = 1
    batches: List[float] = []
    start = time.perf_counter()
    # a batch is at least `period` calls and at least ~min_time/10, so short calls are not timer noise
    per_batch = period
    while True:
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn(i)
            i += 1
        dt = (time.perf_counter() - t0) / per_batch
        batches.append(dt)
        elapsed = time.perf_counter() - start
        if len(batches) == 1 and dt * per_batch < min_time / 10:
            per_batch = period * max(1, math.ceil(min_time / 10 / (dt * period)))
        if (elapsed >= min_time and len(batches) >= min_batches) or elapsed >= max_time:
            break
    return Timing(best=min(batches), median=float(np.median(batches)), calls=i - 1)


def cold_copies(nbytes: int, llc_bytes: int, factor: float = COLD_FACTOR) -> int:
    """How many matrices of ``nbytes`` to rotate through so they total at least factor x LLC."""
    return max(2, math.ceil(factor * llc_bytes / max(nbytes, 1)))


def random_weights(n: int, k: int, seed: int = 0) -> np.ndarray:
    """float32 (N, K) standard-normal weights."""
    return np.random.default_rng(seed).standard_normal((n, k), dtype=np.float32)


def random_activations(m: int, k: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((m, k), dtype=np.float32)


def can_quantize(edgeai, fmt: str) -> bool:
    """True if weights in ``fmt`` can be made: an edgeai quantize kernel, or gguf's numpy quantizer."""
    if edgeai.cpu_info()["kernels"][fmt]["quantize"] is not None:
        return True
    try:
        import gguf
        from gguf import quants
        quants.quantize(np.zeros((1, 256), np.float32), gguf.GGMLQuantizationType[fmt.upper()])
        return True
    except (ImportError, KeyError, NotImplementedError, ValueError):
        return False


def quantize_weights(edgeai, w: np.ndarray, fmt: str):
    """W (N, K) as a QuantizedTensor: edgeai's quantizer, or gguf's (byte-identical ggml layout)
    while a format's quantize kernel has not landed."""
    if edgeai.cpu_info()["kernels"][fmt]["quantize"] is not None:
        return edgeai.quantize(w, fmt)
    import gguf
    from gguf import quants
    data = quants.quantize(w, gguf.GGMLQuantizationType[fmt.upper()])
    return edgeai.QuantizedTensor(np.ascontiguousarray(data).reshape(-1).view(np.uint8), fmt, w.shape)


def dequantize_weights(edgeai, qt) -> np.ndarray:
    """qt as float32: edgeai's dequantizer, or gguf's while a format's kernel has not landed."""
    if edgeai.cpu_info()["kernels"][qt.fmt.name]["dequantize"] is not None:
        return qt.dequantize()
    import gguf
    from gguf import quants
    rows = qt.data.reshape(qt.rows, -1)
    return quants.dequantize(rows, gguf.GGMLQuantizationType[qt.fmt.name.upper()]).reshape(qt.shape)


def edgeai_weight_set(edgeai, w: np.ndarray, fmt: str, copies: int) -> list:
    """``copies`` QuantizedTensors of W (N, K) in ``fmt``, byte copies in one contiguous buffer.

    Returns:
        list of QuantizedTensor views (the buffer stays alive through them).
    """
    qt = quantize_weights(edgeai, w, fmt)
    nb = qt.nbytes
    if copies == 1:
        return [qt]
    # 64-byte aligned start for every copy, like a GGUF tensor's data offset
    stride = (nb + 63) // 64 * 64
    buf = np.empty(stride * copies + 64, dtype=np.uint8)
    base = (-buf.ctypes.data) % 64
    out = []
    for c in range(copies):
        off = base + c * stride
        buf[off:off + nb] = qt.data
        out.append(edgeai.QuantizedTensor.from_buffer(buf, fmt, w.shape, offset=off))
    return out


def numpy_weight_set(w: np.ndarray, copies: int) -> List[np.ndarray]:
    """``copies`` float32 copies of W (N, K) for numpy's ``x @ W.T``."""
    return [w] + [w.copy() for _ in range(copies - 1)]


def variant_isa(name: Optional[str]) -> Optional[str]:
    """``ea_dot_q4_0_q8_0__avx2`` -> ``avx2``."""
    return name.rsplit("__", 1)[-1] if name and "__" in name else None
