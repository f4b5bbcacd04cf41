"""The thread pool: results never depend on the thread count, concurrent callers and fork are safe."""
import os
import sys
import threading

import numpy as np
import pytest

import edgeai


def _weight_formats():
    info = edgeai.cpu_info()["kernels"]
    return [n for n, f in edgeai.FORMATS.items() if f.is_weight and info[n]["dot"] and info[n]["quantize"]]


def _k_for(fmt):
    return 2 * max(256, edgeai.FORMATS[fmt].block_size)


@pytest.mark.parametrize("fmt", _weight_formats())
@pytest.mark.parametrize("m", [1, 3, 64, 130])
def test_bit_identical_across_thread_counts(fmt, m):
    rng = np.random.default_rng(1)
    k = _k_for(fmt)
    qt = edgeai.quantize(rng.standard_normal((203, k)).astype(np.float32), fmt)
    x = rng.standard_normal((m, k)).astype(np.float32)
    ys = [edgeai.matmul(x, qt, threads=t) for t in (1, 2, 3, 8)]
    for y in ys[1:]:
        assert np.array_equal(ys[0], y)


def test_global_thread_count():
    before = edgeai.get_num_threads()
    try:
        edgeai.set_num_threads(3)
        assert edgeai.get_num_threads() == 3
        edgeai.set_num_threads(None)
        assert edgeai.get_num_threads() >= 1
    finally:
        edgeai.set_num_threads(before)
    with pytest.raises(ValueError):
        edgeai.set_num_threads(-1)
    qt = edgeai.quantize(np.ones((4, 32), np.float32), "q8_0")
    with pytest.raises(ValueError, match="threads"):
        edgeai.matmul(np.ones((1, 32), np.float32), qt, threads=0)


def test_concurrent_callers_get_their_own_results():
    rng = np.random.default_rng(2)
    qt = edgeai.quantize(rng.standard_normal((300, 512)).astype(np.float32), "q8_0")
    xs = [rng.standard_normal((5, 512)).astype(np.float32) for _ in range(4)]
    expected = [edgeai.matmul(x, qt, threads=1) for x in xs]
    errors = []

    def work(i):
        for _ in range(20):
            if not np.array_equal(edgeai.matmul(xs[i], qt, threads=2), expected[i]):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a matmul call hung"
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork()")
def test_pool_works_in_a_forked_child():
    qt = edgeai.quantize(np.ones((256, 64), np.float32), "q8_0")
    x = np.ones((2, 64), np.float32)
    expected = edgeai.matmul(x, qt, threads=2)  # the parent's pool is running
    pid = os.fork()
    if pid == 0:  # child: the parent's workers do not exist here
        ok = np.array_equal(edgeai.matmul(x, qt, threads=2), expected)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
