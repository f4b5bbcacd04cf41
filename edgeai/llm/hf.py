"""Hugging Face checkpoints: resolve a hub id or directory, quantize once, cache as GGUF.

A checkpoint (config.json, *.safetensors, tokenizer.json, tokenizer_config.json) is converted to
a GGUF file in the edgeai cache: matrices quantized to the requested format, norms and biases kept
in float32, llama Q/K rows permuted to llama.cpp's adjacent-pair RoPE layout, the tokenizer stored
whole as ``tokenizer.huggingface.json`` and the chat template as ``tokenizer.chat_template``. The
file is written atomically; the next load is an mmap of it.
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from .. import _env
from ..errors import FormatError, ModelFileError, ModelNotFoundError
from ..formats import format_info
from ..tensor import QuantizedTensor, quantize
from .config import ModelConfig, config_from_hf
from .gguf import T_FLOAT32, write_gguf
from .safetensors_file import open_checkpoint

QUANTS = ("q8_0", "q4_0", "q4_K", "f16")
_HF_FILES = ["config.json", "*.safetensors", "*.safetensors.index.json", "tokenizer.json", "tokenizer_config.json",
             "generation_config.json", "special_tokens_map.json"]
CONVERTER_VERSION = 1  # bump when the written GGUF changes meaning


def resolve_gguf(id_or_path: Union[str, os.PathLike], *, quant: str = "q8_0", revision: Optional[str] = None,
                 cache_dir=None, local_files_only: bool = False, token=None, progress: bool = False) -> Path:
    """The GGUF file to load for a GGUF path, an HF directory, or a hub id (converted if needed).

    Raises:
        ModelNotFoundError: not on disk and not in / reachable from the hub.
        UnsupportedArchitectureError, ModelFileError: see :func:`convert_hf_dir`.
    """
    p = Path(os.fspath(id_or_path)).expanduser()
    if p.is_file():
        return p
    if p.is_dir():
        ggufs = sorted(p.glob("*.gguf"))
        if (p / "config.json").is_file():
            return cached_conversion(p, quant, progress=progress)
        if len(ggufs) == 1:
            return ggufs[0]
        if ggufs:
            match = [g for g in ggufs if quant.lower() in g.name.lower()]
            if len(match) == 1:
                return match[0]
            raise ModelFileError(f"{p}: several GGUF files ({', '.join(g.name for g in ggufs)}); pass one")
        raise ModelNotFoundError(f"{p}: neither a GGUF file nor a Hugging Face model directory (no config.json)")
    s = str(id_or_path)
    if os.path.isabs(s) or s.startswith(".") or s.count("/") not in (1, 2) or s.endswith("/"):
        raise ModelNotFoundError(f"no such model file or directory: {s}")
    return _from_hub(s, quant=quant, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only,
                     token=token, progress=progress)


def _from_hub(repo: str, *, quant, revision, cache_dir, local_files_only, token, progress) -> Path:
    import huggingface_hub as hh
    from huggingface_hub import constants
    offline = local_files_only or bool(getattr(constants, "HF_HUB_OFFLINE", False))
    try:
        if repo.endswith(".gguf"):  # "org/name/file.gguf"
            org, name, fn = repo.split("/", 2)
            return Path(hh.hf_hub_download(f"{org}/{name}", fn, revision=revision, cache_dir=cache_dir,
                                           local_files_only=offline, token=token))
        snap = hh.snapshot_download(repo, revision=revision, cache_dir=cache_dir, local_files_only=offline,
                                    token=token, allow_patterns=_HF_FILES)
    except Exception as e:  # network, missing repo, missing local files: one clear error
        where = "in the local Hugging Face cache" if offline else "on the hub or in the local cache"
        raise ModelNotFoundError(f"model {repo!r} (revision {revision or 'main'}) not found {where}: "
                                 f"{type(e).__name__}: {e}") from e
    return resolve_gguf(snap, quant=quant, progress=progress)


def _fingerprint(d: Path) -> str:
    h = hashlib.sha256(f"{CONVERTER_VERSION}|{d.resolve()}".encode())
    for f in sorted(d.iterdir()):
        if f.is_file() and (f.suffix in (".json", ".safetensors")):
            st = f.stat()
            h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cached_conversion(d: Path, quant: str, *, cache_dir=None, progress: bool = False) -> Path:
    """The cached GGUF of HF directory ``d`` at ``quant``, converting it the first time."""
    if quant not in QUANTS:
        raise FormatError(f"quant must be one of {', '.join(QUANTS)}, not {quant!r}")
    root = Path(cache_dir) if cache_dir else _env.CACHE_DIR
    out = root / "hf-gguf" / f"{d.resolve().name}-{_fingerprint(d)}" / f"model-{quant}.gguf"
    if out.is_file():
        return out
    return convert_hf_dir(d, out, quant, progress=progress)


# ---- conversion ------------------------------------------------------------------------------

def _permute_rope(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF llama Q/K rows (rotate_half pairs i, i+hd/2) -> llama.cpp order (adjacent pairs 2i, 2i+1)."""
    rows, k = w.shape
    hd = rows // n_head
    return w.reshape(n_head, 2, hd // 2, k).swapaxes(1, 2).reshape(rows, k)


def _to_format(a: np.ndarray, quant: str) -> QuantizedTensor:
    a = np.ascontiguousarray(a, dtype=np.float32)
    if quant == "f16":
        return QuantizedTensor(a.astype(np.float16).reshape(-1).view(np.uint8), "f16", a.shape)
    info = format_info(quant)
    if a.shape[-1] % info.block_size:
        # rows that do not fill blocks stay f16 (exact layout, any length)
        return _to_format(a, "f16")
    return quantize(a, quant)


def _f32(a: np.ndarray) -> QuantizedTensor:
    a = np.ascontiguousarray(a, dtype=np.float32)
    return QuantizedTensor(a.reshape(-1).view(np.uint8), "f32", a.shape)


def _hf_to_gguf_names(cfg: ModelConfig, name: str) -> Optional[str]:
    if name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if name == "model.norm.weight":
        return "output_norm.weight"
    if name == "lm_head.weight":
        return "output.weight"
    if not name.startswith("model.layers."):
        return None
    rest = name[len("model.layers."):]
    idx, sub = rest.split(".", 1)
    table = {
        "input_layernorm.weight": "attn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
        "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
        "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.bias": "attn_k.bias",
        "self_attn.v_proj.bias": "attn_v.bias", "self_attn.qkv_proj.weight": "attn_qkv.weight",
        "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight", "mlp.gate_up_proj.weight": "ffn_up.weight",
    }
    if cfg.arch == "gemma3":
        table.update({"post_attention_layernorm.weight": "post_attention_norm.weight",
                      "pre_feedforward_layernorm.weight": "ffn_norm.weight",
                      "post_feedforward_layernorm.weight": "post_ffw_norm.weight"})
    else:
        table["post_attention_layernorm.weight"] = "ffn_norm.weight"
    g = table.get(sub)
    return f"blk.{idx}.{g}" if g else None


def _metadata(cfg: ModelConfig, d: Path, tok_json: str, tok_cfg: Dict) -> Dict:
    a = cfg.arch
    meta = {
        "general.architecture": a, "general.name": d.name, "general.file_type": 0,
        f"{a}.block_count": cfg.n_layer, f"{a}.context_length": cfg.context_length,
        f"{a}.embedding_length": cfg.d_model, f"{a}.feed_forward_length": cfg.d_ff,
        f"{a}.attention.head_count": cfg.n_head, f"{a}.attention.head_count_kv": cfg.n_kv_head,
        f"{a}.attention.key_length": cfg.head_dim, f"{a}.attention.value_length": cfg.head_dim,
        f"{a}.attention.layer_norm_rms_epsilon": float(cfg.norm_eps), f"{a}.rope.freq_base": float(cfg.rope_theta),
        f"{a}.rope.dimension_count": cfg.rope_dim, f"{a}.vocab_size": cfg.vocab_size,
        "tokenizer.huggingface.json": tok_json,
    }
    if cfg.rope_scale != 1.0:
        meta[f"{a}.rope.scaling.type"] = "linear"
        meta[f"{a}.rope.scaling.factor"] = float(cfg.rope_scale)
    if cfg.sliding_window:
        meta[f"{a}.attention.sliding_window"] = cfg.sliding_window
        meta[f"{a}.attention.sliding_window_pattern"] = cfg.sliding_window_pattern
        meta[f"{a}.rope.local_freq_base"] = float(cfg.rope_local_theta)
    if abs(cfg.attn_scale - cfg.head_dim ** -0.5) > 1e-12:
        meta[f"{a}.attention.scale"] = float(cfg.attn_scale)
    tmpl = tok_cfg.get("chat_template")
    if isinstance(tmpl, list):  # named templates: take the default
        tmpl = next((t["template"] for t in tmpl if t.get("name") == "default"), tmpl[0]["template"])
    if tmpl:
        meta["tokenizer.chat_template"] = tmpl
    meta["tokenizer.huggingface.config"] = json.dumps(
        {k: v for k, v in tok_cfg.items() if k in ("bos_token", "eos_token", "add_bos_token", "unk_token",
                                                    "pad_token")})
    return meta


def convert_hf_dir(d: Path, out: Path, quant: str, *, progress: bool = False) -> Path:
    """Convert an HF checkpoint directory into a GGUF file at ``out`` (atomically).

    Raises:
        ModelNotFoundError: config.json or tokenizer.json missing.
        UnsupportedArchitectureError: a model type edgeai does not run.
        ModelFileError: missing or mis-shaped tensors.
    """
    d = Path(d)
    for need in ("config.json", "tokenizer.json"):
        if not (d / need).is_file():
            raise ModelNotFoundError(f"{d}: missing {need} (a Hugging Face model directory needs config.json, "
                                     f"*.safetensors, tokenizer.json)")
    hf = json.loads((d / "config.json").read_text())
    cfg = config_from_hf(hf, str(d / "config.json"))
    tok_cfg = json.loads((d / "tokenizer_config.json").read_text()) if (d / "tokenizer_config.json").is_file() else {}
    index = open_checkpoint(d)
    tensors = []
    names = list(index)
    it = names
    if progress:
        from tqdm import tqdm
        it = tqdm(names, desc=f"quantizing to {quant}", unit="tensor")
    have = set()
    for name in it:
        g = _hf_to_gguf_names(cfg, name)
        if g is None:
            continue
        if g == "output.weight" and cfg.tied_embeddings:
            continue
        st, key = index[name]
        a = st.get(key)
        if cfg.arch == "llama" and (g.endswith("attn_q.weight") or g.endswith("attn_k.weight")):
            a = _permute_rope(a, cfg.n_head if g.endswith("attn_q.weight") else cfg.n_kv_head)
        if cfg.arch == "gemma3" and g.endswith("norm.weight"):
            a = a + 1.0  # Gemma's RMSNorm scales by (1 + w); GGUF stores 1 + w
        if a.ndim == 2 and not g.endswith("norm.weight"):
            t = _to_format(a, quant)
        else:
            t = _f32(a)
        tensors.append((g, t))
        have.add(g)
    if "token_embd.weight" not in have:
        raise ModelFileError(f"{d}: no model.embed_tokens.weight in the safetensors files")
    if "output.weight" not in have:
        cfg.tied_embeddings = True
    if cfg.rope_freq_factors is not None:
        tensors.append(("rope_freqs.weight", _f32(np.asarray(cfg.rope_freq_factors, np.float32))))
    meta = _metadata(cfg, d, (d / "tokenizer.json").read_text(encoding="utf-8"), tok_cfg)
    types = {k: T_FLOAT32 for k, v in meta.items() if isinstance(v, float)}
    return write_gguf(out, meta, tensors, types=types)
