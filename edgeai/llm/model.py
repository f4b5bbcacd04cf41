"""The transformer forward pass, in numpy over the edgeai kernels (read it top to bottom).

Every matrix product is ``edgeai.matmul(x, W)`` with W the quantized tensor of the file, used in
place: M = T > 1 rows (prefill) take the GEMM path, M = 1 (decode) the GEMV path. The decode step
also exists in C (``kernels/model/llama-forward.c``, see :mod:`edgeai.llm.fast`), which runs the
same computation without Python between the kernels; this module is its readable twin and the
prefill path.
"""
import contextlib
import math
from typing import List, Optional

import numpy as np

from .. import _C
from ..tensor import matmul, matmul_group
from .config import ModelConfig
from .weights import ModelWeights, embed_rows


_BLAS = None


def blas_single_thread():
    """A context in which numpy's BLAS runs on one thread.

    edgeai's pool already keeps every core busy; OpenBLAS's own threads would then spin against it
    (measured here: a (3, 384, 64) @ (3, 64, 128) batched matmul takes 23 ms with 2 BLAS threads on
    a busy 2-core machine, 0.2 ms with one).
    """
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS = ThreadpoolController()
        except ImportError:
            _BLAS = False
    return _BLAS.limit(limits=1, user_api="blas") if _BLAS else contextlib.nullcontext()


class KVCache:
    """Keys and values of every layer, for up to ``n_ctx`` positions.

    The arrays start at ``capacity`` positions and grow (doubling, up to ``n_ctx``) as the context
    fills: a fresh process would otherwise fault in and zero the whole cache on its first prompt,
    because the transposed V layout touches every page of it (94 MB and ~0.1-0.3 s for a 4096-token
    SmolLM2 cache), which is most of the time to first token.

    Attributes:
        k: (n_layer, n_kv_head, capacity, head_dim); v: (n_layer, n_kv_head, head_dim, capacity), stored
            transposed so that attention's weighted sum over positions is one dot product per
            dimension. float16 by default: half the memory (and the bandwidth decode spends on them).
        n_ctx: the most positions the cache may grow to.
        capacity: positions allocated now.
        pos: number of positions filled.
    """

    def __init__(self, cfg: ModelConfig, n_ctx: int, dtype=np.float16, capacity: Optional[int] = None):
        self.n_ctx = int(n_ctx)
        self._dims = (cfg.n_layer, cfg.n_kv_head, cfg.head_dim)
        self._dtype = np.dtype(dtype)
        cap = self.n_ctx if capacity is None else max(1, min(self.n_ctx, int(capacity)))
        self.k, self.v = self._arrays(cap)
        self.pos = 0

    def _arrays(self, cap: int):
        L, kv, hd = self._dims
        return (np.zeros((L, kv, cap, hd), dtype=self._dtype), np.zeros((L, kv, hd, cap), dtype=self._dtype))

    @property
    def capacity(self) -> int:
        return self.k.shape[2]

    def reserve(self, n: int) -> bool:
        """Make room for ``n`` positions (at most ``n_ctx``), keeping the filled ones.

        Args:
            n: positions needed.
        Returns:
            True if the arrays were reallocated (holders of the old arrays must take the new ones).
        """
        cap = self.capacity
        if n <= cap or cap >= self.n_ctx:
            return False
        new_cap = min(self.n_ctx, max(n, 2 * cap))
        k, v = self._arrays(new_cap)
        k[:, :, :self.pos] = self.k[:, :, :self.pos]
        v[..., :self.pos] = self.v[..., :self.pos]
        self.k, self.v = k, v
        return True

    @property
    def nbytes(self) -> int:
        """Bytes allocated now."""
        return self.k.nbytes + self.v.nbytes

    @property
    def max_nbytes(self) -> int:
        """Bytes at the full ``n_ctx``."""
        return self.nbytes // self.capacity * self.n_ctx


def rmsnorm(x: np.ndarray, w: np.ndarray, eps: float, threads: Optional[int] = None) -> np.ndarray:
    """x (..., n) -> x / rms(x) * w, per row.

    In C on the kernel pool (kernels/model/norm.c): the decode step's own function, so prefill and
    decode norm a row to the same bits; numpy's mean, sqrt and two multiplies over (T, d) ran on one
    thread (~3% of a 2-thread TinyLlama-shape prefill).

    Args:
        x: (..., n) activations; w: (n,) weights; eps: added to the mean square.
        threads: kernel threads (None: the global count).
    Returns:
        float32 array of x's shape.
    """
    return _C.rmsnorm(np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(w, dtype=np.float32),
                      float(eps), threads or 0)


def rope_tables(cfg: ModelConfig, positions: np.ndarray, theta: float, scale: float,
                factors: Optional[np.ndarray]):
    """cos, sin of shape (T, rope_dim/2) for the given positions."""
    half = cfg.rope_dim // 2
    inv = theta ** (-np.arange(0, half, dtype=np.float64) * 2.0 / cfg.rope_dim)
    if factors is not None:
        inv = inv / factors.astype(np.float64)
    ang = (positions.astype(np.float64)[:, None] / scale) * inv[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, rope_dim: int, neox: bool,
               threads: Optional[int] = None) -> None:
    """Rotate x (T, heads, hd) in place. Pairs are (i, i+rope_dim/2) if neox, else (2i, 2i+1).

    Args:
        x: (T, heads, hd); float32 C-contiguous (what forward_pass passes) goes through the C decode
            step's ea_rope on the kernel pool (numpy's strided pair updates took ~9-11 ms of a 2-thread
            TinyLlama-shape prefill), anything else through numpy.
        cos, sin: (T, rope_dim / 2) float32.
        threads: pool threads (None: the global count).
    """
    if (x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable and cos.dtype == np.float32
            and sin.dtype == np.float32):
        _C.rope(x, np.ascontiguousarray(cos), np.ascontiguousarray(sin), rope_dim, neox, threads or 0)
        return
    c, s = cos[:, None, :], sin[:, None, :]
    if neox:
        half = rope_dim // 2
        a, b = x[..., :half].copy(), x[..., half:rope_dim].copy()
        x[..., :half] = a * c - b * s
        x[..., half:rope_dim] = a * s + b * c
    else:
        a, b = x[..., 0:rope_dim:2].copy(), x[..., 1:rope_dim:2].copy()
        x[..., 0:rope_dim:2] = a * c - b * s
        x[..., 1:rope_dim:2] = a * s + b * c


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(np.float32(math.sqrt(2.0 / math.pi)) * (x + np.float32(0.044715) * x * x * x)))


def attention(q: np.ndarray, kc: np.ndarray, vc: np.ndarray, pos0: int, cfg: ModelConfig,
              window: int) -> np.ndarray:
    """Causal grouped-query attention of T new queries over the cache.

    Args:
        q: (T, n_head, hd) rotated queries at positions pos0 .. pos0+T-1.
        kc: (n_kv, S, hd) keys of positions 0 .. S-1, S = pos0 + T; vc: (n_kv, hd, S) values.
        window: sliding window (0: none): a query sees keys at distance < window.
    Returns:
        (T, n_head * hd).
    """
    T, H, hd = q.shape
    kvh, S = kc.shape[0], kc.shape[1]
    g = H // kvh
    # heads h = kv * g + j share kv head `kv`
    qg = np.ascontiguousarray(q.transpose(1, 0, 2)).reshape(kvh, g * T, hd)  # (kv, g*T, hd)
    kt = np.ascontiguousarray(kc.transpose(0, 2, 1), dtype=np.float32)      # (kv, hd, S)
    scores = np.matmul(qg, kt)                                              # (kv, g*T, S)
    scores *= np.float32(cfg.attn_scale)  # in place: one (kv, g*T, S) array at a time, not two
    scores = scores.reshape(kvh, g, T, S)
    qpos = pos0 + np.arange(T)[:, None]
    kpos = np.arange(S)[None, :]
    masked = kpos > qpos
    if window:
        masked |= (qpos - kpos) >= window
    scores[:, :, masked] = -np.inf
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores, out=scores)
    p /= p.sum(axis=-1, keepdims=True)
    vt = np.ascontiguousarray(vc.transpose(0, 2, 1), dtype=np.float32)      # (kv, S, hd)
    out = np.matmul(p.reshape(kvh, g * T, S), vt)                           # (kv, g*T, hd)
    return np.ascontiguousarray(out.reshape(H, T, hd).transpose(1, 0, 2)).reshape(T, H * hd)


PREFILL_SCORES_BYTES = 8 << 20  # attention scores of one prefill batch, (n_head, T, S) float32


def prefill_batch(cfg: ModelConfig, s_max: int) -> int:
    """Tokens per prefill batch, so that one batch's attention scores stay within PREFILL_SCORES_BYTES.

    A 1500-token prompt in one batch makes SmolLM2's scores (9, 1500, 1500) float32: 81 MB; measured,
    the prefill's peak RSS was file + KV cache + ~150 MB over the process before it. At 8192 tokens
    the scores would be 2.4 GB. With 8 MB batches (155 tokens there) it is file + KV cache + ~15 MB,
    and the prefill ran ~1.5x faster (the scores stay in cache). Batches of >= 64 tokens keep the
    GEMM path's rows full.

    Args:
        cfg: the model's config.
        s_max: context length at the end of the prompt (cache position + prompt tokens).
    Returns:
        batch size in tokens (>= 64).
    """
    return max(64, PREFILL_SCORES_BYTES // (4 * cfg.n_head * max(int(s_max), 1)))


def forward(cfg: ModelConfig, w: ModelWeights, tokens: np.ndarray, cache: KVCache, *, all_logits: bool = False,
            threads: Optional[int] = None) -> np.ndarray:
    """Run ``tokens`` at positions ``cache.pos ..`` (see :func:`forward_pass`) with numpy's BLAS on one
    thread, in batches of :func:`prefill_batch` tokens (each batch attends to the cache the earlier
    ones filled, so the result is that of one batch up to float rounding)."""
    step = prefill_batch(cfg, cache.pos + len(tokens))
    if len(tokens) > step:
        outs = [forward(cfg, w, tokens[a:a + step], cache, all_logits=all_logits, threads=threads)
                for a in range(0, len(tokens), step)]
        return np.concatenate(outs) if all_logits else outs[-1]
    # only the numpy attention (f32 caches) calls BLAS; its largest products are (g*T, hd) x (hd, S)
    # with S = cache.pos + T: OpenBLAS runs products of up to 65536 * 4 multiply-adds on one thread
    # anyway, and finding its thread control (threadpoolctl scans the loaded libraries, ~40 ms) is
    # then time to first token lost
    T, S = len(tokens), cache.pos + len(tokens)
    small = (cache.k.dtype == np.float16
             or (cfg.n_head // max(cfg.n_kv_head, 1)) * T * S * cfg.head_dim <= 65536 * 4)
    with contextlib.nullcontext() if small else blas_single_thread():
        return forward_pass(cfg, w, tokens, cache, all_logits=all_logits, threads=threads)


def _project(h: np.ndarray, ws, threads: Optional[int]) -> List[np.ndarray]:
    """``[h @ W^T for W in ws]``: one ``matmul_group`` when the weights share a format (h quantized
    once, one pool job: a 64-token TinyLlama prefill's K and V tiles grow from 16 to 160 rows), else
    one matmul each (a GGUF may store V in a different format from Q and K)."""
    if len({W.fmt.name for W in ws}) == 1:
        return matmul_group(h, ws, threads=threads)
    return [matmul(h, W, threads=threads) for W in ws]


def forward_pass(cfg: ModelConfig, w: ModelWeights, tokens: np.ndarray, cache: KVCache, *, all_logits: bool = False,
                 threads: Optional[int] = None) -> np.ndarray:
    """Run ``tokens`` at positions ``cache.pos ..`` and append their keys/values to the cache.

    Args:
        tokens: (T,) int token ids.
        cache: the KV cache; ``cache.pos`` advances by T.
        all_logits: return logits of every position, else of the last only.
        threads: kernel threads.
    Returns:
        float32 logits (T, vocab) or (1, vocab).
    """
    T = len(tokens)
    pos0 = cache.pos
    H, KV, hd = cfg.n_head, cfg.n_kv_head, cfg.head_dim
    positions = np.arange(pos0, pos0 + T)
    cos_g, sin_g = rope_tables(cfg, positions, cfg.rope_theta, cfg.rope_scale, w.rope_freq_factors)
    if cfg.sliding_window:
        cos_l, sin_l = rope_tables(cfg, positions, cfg.rope_local_theta, 1.0, None)

    x = embed_rows(w.tok_embd, tokens)                                      # (T, d)
    if cfg.embed_scale != 1.0:
        x *= np.float32(cfg.embed_scale)
    for li, L in enumerate(w.layers):
        local = cfg.is_local_layer(li)
        # ---- attention
        h = rmsnorm(x, L.attn_norm, cfg.norm_eps, threads)                   # (T, d)
        # (T, d) @ Wq (H*hd, d)^T -> (T, H*hd); K, V -> (T, KV*hd): h quantized once, one pool job
        q, k, v = _project(h, (L.wq, L.wk, L.wv), threads)
        if L.bq is not None:
            q += L.bq
            k += L.bk
            v += L.bv
        q, k, v = q.reshape(T, H, hd), k.reshape(T, KV, hd), v.reshape(T, KV, hd)
        if cfg.qk_norm:
            q = rmsnorm(q, L.q_norm, cfg.norm_eps, threads)
            k = rmsnorm(k, L.k_norm, cfg.norm_eps, threads)
        cos, sin = (cos_l, sin_l) if local else (cos_g, sin_g)
        apply_rope(q, cos, sin, cfg.rope_dim, cfg.rope_neox, threads)
        apply_rope(k, cos, sin, cfg.rope_dim, cfg.rope_neox, threads)
        cache.k[li, :, pos0:pos0 + T] = k.transpose(1, 0, 2)                 # (KV, T, hd)
        cache.v[li, :, :, pos0:pos0 + T] = v.transpose(1, 2, 0)              # (KV, hd, T)
        window = cfg.sliding_window if local else 0
        if cache.k.dtype == np.float16:
            # the same attention in C on the kernel pool (kernels/model/attn-prefill.c): numpy's ran
            # on one thread, ~10% of a 2-thread TinyLlama-shape prefill
            att = _C.attention_prefill(np.ascontiguousarray(q, dtype=np.float32), cache.k[li], cache.v[li], pos0,
                                       window, cfg.attn_scale, threads or 0)  # (T, H*hd)
        else:
            att = attention(q, cache.k[li, :, :pos0 + T], cache.v[li, :, :, :pos0 + T], pos0, cfg, window)
        o = matmul(att, L.wo, threads=threads)                               # (T, H*hd) @ Wo (d, H*hd)^T -> (T, d)
        if cfg.post_norms:
            o = rmsnorm(o, L.post_attn_norm, cfg.norm_eps, threads)
        x += o
        # ---- gated feed-forward
        h = rmsnorm(x, L.ffn_norm, cfg.norm_eps, threads)
        gate, up = _project(h, (L.w_gate, L.w_up), threads)                  # (T, d) @ (ff, d)^T -> (T, ff) each
        if cfg.activation == "gelu_tanh":
            act = np.ascontiguousarray(gelu_tanh(gate) * up, dtype=np.float32)
        else:
            # silu(gate) * up in C on the kernel pool (the decode step's function: same bits), in place:
            # numpy's exp and divides over (T, ff) were ~4% of a TinyLlama prefill on one thread
            act = np.ascontiguousarray(gate, dtype=np.float32)
            _C.silu_mul(act, np.ascontiguousarray(up, dtype=np.float32), threads or 0)
        f = matmul(act, L.w_down, threads=threads)                           # (T, ff) @ (d, ff)^T -> (T, d)
        if cfg.post_norms:
            f = rmsnorm(f, L.post_ffn_norm, cfg.norm_eps, threads)
        x += f
    cache.pos = pos0 + T
    if not all_logits:
        x = x[-1:]
    x = np.ascontiguousarray(rmsnorm(x, w.output_norm, cfg.norm_eps, threads), dtype=np.float32)
    logits = matmul(x, w.output, threads=threads)                            # (T, d) @ (vocab, d)^T -> (T, vocab)
    if cfg.final_softcap:
        logits = np.tanh(logits / cfg.final_softcap) * cfg.final_softcap
    return logits
