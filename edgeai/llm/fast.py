"""The C decode step (kernels/model/llama-forward.c) wired to a model's weights and KV cache."""
from typing import Optional

import numpy as np

from .. import _C
from .config import ModelConfig
from .model import KVCache
from .weights import ModelWeights


def _mat(t):
    # (type id, bytes, rows, k): the C side reads the GGUF memmap in place
    return (t.fmt.type_id, t.data, t.shape[0], t.shape[-1])


class FastDecoder:
    """Runs one token through the whole model in C: no Python between the kernels."""

    def __init__(self, cfg: ModelConfig, w: ModelWeights, cache: KVCache):
        c = {"n_layer": cfg.n_layer, "d": cfg.d_model, "n_head": cfg.n_head, "n_kv": cfg.n_kv_head,
             "hd": cfg.head_dim, "ff": cfg.d_ff, "vocab": cfg.vocab_size, "n_ctx": cache.capacity,
             "rope_dim": cfg.rope_dim, "rope_neox": int(cfg.rope_neox), "act_gelu": int(cfg.activation == "gelu_tanh"),
             "sliding_window": cfg.sliding_window, "sw_pattern": cfg.sliding_window_pattern, "eps": cfg.norm_eps,
             "rope_theta": cfg.rope_theta, "rope_scale": cfg.rope_scale, "rope_local_theta": cfg.rope_local_theta,
             "attn_scale": cfg.attn_scale, "embed_scale": cfg.embed_scale, "final_softcap": cfg.final_softcap}
        layers = []
        for L in w.layers:
            layers.append({"attn_norm": L.attn_norm, "ffn_norm": L.ffn_norm, "wq": _mat(L.wq), "wk": _mat(L.wk),
                           "wv": _mat(L.wv), "wo": _mat(L.wo), "gate": _mat(L.w_gate), "up": _mat(L.w_up),
                           "down": _mat(L.w_down), "bq": L.bq, "bk": L.bk, "bv": L.bv, "q_norm": L.q_norm,
                           "k_norm": L.k_norm, "post_attn_norm": L.post_attn_norm, "post_ffn_norm": L.post_ffn_norm})
        self._dec = _C.LLMDecoder(c, _mat(w.tok_embd), _mat(w.output), w.output_norm, layers, cache.k, cache.v,
                                  w.rope_freq_factors)
        self._logits = np.empty(cfg.vocab_size, dtype=np.float32)

    @classmethod
    def create(cls, cfg: ModelConfig, w: ModelWeights, cache: KVCache) -> Optional["FastDecoder"]:
        """A decoder, or None if the C path cannot run this model (the numpy path then decodes)."""
        try:
            return cls(cfg, w, cache)
        except ValueError:
            return None

    def step(self, token: int, pos: int, threads: Optional[int] = None) -> np.ndarray:
        """Logits (vocab,) of ``token`` at ``pos``; its keys/values land in the cache.

        The returned array is reused by the next call: copy it to keep it.
        """
        self._dec.decode(token, pos, self._logits, threads or 0)
        return self._logits
