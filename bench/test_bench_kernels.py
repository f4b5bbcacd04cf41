"""pytest-benchmark suite: edgeai GEMV / GEMM per format beside numpy and onnxruntime.

    python -m pytest bench/ --benchmark-only                    # all
    python -m pytest bench/ --benchmark-only -k "q4_0 and 4096"  # a subset
    python -m pytest bench/ --benchmark-only --benchmark-group-by=group

Each benchmark's group is "<N>x<K> M=<m> t=<threads>", so edgeai, numpy and ORT at the same
shape sort together; extra_info carries weight GB/s and GFLOP/s. Weights here stay warm (one
matrix, repeated calls) for repeatable tracking; the cold-weight GEMV figures, the machine's
bandwidth and peak, and the targets come from bench_matmul.py. No speed is asserted: each
benchmark checks only that it computed the right product (once, outside the timing).
"""
import importlib.util

import numpy as np
import pytest

import bench_engines as engines
import bench_harness as harness
import membw

edgeai = membw.import_edgeai()

SHAPES = [(1536, 576), (4096, 4096)]   # N x K: a small model's MLP, a 7B model's attention
MS = [1, 64]
THREADS = [1, 2]
KERNELS, _SKIPPED = engines.dispatched_kernels(edgeai, engines.weight_formats(edgeai))
HAVE_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None

_cache = {}


def _weights(n, k):
    key = ("w", n, k)
    if key not in _cache:
        _cache[key] = harness.random_weights(n, k)
    return _cache[key]


def _qt(fmt, n, k):
    key = ("qt", fmt, n, k)
    if key not in _cache:
        _cache[key] = harness.quantize_weights(edgeai, _weights(n, k), fmt)
    return _cache[key]


def _record(benchmark, n, k, m, threads, weight_bytes):
    benchmark.group = f"{n}x{k} M={m} t={threads}"
    benchmark.extra_info.update(n=n, k=k, m=m, threads=threads, weight_bytes=weight_bytes)


def _rates(benchmark, n, k, m, weight_bytes):
    """Add GB/s and GFLOP/s from the best round (stats exist only after the run)."""
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None and stats.stats.min > 0:
        t = stats.stats.min
        benchmark.extra_info.update(weight_gbs=weight_bytes / t * 1e-9, gflops=2.0 * m * n * k / t * 1e-9)


def _close(y, ref, tol):
    err = np.linalg.norm(y - ref) / max(np.linalg.norm(ref), 1e-30)
    assert np.isfinite(y).all() and err < tol, f"relative error {err:.3g} >= {tol}"


# K-quants have 256-element blocks: K=576 is not a multiple (GGUF files use another format there)
_EDGEAI_CASES = [(kk, s) for kk in KERNELS for s in SHAPES if s[1] % edgeai.FORMATS[kk.fmt].block_size == 0]


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("kern,shape", _EDGEAI_CASES, ids=[f"{kk.fmt}-{s[0]}x{s[1]}" for kk, s in _EDGEAI_CASES])
def test_edgeai_matmul(benchmark, kern, shape, m, threads):
    n, k = shape
    qt = _qt(kern.fmt, n, k)
    x = harness.random_activations(m, k)
    out = np.empty((m, n), dtype=np.float32)
    kern.run(x, qt, out, threads)
    # activations are quantized to 8 bits on the fly: a few percent at most against float64
    _close(out, (x.astype(np.float64) @ harness.dequantize_weights(edgeai, qt).astype(np.float64).T), 0.05)
    _record(benchmark, n, k, m, threads, qt.nbytes)
    benchmark.extra_info["kernel"] = kern.kernel
    benchmark(kern.run, x, qt, out, threads)
    _rates(benchmark, n, k, m, qt.nbytes)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_numpy_f32(benchmark, shape, m, threads):
    from threadpoolctl import threadpool_limits
    n, k = shape
    w = _weights(n, k)
    x = harness.random_activations(m, k)
    out = np.empty((m, n), dtype=np.float32)
    _record(benchmark, n, k, m, threads, w.nbytes)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(x, w.T, out=out)
        _close(out, x.astype(np.float64) @ w.astype(np.float64).T, 1e-4)
        benchmark(np.matmul, x, w.T, out=out)
    _rates(benchmark, n, k, m, w.nbytes)


@pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime and onnx not installed (pip install '.[bench]')")
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", ["nbits4_acc0", "nbits4_acc4", "dqmm8", "mmint8"])
def test_onnxruntime(benchmark, kind, shape, m, threads):
    import ort_matmul
    n, k = shape
    w = _weights(n, k)
    key = ("ort", kind, n, k)
    if key not in _cache:
        _cache[key] = ort_matmul.build_model(kind, w, copies=1)
    sess = ort_matmul.OrtMatmul(_cache[key], threads, copies=1)
    x = harness.random_activations(m, k)
    # 4-bit weights: ~10% error against the float weights; 8-bit: ~1%
    _close(sess.run(x)[0], x.astype(np.float64) @ w.astype(np.float64).T, 0.2 if kind.startswith("nbits4") else 0.03)
    nbytes = ort_matmul.weight_nbytes(kind, n, k)
    _record(benchmark, n, k, m, threads, nbytes)
    benchmark(sess.run, x)
    _rates(benchmark, n, k, m, nbytes)
