"""_C.rmsnorm (kernels/model/norm.c): the prefill's RMSNorm on the kernel pool, the C decode step's own."""
import numpy as np
import pytest

from edgeai import _C


def _ref(x, w, eps):
    x64 = x.astype(np.float64)
    return x64 / np.sqrt(np.mean(x64 * x64, axis=-1, keepdims=True) + eps) * w.astype(np.float64)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 576), (64, 2048), (5, 9, 64), (17, 2051)])
def test_rmsnorm_matches_float64(shape):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    w = rng.standard_normal(shape[-1]).astype(np.float32)
    out = _C.rmsnorm(x, w, 1e-5, 2)
    assert out.shape == x.shape and out.dtype == np.float32
    # double sum of squares, then the scale and two multiplies rounded in float32
    np.testing.assert_allclose(out, _ref(x, w, 1e-5), rtol=3e-7 * 4, atol=1e-30)
    # per-row work in fixed blocks: the thread count never changes a bit
    assert np.array_equal(out, _C.rmsnorm(x, w, 1e-5, 1))


def test_rmsnorm_zero_rows_and_eps():
    x = np.zeros((4, 16), np.float32)
    w = np.ones(16, np.float32)
    assert np.array_equal(_C.rmsnorm(x, w, 1e-6), x)           # eps keeps 0 / rms finite
    big = np.full((2, 16), 3e38, np.float32)                   # squares overflow float32, not double
    np.testing.assert_allclose(_C.rmsnorm(big, w, 1e-6), 1.0, rtol=1e-6)
    assert _C.rmsnorm(np.zeros((0, 16), np.float32), w, 1e-6).shape == (0, 16)


def test_rmsnorm_bad_input():
    x = np.ones((4, 8), np.float32)
    with pytest.raises(TypeError, match="float32"):
        _C.rmsnorm(x.astype(np.float64), np.ones(8, np.float32), 1e-5)
    with pytest.raises(ValueError, match="needs w of shape"):
        _C.rmsnorm(x, np.ones(7, np.float32), 1e-5)
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.rmsnorm(np.ones((4, 16), np.float32)[:, ::2], np.ones(8, np.float32), 1e-5)
