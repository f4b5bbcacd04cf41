"""The KV cache starts small and grows as the context fills: growing never changes the numbers."""
import numpy as np

import edgeai
from edgeai.llm.model import KVCache


def test_cache_grows_by_doubling_and_keeps_filled_positions(smollm):
    cache = KVCache(smollm.config, 1000, capacity=256)
    assert cache.capacity == 256 and cache.nbytes * 1000 // 256 == cache.max_nbytes
    rng = np.random.default_rng(0)
    cache.k[...] = rng.standard_normal(cache.k.shape)
    cache.v[...] = rng.standard_normal(cache.v.shape)
    cache.pos = 200
    k0, v0 = cache.k[:, :, :200].copy(), cache.v[..., :200].copy()
    assert not cache.reserve(256)
    assert cache.reserve(257) and cache.capacity == 512
    assert cache.reserve(900) and cache.capacity == 1000   # capped at n_ctx
    assert not cache.reserve(1000)
    np.testing.assert_array_equal(cache.k[:, :, :200], k0)
    np.testing.assert_array_equal(cache.v[..., :200], v0)


def _greedy(llm, ids, n):
    out = [int(np.argmax(llm._prefill(ids)))]
    for _ in range(n - 1):
        out.append(int(np.argmax(llm._eval(np.asarray(out[-1:])))))
    return out


def test_decoding_across_growth_matches_a_full_size_cache(smollm_path):
    grown = edgeai.LLM(smollm_path, n_ctx=700, threads=1)
    assert grown.cache.capacity < 300
    full = edgeai.LLM(smollm_path, n_ctx=700, threads=1)
    full.cache = KVCache(full.config, 700, capacity=700)
    from edgeai.llm.fast import FastDecoder
    full._fast = FastDecoder(full.config, full.weights, full.cache)
    ids = grown.tokenize("<|im_start|>user\nWrite a long story about a robot.<|im_end|>\n<|im_start|>assistant\n")
    a = _greedy(grown, ids, 320)   # no EOS check: the cache must fill past its first capacity
    b = _greedy(full, ids, 320)
    assert grown.cache.pos == len(ids) + 319 > 256 and grown.cache.capacity >= grown.cache.pos
    assert a == b
