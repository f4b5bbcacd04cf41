"""_C.silu_mul: the prefill's gated activation, on the kernel pool (the C decode step's ea_silu_mul)."""
import numpy as np
import pytest

from edgeai import _C


def _ref(g, u):
    g64 = g.astype(np.float64)
    return g64 / (1.0 + np.exp(-g64)) * u.astype(np.float64)


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 5), (64, 5632), (2, 16384 + 3)])
def test_silu_mul_matches_float64(shape):
    rng = np.random.default_rng(sum(shape) + len(shape))
    g = (rng.standard_normal(shape) * 6).astype(np.float32)
    u = rng.standard_normal(shape).astype(np.float32)
    out = g.copy()
    _C.silu_mul(out, u, 2)
    ref = _ref(g, u)
    # e^x within 3e-7 relative, then a divide and a multiply rounded in float32
    np.testing.assert_allclose(out, ref, rtol=2e-6, atol=1e-30)
    # the thread count never changes a bit (fixed chunks of 16384)
    one = g.copy()
    _C.silu_mul(one, u, 1)
    assert np.array_equal(one, out)


def test_silu_mul_extremes():
    g = np.array([-1e4, -88.0, -20.0, 0.0, 20.0, 88.0, 1e4], np.float32)
    u = np.full_like(g, 2.0)
    out = g.copy()
    _C.silu_mul(out, u)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, _ref(g, u), rtol=2e-6, atol=1e-30)


def test_silu_mul_bad_input():
    g = np.ones((4, 8), np.float32)
    with pytest.raises(TypeError, match="float32"):
        _C.silu_mul(g.astype(np.float64), g)
    with pytest.raises(ValueError, match="same shape"):
        _C.silu_mul(g, np.ones((4, 7), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.silu_mul(np.ones((8, 8), np.float32)[:, ::2], g)
    ro = g.copy()
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="writeable"):
        _C.silu_mul(ro, g)
