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


@pytest.mark.parametrize("isa", ["avx2", "avx512vnni"])
def test_silu_mul_isa_code_has_the_portable_bits(isa):
    """The x86 files (8 and 16 lanes) compute the portable four-lane code's bits: every tail length,
    and values across e^x's whole range, its clamps, infinities, NaN and signed zeros."""
    import edgeai
    if not any(i["name"] == isa and i["enabled"] for i in edgeai.cpu_info()["isas"]):
        pytest.skip(f"this CPU (or build, or EDGEAI_ISA) does not run {isa}")
    rng = np.random.default_rng(11)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 87.0, 88.0, 88.5, -87.0, -87.5, -88.0, 1e-40,
                        -1e-40, 3e38, -3e38], np.float32)
    for n in list(range(0, 40)) + [1000, 16384 + 5]:
        g = np.concatenate([special, (rng.standard_normal(n) * 30).astype(np.float32)])[:n] if n else \
            np.zeros(0, np.float32)
        u = rng.standard_normal(n).astype(np.float32)
        u[: min(n, 3)] = [np.inf, -0.0, 1.0][: min(n, 3)]
        ref, out = g.copy(), g.copy()
        _C.silu_mul_isa(ref, u, "ref")
        _C.silu_mul_isa(out, u, isa)
        assert np.array_equal(ref.view(np.uint32), out.view(np.uint32)), (isa, n)


def test_silu_mul_isa_errors():
    g = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="unknown ISA"):
        _C.silu_mul_isa(g, g.copy(), "avx9")
    with pytest.raises(RuntimeError, match="no neon"):
        _C.silu_mul_isa(g, g.copy(), "neon")
