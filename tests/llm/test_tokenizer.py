"""The GGUF-rebuilt tokenizer vs a small pure-Python byte-level BPE written here from the GGUF vocab."""
import regex

import pytest

TEXTS = [
    "Hello, world! How's it going?",
    "The year 2024 had 366 days; pi is about 3.14159.",
    "naïve café, Straße, Ελληνικά, русский, 日本語のテキスト, 한국어",
    "emoji: 🤗🚀👩‍💻 and symbols ©®™ ½",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "if (x != 0 && y >= 10) { printf(\"%d\\n\", x); }",
    "   leading spaces, trailing spaces   \n\n\ttabs\r\nwindows newline",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n",
    "URLs: https://example.com/a?b=1&c=2 e-mail: someone@example.org",
    "",
]


def _byte_alphabet():
    # GPT-2's printable stand-ins for the 256 byte values (written independently of edgeai's table)
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    out, n = {}, 0
    for b in range(256):
        if b in printable:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return out


class ReferenceBPE:
    """Textbook byte-level BPE: split specials, split digits and GPT-2 words, merge by rank."""

    WORDS = regex.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")

    def __init__(self, tokens, merges, types):
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        self.specials = sorted((t for t, ty in zip(tokens, types) if ty == 3), key=len, reverse=True)
        self.alpha = _byte_alphabet()

    def _bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.vocab[p] for p in parts]

    def encode(self, text):
        ids = []
        pattern = "(" + "|".join(regex.escape(s) for s in self.specials) + ")"
        for chunk in regex.split(pattern, text):
            if chunk in self.vocab and chunk in self.specials:
                ids.append(self.vocab[chunk])
                continue
            for piece in regex.findall(r"\p{N}|[^\p{N}]+", chunk):     # SmolLM splits digits one by one
                for word in self.WORDS.findall(piece):
                    ids += self._bpe("".join(self.alpha[b] for b in word.encode("utf-8")))
        return ids


@pytest.fixture(scope="module")
def reference(smollm):
    meta = smollm.gguf.metadata
    assert meta["tokenizer.ggml.pre"] == "smollm"
    return ReferenceBPE(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.merges"], meta["tokenizer.ggml.token_type"])


@pytest.mark.parametrize("text", TEXTS)
def test_matches_reference_and_round_trips(smollm, reference, text):
    ids = smollm.tokenize(text)
    assert ids == reference.encode(text)
    assert smollm.detokenize(ids) == text


def test_special_tokens_only_when_asked(smollm):
    text = "<|im_start|>user"
    special = smollm.tokenize(text)
    plain = smollm.tokenize(text, special=False)
    assert len(special) == 2 and len(plain) > 2
    assert smollm.detokenize(plain) == text
    assert smollm.detokenize(special, skip_special=True) == "user"


def test_bad_ids_raise(smollm):
    with pytest.raises(ValueError, match="out of range"):
        smollm.detokenize([10**7])
    with pytest.raises(TypeError):
        smollm.tokenize(b"bytes")
