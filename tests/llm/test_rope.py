"""_C.rope (kernels/model/rope.c): the prefill's RoPE on the kernel pool, the C decode step's own."""
import numpy as np
import pytest

from edgeai import _C
from edgeai.llm.model import apply_rope


def _ref(x, cos, sin, rope_dim, neox):
    """float64 rotation of x (T, heads, hd)."""
    y = x.astype(np.float64).copy()
    c, s = cos.astype(np.float64)[:, None, :], sin.astype(np.float64)[:, None, :]
    half = rope_dim // 2
    ia = np.arange(half) if neox else 2 * np.arange(half)
    ib = ia + half if neox else ia + 1
    a, b = y[..., ia].copy(), y[..., ib].copy()
    y[..., ia] = a * c - b * s
    y[..., ib] = a * s + b * c
    return y


def _tables(rng, T, half):
    ang = rng.uniform(-50, 50, (T, half))
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


@pytest.mark.parametrize("neox", [False, True])
@pytest.mark.parametrize("T,heads,hd,rope_dim", [(1, 9, 64, 64), (7, 3, 64, 64), (64, 32, 64, 64),
                                                  (17, 4, 96, 32), (9, 2, 10, 6), (8, 1, 2, 2)])
def test_rope_matches_float64(T, heads, hd, rope_dim, neox):
    rng = np.random.default_rng(T * 100 + hd + neox)
    x = (rng.standard_normal((T, heads, hd)) * 4).astype(np.float32)
    cos, sin = _tables(rng, T, rope_dim // 2)
    ref = _ref(x, cos, sin, rope_dim, neox)
    y = x.copy()
    _C.rope(y, cos, sin, rope_dim, neox, 2)
    # each output is two float32 products and one add: within ~2 ulp of |a| + |b|
    bound = 2.5e-7 * (np.abs(x).max() + 1)
    assert np.abs(y - ref).max() <= bound
    assert np.array_equal(y[..., rope_dim:], x[..., rope_dim:])          # past rope_dim: untouched
    y1 = x.copy()
    _C.rope(y1, cos, sin, rope_dim, neox, 1)
    assert np.array_equal(y, y1)                                         # thread count: same bits
    # apply_rope takes the C path for float32 C-contiguous input, numpy's for the rest: same rotation
    y2 = x.copy()
    apply_rope(y2, cos, sin, rope_dim, neox)
    assert np.array_equal(y2, y)
    y3 = np.asfortranarray(x)
    apply_rope(y3, cos, sin, rope_dim, neox)
    assert np.abs(y3 - ref).max() <= bound


def test_rope_empty_and_identity():
    x = np.zeros((0, 4, 8), np.float32)
    _C.rope(x, np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32), 8, True)
    x = np.random.default_rng(1).standard_normal((3, 2, 8)).astype(np.float32)
    y = x.copy()
    _C.rope(y, np.ones((3, 4), np.float32), np.zeros((3, 4), np.float32), 8, False)   # angle 0
    assert np.array_equal(x, y)


def test_rope_bad_input():
    x = np.ones((4, 2, 8), np.float32)
    c = np.ones((4, 4), np.float32)
    with pytest.raises(TypeError, match="float32"):
        _C.rope(x.astype(np.float64), c, c, 8, True)
    with pytest.raises(TypeError, match="float32"):
        _C.rope(x, c.astype(np.float64), c, 8, True)
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.rope(np.asfortranarray(x), c, c, 8, True)
    with pytest.raises(ValueError, match=r"\(T, heads, hd\)"):
        _C.rope(x.reshape(4, 16), c, c, 8, True)
    with pytest.raises(ValueError, match="rope_dim must be even"):
        _C.rope(x, c, c, 7, True)
    with pytest.raises(ValueError, match="rope_dim must be even"):
        _C.rope(x, c, c, 10, True)
    with pytest.raises(ValueError, match=r"\(T, rope_dim / 2\)"):
        _C.rope(x, c[:3], c[:3], 8, True)
    with pytest.raises(ValueError, match=r"\(T, rope_dim / 2\)"):
        _C.rope(x, c, c, 4, True)
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _C.rope(ro, c, c, 8, True)
