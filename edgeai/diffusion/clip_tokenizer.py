"""CLIP's byte-level BPE tokenizer, built with the `tokenizers` library from an SD tokenizer/ folder.

Stable Diffusion repos ship tokenizer/vocab.json + merges.txt (CLIP format: the last sub-word of a
word ends in ``</w>``) and sometimes tokenizer.json. CLIP text processing: collapse whitespace,
lowercase, split into words / single digits / runs of punctuation, map bytes to the byte-level
alphabet, BPE each piece, then ``<|startoftext|> ids <|endoftext|>`` padded to 77.
ref: CLIP (Radford et al. 2021) simple_tokenizer; tokenizer_config.json of SD repos.
"""
import json
from pathlib import Path
from typing import List, Sequence, Union

import numpy as np

from ..errors import ModelFileError

# CLIP's word pattern: the special tokens, English contractions, letter runs, single digits, and
# runs of other non-space characters
_CLIP_PATTERN = (r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+")


class CLIPTokenizer:
    """Text -> fixed-length token ids for a CLIP text encoder.

    Args:
        directory: the pipeline's ``tokenizer/`` folder.
    Raises:
        ModelFileError: neither tokenizer.json nor vocab.json + merges.txt is there, or they are malformed.
    """

    def __init__(self, directory: Union[str, Path]):
        from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
        from tokenizers.models import BPE
        d = Path(directory)
        cfg = {}
        if (d / "tokenizer_config.json").is_file():
            cfg = json.loads((d / "tokenizer_config.json").read_text())
        self.max_length = int(cfg.get("model_max_length", 77))
        if self.max_length > 1024:  # "1e30" style placeholders mean "not set"
            self.max_length = 77
        try:
            if (d / "tokenizer.json").is_file():
                self._tok = Tokenizer.from_file(str(d / "tokenizer.json"))
                self._tok.no_padding()
                self._tok.no_truncation()
            elif (d / "vocab.json").is_file() and (d / "merges.txt").is_file():
                vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
                lines = (d / "merges.txt").read_text(encoding="utf-8").splitlines()
                merges = [tuple(m.split()) for m in lines if m and not m.startswith("#version")]
                unk = _token(cfg.get("unk_token"), "<|endoftext|>")
                tok = Tokenizer(BPE(vocab, merges, unk_token=unk, end_of_word_suffix="</w>",
                                    continuing_subword_prefix="", fuse_unk=False))
                tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                                       normalizers.Lowercase()])
                tok.pre_tokenizer = pre_tokenizers.Sequence([
                    pre_tokenizers.Split(Regex(_CLIP_PATTERN), behavior="removed", invert=True),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
                tok.decoder = decoders.ByteLevel()
                self._tok = tok
            else:
                raise ModelFileError(f"{d} has neither tokenizer.json nor vocab.json + merges.txt")
        except ModelFileError:
            raise
        except Exception as exc:
            raise ModelFileError(f"cannot build the CLIP tokenizer from {d}: {exc}") from exc
        vocab = self._tok.get_vocab()
        self.bos_token = _token(cfg.get("bos_token"), "<|startoftext|>")
        self.eos_token = _token(cfg.get("eos_token"), "<|endoftext|>")
        self.pad_token = _token(cfg.get("pad_token"), self.eos_token)
        for name in ("bos_token", "eos_token", "pad_token"):
            if getattr(self, name) not in vocab:
                raise ModelFileError(f"{d}: {name} {getattr(self, name)!r} is not in the vocabulary")
        self.bos_id, self.eos_id, self.pad_id = (vocab[self.bos_token], vocab[self.eos_token], vocab[self.pad_token])

    def encode(self, text: str) -> List[int]:
        """The BPE ids of ``text`` without special tokens."""
        ids = self._tok.encode(text, add_special_tokens=False).ids
        return list(ids)

    def __call__(self, prompts: Union[str, Sequence[str]]) -> np.ndarray:
        """Token ids ``[B, max_length]`` (int64): bos, text (truncated), eos, then padding."""
        if isinstance(prompts, str):
            prompts = [prompts]
        out = np.full((len(prompts), self.max_length), self.pad_id, dtype=np.int64)
        for i, p in enumerate(prompts):
            if not isinstance(p, str):
                raise TypeError(f"prompts must be strings, got {type(p).__name__}")
            ids = [self.bos_id] + self.encode(p)[:self.max_length - 2] + [self.eos_id]
            out[i, :len(ids)] = ids
        return out


def _token(value, default: str) -> str:
    if isinstance(value, dict):  # {"content": "<|endoftext|>", ...} in newer configs
        value = value.get("content")
    return value or default
