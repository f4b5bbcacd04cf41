"""Architecture hyper-parameters, from GGUF metadata or a Hugging Face config.json.

One dataclass covers the families edgeai runs (llama, qwen2, gemma3, phi3): they are all
pre-norm decoder-only transformers with RoPE and grouped-query attention, and differ in a few
switches recorded here (biases, RoPE pair layout, norms around blocks, activation, scales).
"""
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from ..errors import ModelFileError, UnsupportedArchitectureError

SUPPORTED_ARCHS = ("llama", "qwen2", "gemma3", "phi3")
# HF model_type / architectures -> our arch name
_HF_ARCH = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2", "gemma3_text": "gemma3", "gemma3": "gemma3",
            "phi3": "phi3"}


@dataclass
class ModelConfig:
    """Hyper-parameters of one model.

    Attributes:
        arch: ``"llama" | "qwen2" | "gemma3" | "phi3"``.
        n_layer, d_model, n_head, n_kv_head, head_dim, d_ff, vocab_size, context_length: sizes.
        norm_eps: RMSNorm epsilon.
        rope_theta: RoPE base; rope_dim: rotated dims per head (<= head_dim).
        rope_neox: True if Q/K pairs are (i, i + rope_dim/2) ("rotate_half", HF/NeoX layout); False if
            pairs are adjacent (2i, 2i+1): llama.cpp stores llama-family Q/K rows permuted that way.
        rope_scale: linear position scale (positions are divided by it).
        rope_freq_factors: optional per-pair divisors of the inverse frequencies (llama3 scaling).
        rope_local_theta: RoPE base of sliding-window layers (gemma3).
        sliding_window: window of local layers (0: none); sliding_window_pattern: every n-th layer is global.
        attn_scale: softmax scale (default 1/sqrt(head_dim)).
        embed_scale: multiply token embeddings by this (gemma3: sqrt(d_model)).
        activation: ``"silu"`` or ``"gelu_tanh"`` (the gated FFN's gate activation).
        qk_norm: per-head RMSNorm of Q and K (gemma3). post_norms: norms after attention and FFN (gemma3).
        final_softcap: tanh soft-capping of logits (0: none).
        tied_embeddings: the output head is the token embedding.
    """

    arch: str
    n_layer: int
    d_model: int
    n_head: int
    n_kv_head: int
    head_dim: int
    d_ff: int
    vocab_size: int
    context_length: int
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    rope_dim: int = 0
    rope_neox: bool = False
    rope_scale: float = 1.0
    rope_freq_factors: Optional[Any] = None
    rope_local_theta: float = 10000.0
    sliding_window: int = 0
    sliding_window_pattern: int = 0
    attn_scale: float = 0.0
    embed_scale: float = 1.0
    activation: str = "silu"
    qk_norm: bool = False
    post_norms: bool = False
    final_softcap: float = 0.0
    tied_embeddings: bool = False
    extra: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not self.rope_dim:
            self.rope_dim = self.head_dim
        if not self.attn_scale:
            self.attn_scale = 1.0 / math.sqrt(self.head_dim)
        for name in ("n_layer", "d_model", "n_head", "n_kv_head", "head_dim", "d_ff", "vocab_size", "context_length"):
            if int(getattr(self, name)) <= 0:
                raise ModelFileError(f"model config: {name} must be positive, got {getattr(self, name)}")
        if self.n_head % self.n_kv_head:
            raise ModelFileError(f"model config: {self.n_head} heads is not a multiple of {self.n_kv_head} KV heads")

    @property
    def q_dim(self) -> int:
        return self.n_head * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.n_kv_head * self.head_dim

    def is_local_layer(self, layer: int) -> bool:
        """True if ``layer`` uses sliding-window attention (gemma3: all but every n-th layer)."""
        if not self.sliding_window or not self.sliding_window_pattern:
            return False
        return (layer + 1) % self.sliding_window_pattern != 0


def check_arch(arch: str, where: str) -> str:
    if arch not in SUPPORTED_ARCHS:
        raise UnsupportedArchitectureError(
            f"{where}: architecture {arch!r} is not supported; edgeai runs {', '.join(SUPPORTED_ARCHS)}")
    return arch


def config_from_gguf(meta: Dict[str, Any], where: str = "GGUF") -> ModelConfig:
    """Read the hyper-parameters from GGUF metadata (keys ``<arch>.block_count`` etc.).

    Raises:
        UnsupportedArchitectureError: ``general.architecture`` is not one edgeai runs.
        ModelFileError: a required key is missing.
    """
    arch = meta.get("general.architecture")
    if arch is None:
        raise ModelFileError(f"{where}: no general.architecture in the metadata")
    check_arch(arch, where)

    def need(key):
        v = meta.get(f"{arch}.{key}")
        if v is None:
            raise ModelFileError(f"{where}: missing metadata key {arch}.{key}")
        return v

    def opt(key, default):
        return meta.get(f"{arch}.{key}", default)

    d_model, n_head = int(need("embedding_length")), int(need("attention.head_count"))
    n_kv = opt("attention.head_count_kv", n_head)
    head_dim = int(opt("attention.key_length", d_model // n_head))
    vocab = opt("vocab_size", None)
    if vocab is None:
        toks = meta.get("tokenizer.ggml.tokens")
        vocab = len(toks) if toks is not None else 0
    scale_type = opt("rope.scaling.type", "none")
    rope_scale = float(opt("rope.scaling.factor", 1.0)) if scale_type == "linear" else 1.0
    cfg = ModelConfig(
        arch=arch, n_layer=int(need("block_count")), d_model=d_model, n_head=n_head, n_kv_head=int(n_kv),
        head_dim=head_dim, d_ff=int(need("feed_forward_length")), vocab_size=int(vocab),
        context_length=int(opt("context_length", 2048)),
        norm_eps=float(opt("attention.layer_norm_rms_epsilon", 1e-5)),
        rope_theta=float(opt("rope.freq_base", 10000.0)), rope_dim=int(opt("rope.dimension_count", head_dim)),
        rope_neox=arch != "llama", rope_scale=rope_scale)
    if arch == "gemma3":
        _gemma3(cfg, int(opt("attention.sliding_window", 0)))
        cfg.sliding_window_pattern = int(opt("attention.sliding_window_pattern", 6))
        cfg.rope_local_theta = float(opt("rope.local_freq_base", 10000.0))
    if opt("attention.scale", None) is not None:
        cfg.attn_scale = float(opt("attention.scale", None))
    return cfg


def _gemma3(cfg: ModelConfig, window: int) -> None:
    # Gemma 3: sqrt(d) embedding scale, GELU(tanh) gate, per-head Q/K norms, norms after each block,
    # 5 of every 6 layers attend in a sliding window with their own RoPE base (10k).
    cfg.embed_scale = math.sqrt(cfg.d_model)
    cfg.activation = "gelu_tanh"
    cfg.qk_norm = True
    cfg.post_norms = True
    cfg.sliding_window = window
    cfg.sliding_window_pattern = 6
    cfg.rope_local_theta = 10000.0
    cfg.norm_eps = cfg.norm_eps or 1e-6


def llama3_freq_factors(rope_dim: int, theta: float, scaling: Dict[str, Any]):
    """Per-pair divisors of the RoPE inverse frequencies for ``rope_type: llama3`` scaling.

    Long wavelengths are slowed by ``factor``, short ones kept, and the band between is blended
    (Llama 3.1 model card / HF ``_compute_llama3_parameters``).

    Returns:
        float32 array of ``rope_dim // 2`` factors.
    """
    import numpy as np
    factor = float(scaling.get("factor", 8.0))
    low, high = float(scaling.get("low_freq_factor", 1.0)), float(scaling.get("high_freq_factor", 4.0))
    old_ctx = float(scaling.get("original_max_position_embeddings", 8192))
    inv = theta ** (-np.arange(0, rope_dim, 2, dtype=np.float64) / rope_dim)
    wavelen = 2 * math.pi / inv
    low_wl, high_wl = old_ctx / low, old_ctx / high
    smooth = (old_ctx / wavelen - low) / (high - low)
    out = np.where(wavelen < high_wl, 1.0, np.where(wavelen > low_wl, factor, 1.0 / ((1 - smooth) / factor + smooth)))
    return out.astype(np.float32)


def _window_pattern(hf: Dict[str, Any], n_layer: int, where: str) -> int:
    """Every n-th layer attends globally: n from ``sliding_window_pattern`` or ``layer_types``."""
    types = hf.get("layer_types")
    if not types:
        return int(hf.get("sliding_window_pattern") or hf.get("_sliding_window_pattern") or 6)
    if "full_attention" not in types:
        return n_layer + 1  # every layer local
    p = types.index("full_attention") + 1
    want = ["full_attention" if (i + 1) % p == 0 else "sliding_attention" for i in range(len(types))]
    if list(types) != want:
        raise UnsupportedArchitectureError(f"{where}: layer_types {types} are not a repeating local/global pattern")
    return p


def config_from_hf(hf: Dict[str, Any], where: str = "config.json") -> ModelConfig:
    """Read the hyper-parameters from a Hugging Face ``config.json`` dict.

    Raises:
        UnsupportedArchitectureError: the model_type is not one edgeai runs.
    """
    mt = hf.get("model_type")
    if mt == "gemma3" and "text_config" in hf:
        hf = dict(hf["text_config"], model_type="gemma3_text")
        mt = "gemma3_text"
    arch = _HF_ARCH.get(mt)
    if arch is None:
        archs = hf.get("architectures") or []
        raise UnsupportedArchitectureError(
            f"{where}: architecture {mt or archs!r} is not supported; edgeai runs {', '.join(SUPPORTED_ARCHS)}")
    try:
        d, n_head = int(hf["hidden_size"]), int(hf["num_attention_heads"])
        head_dim = int(hf.get("head_dim") or d // n_head)
        rope = hf.get("rope_scaling") or hf.get("rope_parameters") or {}
        local_rope = {}
        if "full_attention" in rope:  # transformers 5: RoPE parameters per attention type
            rope, local_rope = rope["full_attention"], rope.get("sliding_attention", {})
        theta = float(hf.get("rope_theta") or rope.get("rope_theta") or 10000.0)
        partial = float(hf.get("partial_rotary_factor") or rope.get("partial_rotary_factor") or 1.0)
        cfg = ModelConfig(
            arch=arch, n_layer=int(hf["num_hidden_layers"]), d_model=d, n_head=n_head,
            n_kv_head=int(hf.get("num_key_value_heads") or n_head), head_dim=head_dim,
            d_ff=int(hf["intermediate_size"]), vocab_size=int(hf["vocab_size"]),
            context_length=int(hf.get("max_position_embeddings", 2048)),
            norm_eps=float(hf.get("rms_norm_eps", 1e-6)), rope_theta=theta,
            rope_dim=int(head_dim * partial),
            # our GGUF writer permutes llama Q/K rows to llama.cpp's adjacent-pair layout
            rope_neox=arch != "llama",
            tied_embeddings=bool(hf.get("tie_word_embeddings", arch == "gemma3")))
    except KeyError as e:
        raise ModelFileError(f"{where}: missing key {e.args[0]}") from None
    rtype = rope.get("rope_type") or rope.get("type") or "default"
    if rtype == "llama3":
        cfg.rope_freq_factors = llama3_freq_factors(cfg.rope_dim, theta, rope)
    elif rtype == "linear":
        cfg.rope_scale = float(rope.get("factor", 1.0))
    elif rtype not in ("default", None):
        raise UnsupportedArchitectureError(f"{where}: RoPE scaling {rtype!r} is not supported")
    if arch == "gemma3":
        _gemma3(cfg, int(hf.get("sliding_window") or 0))
        cfg.sliding_window_pattern = _window_pattern(hf, cfg.n_layer, where)
        cfg.rope_local_theta = float(hf.get("rope_local_base_freq") or local_rope.get("rope_theta") or 10000.0)
        cfg.attn_scale = float(hf.get("query_pre_attn_scalar") or head_dim) ** -0.5
        cfg.final_softcap = float(hf.get("final_logit_softcapping") or 0.0)
    return cfg
