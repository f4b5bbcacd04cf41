"""The weights of a decoder-only transformer, mapped from GGUF tensor names, in place.

Matrices stay :class:`QuantizedTensor` views of the file's memmap (the kernels read them there);
norm weights and biases are small and become float32 arrays. Fused tensors (phi3's ``attn_qkv``
and gate+up ``ffn_up``) are split into row ranges, which for row-major block formats are views too.
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from ..errors import FormatError, ModelFileError
from ..formats import format_info
from ..tensor import QuantizedTensor
from .config import ModelConfig
from .gguf import GGUFFile


@dataclass
class LayerWeights:
    """One transformer block. Matrices are (out, in): ``y = x @ W^T``."""

    attn_norm: np.ndarray                 # (d,)
    wq: QuantizedTensor                   # (n_head*hd, d)
    wk: QuantizedTensor                   # (n_kv*hd, d)
    wv: QuantizedTensor                   # (n_kv*hd, d)
    wo: QuantizedTensor                   # (d, n_head*hd)
    ffn_norm: np.ndarray                  # (d,)
    w_gate: QuantizedTensor               # (ff, d)
    w_up: QuantizedTensor                 # (ff, d)
    w_down: QuantizedTensor               # (d, ff)
    bq: Optional[np.ndarray] = None       # qwen2 biases
    bk: Optional[np.ndarray] = None
    bv: Optional[np.ndarray] = None
    q_norm: Optional[np.ndarray] = None   # gemma3 per-head norms (hd,)
    k_norm: Optional[np.ndarray] = None
    post_attn_norm: Optional[np.ndarray] = None  # gemma3 norms after attention / FFN (d,)
    post_ffn_norm: Optional[np.ndarray] = None


@dataclass
class ModelWeights:
    tok_embd: QuantizedTensor             # (vocab, d)
    output_norm: np.ndarray               # (d,)
    output: QuantizedTensor               # (vocab, d); the embedding when tied
    layers: List[LayerWeights]
    rope_freq_factors: Optional[np.ndarray] = None


def _rows(t: QuantizedTensor, r0: int, r1: int) -> QuantizedTensor:
    """Rows [r0, r1) of a 2-D tensor, as a view."""
    row = t.fmt.row_nbytes(t.shape[-1])
    return QuantizedTensor(t.data[r0 * row:r1 * row], t.fmt, (r1 - r0, t.shape[-1]))


def has_kernel(fmt_name: str) -> bool:
    """True if this build has a matmul kernel for weights of this format."""
    from .. import _C
    return _C.dispatch("dot", format_info(fmt_name).type_id) is not None


def float_view(t: QuantizedTensor) -> Optional[np.ndarray]:
    """A float32 array of a float-format tensor (f32: a view; f16/bf16: converted), else None."""
    if t.fmt.name == "f32":
        return t.data.view(np.float32).reshape(t.shape)
    if t.fmt.name == "f16":
        return t.data.view(np.float16).reshape(t.shape).astype(np.float32)
    if t.fmt.name == "bf16":
        return (t.data.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(t.shape)
    return None


def embed_rows(t: QuantizedTensor, ids: np.ndarray) -> np.ndarray:
    """Rows ``ids`` of an embedding table as float32 (T, d)."""
    from .. import _C
    if t.fmt.name in ("f16", "bf16") and _C.dispatch("dequantize", t.fmt.type_id) is None:
        row = t.fmt.row_nbytes(t.shape[-1])
        packed = QuantizedTensor(np.ascontiguousarray(t.data.reshape(t.shape[0], row)[ids]).reshape(-1), t.fmt,
                                 (len(ids), t.shape[-1]))
        return float_view(packed)
    return t.dequantize_rows(ids)


def usable(t: QuantizedTensor, where: str) -> QuantizedTensor:
    """``t`` itself if the kernels multiply its format, else a float32 copy (dequantized once).

    Raises:
        FormatError: the format can be neither multiplied nor dequantized by this build.
    """
    if has_kernel(t.fmt.name):
        return t
    from .. import _C
    dense = float_view(t)
    if dense is not None:
        pass
    elif _C.dispatch("dequantize", t.fmt.type_id) is not None:
        dense = t.dequantize()
    else:
        raise FormatError(f"{where}: this edgeai build (ISA cap {_C.get_isa_cap() or 'none'}) has no kernel "
                          f"for {t.fmt.name} weights")
    return QuantizedTensor(dense.reshape(-1).view(np.uint8), "f32", t.shape)


def load_weights(g: GGUFFile, cfg: ModelConfig) -> ModelWeights:
    """Map the tensors of a GGUF file onto :class:`ModelWeights`, checking every shape.

    Raises:
        ModelFileError: a tensor is missing or has the wrong shape.
    """

    def mat(name, shape):
        t = g.tensor(name)
        if t.shape != tuple(shape):
            raise ModelFileError(f"{g.path}: tensor {name} has shape {t.shape}, expected {tuple(shape)}")
        return usable(t, f"{g.path}: {name}")

    def vec(name, n, required=True):
        if name not in g:
            if required:
                raise ModelFileError(f"{g.path}: missing tensor {name}")
            return None
        t = g.tensor(name)
        a = float_view(t)
        a = (t.dequantize() if a is None else a).reshape(-1)
        if a.size != n:
            raise ModelFileError(f"{g.path}: tensor {name} has {a.size} elements, expected {n}")
        return np.ascontiguousarray(a, dtype=np.float32)

    d, hd, ff = cfg.d_model, cfg.head_dim, cfg.d_ff
    qd, kvd = cfg.q_dim, cfg.kv_dim
    tok = g.tensor("token_embd.weight")
    if tok.shape != (cfg.vocab_size, d):
        raise ModelFileError(f"{g.path}: token_embd.weight has shape {tok.shape}, expected {(cfg.vocab_size, d)}")
    if "output.weight" in g:
        out = mat("output.weight", (cfg.vocab_size, d))
        cfg.tied_embeddings = False
    else:
        out = usable(tok, f"{g.path}: token_embd.weight")
        cfg.tied_embeddings = True
    layers = []
    for i in range(cfg.n_layer):
        p = f"blk.{i}."
        if p + "attn_qkv.weight" in g:  # phi3: q, k, v stacked by rows
            qkv = mat(p + "attn_qkv.weight", (qd + 2 * kvd, d))
            wq, wk, wv = _rows(qkv, 0, qd), _rows(qkv, qd, qd + kvd), _rows(qkv, qd + kvd, qd + 2 * kvd)
        else:
            wq, wk, wv = mat(p + "attn_q.weight", (qd, d)), mat(p + "attn_k.weight", (kvd, d)), \
                mat(p + "attn_v.weight", (kvd, d))
        if p + "ffn_gate.weight" in g:
            gate, up = mat(p + "ffn_gate.weight", (ff, d)), mat(p + "ffn_up.weight", (ff, d))
        else:  # phi3: gate and up stacked in ffn_up, gate first
            gu = mat(p + "ffn_up.weight", (2 * ff, d))
            gate, up = _rows(gu, 0, ff), _rows(gu, ff, 2 * ff)
        layers.append(LayerWeights(
            attn_norm=vec(p + "attn_norm.weight", d), wq=wq, wk=wk, wv=wv,
            wo=mat(p + "attn_output.weight", (d, qd)), ffn_norm=vec(p + "ffn_norm.weight", d),
            w_gate=gate, w_up=up, w_down=mat(p + "ffn_down.weight", (d, ff)),
            bq=vec(p + "attn_q.bias", qd, False), bk=vec(p + "attn_k.bias", kvd, False),
            bv=vec(p + "attn_v.bias", kvd, False),
            q_norm=vec(p + "attn_q_norm.weight", hd, cfg.qk_norm), k_norm=vec(p + "attn_k_norm.weight", hd, cfg.qk_norm),
            post_attn_norm=vec(p + "post_attention_norm.weight", d, cfg.post_norms),
            post_ffn_norm=vec(p + "post_ffw_norm.weight", d, cfg.post_norms)))
    factors = vec("rope_freqs.weight", cfg.rope_dim // 2, False)
    if factors is None and cfg.rope_freq_factors is not None:
        factors = np.asarray(cfg.rope_freq_factors, np.float32)
    return ModelWeights(tok_embd=tok, output_norm=vec("output_norm.weight", d), output=out, layers=layers,
                        rope_freq_factors=factors)
