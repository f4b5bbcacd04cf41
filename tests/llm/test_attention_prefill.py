"""_C.attention_prefill: the prefill's causal GQA attention over the f16 KV cache, on the kernel pool.

Checked against a float64 softmax attention written here (on the same f16 cache values) and
against model.attention, the numpy twin it replaces for f16 caches.
"""
import numpy as np
import pytest

from edgeai import _C
from edgeai.llm import model as M


def _cache(rng, kv, cap, hd, filled):
    kc = np.zeros((kv, cap, hd), np.float16)
    vc = np.zeros((kv, hd, cap), np.float16)
    kc[:, :filled] = rng.standard_normal((kv, filled, hd)).astype(np.float16)
    vc[:, :, :filled] = rng.standard_normal((kv, hd, filled)).astype(np.float16)
    return kc, vc


def _ref64(q, kc, vc, pos0, window, scale):
    """float64 attention: query t at position pos0 + t sees positions s <= p with p - s < window."""
    T, H, hd = q.shape
    kv = kc.shape[0]
    g = H // kv
    out = np.zeros((T, H, hd))
    for t in range(T):
        p = pos0 + t
        lo = max(0, p - window + 1) if window else 0
        for h in range(H):
            k = kc[h // g, lo:p + 1].astype(np.float64)             # (n, hd)
            v = vc[h // g, :, lo:p + 1].astype(np.float64)          # (hd, n)
            s = k @ q[t, h].astype(np.float64) * scale
            e = np.exp(s - s.max())
            out[t, h] = v @ (e / e.sum())
    return out.reshape(T, H * hd)


class _Cfg:
    def __init__(self, scale):
        self.attn_scale = scale


# (T, pos0, n_head, n_kv, hd, window): GQA groups 1/3/8, tails of the 16-row task blocks,
# a cache already holding earlier positions, sliding windows shorter and longer than the batch
CASES = [
    (1, 0, 4, 4, 64, 0),
    (5, 0, 9, 3, 64, 0),
    (16, 0, 32, 4, 64, 0),
    (17, 3, 8, 1, 32, 0),
    (40, 100, 6, 2, 80, 0),
    (64, 0, 32, 4, 64, 0),
    (33, 20, 4, 2, 64, 7),
    (20, 0, 4, 4, 16, 50),
    (3, 9, 2, 1, 8, 4),
]


@pytest.mark.parametrize("T,pos0,H,KV,hd,window", CASES)
def test_matches_float64_and_numpy_twin(T, pos0, H, KV, hd, window):
    rng = np.random.default_rng(T * 1000 + pos0 * 10 + hd)
    cap = pos0 + T + 5
    kc, vc = _cache(rng, KV, cap, hd, pos0 + T)
    q = rng.standard_normal((T, H, hd)).astype(np.float32)
    scale = 1.0 / np.sqrt(hd)
    out = _C.attention_prefill(q, kc, vc, pos0, window, scale, 2)
    assert out.shape == (T, H * hd) and out.dtype == np.float32
    ref = _ref64(q, kc, vc, pos0, window, scale)
    # f32 sums of hd or <= pos0 + T terms of magnitude ~1 and an exp within 3e-7: ~1e-5 absolute
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=2e-5)
    twin = M.attention(q, kc[:, :pos0 + T], vc[:, :, :pos0 + T], pos0, _Cfg(scale), window)
    np.testing.assert_allclose(out, twin, rtol=1e-4, atol=2e-5)
    # fixed task grid: the thread count never changes a bit
    assert np.array_equal(out, _C.attention_prefill(q, kc, vc, pos0, window, scale, 1))


def test_large_scores_stay_finite():
    # scores of +-1e4 after scaling: the softmax subtracts each row's maximum first
    rng = np.random.default_rng(5)
    kc, vc = _cache(rng, 1, 24, 8, 24)
    q = (rng.standard_normal((24, 2, 8)) * 300).astype(np.float32)
    out = _C.attention_prefill(q, kc, vc, 0, 0, 1.0, 2)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, _ref64(q, kc, vc, 0, 0, 1.0), rtol=1e-3, atol=1e-3)


def test_bad_input():
    kc = np.zeros((2, 8, 4), np.float16)
    vc = np.zeros((2, 4, 8), np.float16)
    q = np.zeros((3, 4, 4), np.float32)
    with pytest.raises(TypeError, match="float32"):
        _C.attention_prefill(q.astype(np.float64), kc, vc, 0, 0, 1.0)
    with pytest.raises(TypeError, match="float16"):
        _C.attention_prefill(q, kc.astype(np.float32), vc, 0, 0, 1.0)
    with pytest.raises(ValueError, match="do not fit a cache"):
        _C.attention_prefill(q, kc, vc, 6, 0, 1.0)
    with pytest.raises(ValueError, match="head_dim"):
        _C.attention_prefill(np.zeros((3, 4, 5), np.float32), kc, vc, 0, 0, 1.0)
    with pytest.raises(ValueError, match="multiple of n_kv"):
        _C.attention_prefill(np.zeros((3, 3, 4), np.float32), kc, vc, 0, 0, 1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.attention_prefill(np.zeros((3, 4, 8), np.float32)[:, :, ::2], kc, vc, 0, 0, 1.0)
    with pytest.raises(ValueError, match="window"):
        _C.attention_prefill(q, kc, vc, 0, -1, 1.0)
    assert _C.attention_prefill(q[:0], kc, vc, 0, 0, 1.0).shape == (0, 16)
