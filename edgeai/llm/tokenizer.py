"""Tokenizers rebuilt from GGUF metadata (or loaded from tokenizer.json) with the `tokenizers` library.

Two families, as in GGUF's ``tokenizer.ggml.model``:

- ``gpt2``: byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM). Tokens are strings over GPT-2's
  byte-to-unicode alphabet; ``merges`` ranks the pairs; the pre-tokenizer regex is chosen by
  ``tokenizer.ggml.pre``.
- ``llama``: SentencePiece BPE (Llama 2, TinyLlama, Gemma). Tokens use U+2581 for spaces, bytes
  missing from the vocab fall back to ``<0xXX>`` tokens, and merge order follows the token scores.

Decoding goes through one table of raw bytes per token, so streamed text can be cut only at
UTF-8 character boundaries (:class:`StreamDecoder`).
"""
import json
from collections import abc
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from ..errors import ModelFileError

# GGUF token types
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6

# pre-tokenizer split regexes by tokenizer.ggml.pre (llama.cpp's names)
_GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
_LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")
_QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
_PRE_REGEXES = {
    "default": [_GPT2_RE], "gpt2": [_GPT2_RE], "gpt-2": [_GPT2_RE],
    "smollm": [r"\p{N}", _GPT2_RE],  # digits one by one, then GPT-2's split
    "llama3": [_LLAMA3_RE], "llama-bpe": [_LLAMA3_RE], "llama-v3": [_LLAMA3_RE], "smaug-bpe": [_LLAMA3_RE],
    "qwen2": [_QWEN2_RE], "deepseek-r1-qwen": [_QWEN2_RE],
}


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# stand-in character -> byte value, for str.translate (then .encode("latin-1"))
_BYTE_LEVEL_TABLE = {ord(c): b for b, c in bytes_to_unicode().items()}


class Tokenizer:
    """Text <-> token ids, plus the per-token byte table streaming needs.

    Attributes:
        tok: the underlying ``tokenizers.Tokenizer``.
        token_bytes: list of the raw bytes of each token (control tokens: their text).
        special_ids: ids of control/user-defined tokens (matched as wholes in text).
        bos_id, eos_id: ids or None. eos_ids: all ids that end a generation.
        add_bos: prepend BOS when tokenizing a prompt.
    """

    def __init__(self, tok, token_bytes: List[bytes], special_ids: Sequence[int], bos_id: Optional[int],
                 eos_ids: Sequence[int], add_bos: bool, strip_leading_space: bool = False):
        self.tok = tok
        self.token_bytes = token_bytes
        self.special_ids = set(int(i) for i in special_ids)
        self.bos_id = bos_id
        self.eos_ids = [int(i) for i in eos_ids]
        self.eos_id = self.eos_ids[0] if self.eos_ids else None
        self.add_bos = add_bos
        self.strip_leading_space = strip_leading_space

    @property
    def vocab_size(self) -> int:
        return len(self.token_bytes)

    def token_text(self, i: int) -> str:
        return self.token_bytes[i].decode("utf-8", "replace")

    @property
    def bos_token(self) -> str:
        return self.token_text(self.bos_id) if self.bos_id is not None else ""

    @property
    def eos_token(self) -> str:
        return self.token_text(self.eos_id) if self.eos_id is not None else ""

    def encode(self, text: str, add_bos: Optional[bool] = None, special: bool = True) -> List[int]:
        """Token ids of ``text``.

        Args:
            text: the string.
            add_bos: prepend BOS (default: the model's ``add_bos_token`` setting).
            special: recognise special tokens such as ``<|im_start|>`` written in the text.
        Returns:
            list of ints.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if special:
            ids = self.tok.encode(text, add_special_tokens=False).ids
        else:
            ids = self._encode_plain(text)
        if (self.add_bos if add_bos is None else add_bos) and self.bos_id is not None:
            if not ids or ids[0] != self.bos_id:
                ids = [self.bos_id] + ids
        return ids

    def _encode_plain(self, text: str) -> List[int]:
        # special-token strings in user text must not become control tokens: encode with the
        # added-token matching switched off (tokenizers has no per-call switch)
        plain = getattr(self, "_plain", None)
        if plain is None:
            plain = self._plain = _without_added_tokens(self.tok)
        return plain.encode(text, add_special_tokens=False).ids

    def decode_bytes(self, ids: Iterable[int], skip_special: bool = True) -> bytes:
        """The raw bytes of ``ids`` joined (control tokens dropped if ``skip_special``)."""
        tb, sp = self.token_bytes, self.special_ids
        n = len(tb)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise ValueError(f"token id {i} is out of range [0, {n})")
            if skip_special and i in sp:
                continue
            out.append(tb[i])
        return b"".join(out)

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """Text of ``ids`` (invalid UTF-8 sequences become U+FFFD)."""
        text = self.decode_bytes(ids, skip_special).decode("utf-8", "replace")
        if self.strip_leading_space and text.startswith(" "):
            text = text[1:]
        return text


def _without_added_tokens(tok):
    """A copy of ``tok`` whose added (special) tokens are not matched in text."""
    from tokenizers import Tokenizer as HFTok
    d = json.loads(tok.to_str())
    d["added_tokens"] = []
    return HFTok.from_str(json.dumps(d))


class StreamDecoder:
    """Turns a stream of token ids into text pieces that are always whole UTF-8 characters.

    A character split over two byte-level tokens (emoji, CJK) is held back until complete.
    """

    def __init__(self, tokenizer: Tokenizer, skip_special: bool = True):
        self.t = tokenizer
        self.skip_special = skip_special
        self.pending = b""
        self.first = True

    def push(self, token_id: int) -> str:
        """Add one token; returns the newly completed text (maybe empty)."""
        self.pending += self.t.decode_bytes([token_id], self.skip_special)
        cut = _complete_prefix(self.pending)
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out.decode("utf-8", "replace")

    def flush(self) -> str:
        """Whatever is left (an incomplete character becomes U+FFFD)."""
        out, self.pending = self.pending, b""
        return out.decode("utf-8", "replace")


def _complete_prefix(b: bytes) -> int:
    """Length of the longest prefix of ``b`` that does not end inside a UTF-8 character."""
    n = len(b)
    # look back at most 3 bytes for a lead byte whose sequence is not finished
    for back in range(1, min(4, n) + 1):
        c = b[n - back]
        if c < 0x80:
            return n
        if c >= 0xC0:  # lead byte: sequence length from its high bits
            need = 2 if c < 0xE0 else 3 if c < 0xF0 else 4
            return n if back >= need else n - back
    return n


# ---- builders --------------------------------------------------------------------------------

def from_gguf_metadata(meta: Dict, where: str = "GGUF") -> Tokenizer:
    """Rebuild the tokenizer stored in GGUF metadata (``tokenizer.ggml.*``).

    Raises:
        ModelFileError: no vocabulary, or a tokenizer model edgeai cannot rebuild.
    """
    if "tokenizer.huggingface.json" in meta:  # written by edgeai's HF converter (the GGUF spec's key)
        cfg = json.loads(meta.get("tokenizer.huggingface.config", "{}"))
        arch = meta.get("general.architecture", "")
        return from_hf_json(meta["tokenizer.huggingface.json"], cfg, int(meta.get(f"{arch}.vocab_size", 0)))
    model = meta.get("tokenizer.ggml.model")
    tokens = meta.get("tokenizer.ggml.tokens")
    if model is None or tokens is None:
        raise ModelFileError(f"{where}: no tokenizer in the metadata (tokenizer.ggml.model / tokens)")
    types = meta.get("tokenizer.ggml.token_type")
    types = np.asarray(types if types is not None else np.full(len(tokens), TOKEN_NORMAL), dtype=np.int32)
    bos = meta.get("tokenizer.ggml.bos_token_id")
    eos = meta.get("tokenizer.ggml.eos_token_id")
    eos_ids = [int(eos)] if eos is not None else []
    eot = meta.get("tokenizer.ggml.eot_token_id")
    if eot is not None and int(eot) not in eos_ids:
        eos_ids.append(int(eot))
    if model == "gpt2":
        return _build_gpt2(meta, tokens, types, bos, eos_ids, where)
    if model == "llama":
        return _build_spm(meta, tokens, types, bos, eos_ids, where)
    raise ModelFileError(f"{where}: tokenizer model {model!r} is not supported (gpt2, llama)")


def _byte_level_bytes(tokens, special) -> List[bytes]:
    """Raw bytes of byte-level BPE tokens: map the stand-in characters back to bytes (str.translate
    to latin-1 code points, then encode: fast enough for 250k-token vocabularies)."""
    return [_byte_level_token(t, i in special) for i, t in enumerate(tokens)]


def _byte_level_token(t: str, special: bool) -> bytes:
    if special:
        return t.encode("utf-8")
    try:
        return t.translate(_BYTE_LEVEL_TABLE).encode("latin-1")
    except UnicodeEncodeError:  # a token outside the byte alphabet: keep its UTF-8 text
        return t.encode("utf-8")


class _LazyByteLevelBytes(abc.Sequence):
    """The byte table of a byte-level BPE vocabulary, each token translated on first use: building
    all 49k-250k entries up front was ~0.1 s of a small model's load (time to first token), and a
    generation touches a few hundred of them."""

    def __init__(self, tokens: List[str], special):
        self._tokens, self._special, self._done = tokens, special, {}

    def __len__(self) -> int:
        return len(self._tokens)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self._tokens)
        b = self._done.get(i)
        if b is None:
            b = self._done[i] = _byte_level_token(self._tokens[i], i in self._special)
        return b


def _special_tokens(tokens, types) -> List[int]:
    return [i for i in np.nonzero((types == TOKEN_CONTROL) | (types == TOKEN_USER_DEFINED))[0].tolist()]


def _add_specials(tok, tokens, special_ids) -> None:
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i in special_ids])


def _build_gpt2(meta, tokens, types, bos, eos_ids, where) -> Tokenizer:
    from tokenizers import Regex, Tokenizer as HFTok, decoders, models, pre_tokenizers
    merges = meta.get("tokenizer.ggml.merges")
    if merges is None:
        raise ModelFileError(f"{where}: gpt2 tokenizer without tokenizer.ggml.merges")
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tok = HFTok(models.BPE(vocab, pairs, ignore_merges=False))
    pre = meta.get("tokenizer.ggml.pre", "default")
    regexes = _PRE_REGEXES.get(pre, [_GPT2_RE])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in regexes]
        + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    special = _special_tokens(tokens, types)
    _add_specials(tok, tokens, special)
    token_bytes = _LazyByteLevelBytes(tokens, set(special))
    add_bos = bool(meta.get("tokenizer.ggml.add_bos_token", False))
    return Tokenizer(tok, token_bytes, special, int(bos) if bos is not None else None, eos_ids, add_bos)


def _build_spm(meta, tokens, types, bos, eos_ids, where) -> Tokenizer:
    from tokenizers import Tokenizer as HFTok, decoders, models, normalizers
    scores = meta.get("tokenizer.ggml.scores")
    scores = np.asarray(scores if scores is not None else -np.arange(len(tokens)), dtype=np.float64)
    vocab = {t: i for i, t in enumerate(tokens)}
    # SentencePiece BPE merges the adjacent pair whose merged piece scores highest: the same as BPE
    # with every (left, right) split of a vocab piece ranked by that piece's score.
    normal = (types == TOKEN_NORMAL) | (types == TOKEN_USER_DEFINED)
    cands = []
    for i, t in enumerate(tokens):
        if not normal[i] or len(t) < 2:
            continue
        for cut in range(1, len(t)):
            a, b = t[:cut], t[cut:]
            ia, ib = vocab.get(a), vocab.get(b)
            if ia is not None and ib is not None:
                cands.append((-scores[i], i, ia, ib, a, b))
    cands.sort()
    merges = [(a, b) for _, _, _, _, a, b in cands]
    unk = meta.get("tokenizer.ggml.unknown_token_id", 0)
    tok = HFTok(models.BPE(vocab, merges, unk_token=tokens[int(unk)], fuse_unk=True, byte_fallback=True,
                           ignore_merges=False))
    add_prefix = bool(meta.get("tokenizer.ggml.add_space_prefix", True))
    norms = [normalizers.Replace(" ", "\u2581")]
    if add_prefix:
        norms.insert(0, normalizers.Prepend("\u2581"))
    tok.normalizer = normalizers.Sequence(norms)
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    special = _special_tokens(tokens, types)
    _add_specials(tok, tokens, special)
    sp = set(special)
    token_bytes = []
    for i, t in enumerate(tokens):
        if types[i] == TOKEN_BYTE and len(t) == 6 and t.startswith("<0x"):
            token_bytes.append(bytes([int(t[3:5], 16)]))
        elif i in sp or types[i] in (TOKEN_UNKNOWN, TOKEN_UNUSED):
            token_bytes.append(t.encode("utf-8") if i in sp else b"")
        else:
            token_bytes.append(t.replace("\u2581", " ").encode("utf-8"))
    add_bos = bool(meta.get("tokenizer.ggml.add_bos_token", True))
    return Tokenizer(tok, token_bytes, special, int(bos) if bos is not None else None, eos_ids, add_bos,
                     strip_leading_space=add_prefix)


def from_hf_json(tokenizer_json: str, tokenizer_config: Dict, vocab_size: int) -> Tokenizer:
    """Load a Hugging Face ``tokenizer.json`` (its text) with its ``tokenizer_config.json`` dict.

    The byte table is derived by decoding each token alone, with the byte-level alphabet or
    ``<0xXX>``/U+2581 conventions detected from the tokenizer's decoder.
    """
    from tokenizers import Tokenizer as HFTok
    tok = HFTok.from_str(tokenizer_json)
    spec = json.loads(tokenizer_json)
    n = max(vocab_size, tok.get_vocab_size(with_added_tokens=True))
    id_to_tok = {i: t for t, i in tok.get_vocab(with_added_tokens=True).items()}
    added = {a["id"]: a for a in spec.get("added_tokens", [])}
    special = [i for i, a in added.items() if a.get("special")]
    byte_level = "ByteLevel" in json.dumps(spec.get("decoder") or spec.get("pre_tokenizer") or {})
    token_bytes = []
    for i in range(n):
        t = id_to_tok.get(i)
        if t is None:
            token_bytes.append(b"")
        elif i in added:
            token_bytes.append(t.encode("utf-8"))
        elif byte_level:
            token_bytes.append(_byte_level_bytes([t], ())[0])
        elif len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
            token_bytes.append(bytes([int(t[3:5], 16)]))
        else:
            token_bytes.append(t.replace("\u2581", " ").encode("utf-8"))

    def tid(key):
        v = tokenizer_config.get(key)
        if isinstance(v, dict):
            v = v.get("content")
        return tok.token_to_id(v) if isinstance(v, str) else None

    bos, eos = tid("bos_token"), tid("eos_token")
    add_bos = bool(tokenizer_config.get("add_bos_token", False)) and bos is not None
    if "add_bos_token" not in tokenizer_config and not byte_level:
        add_bos = bos is not None
    # the post-processor of tokenizer.json may add BOS itself; we add it explicitly instead
    return Tokenizer(tok, token_bytes, special, bos, [eos] if eos is not None else [], add_bos)
