"""The SentencePiece ("llama") GGUF tokenizer vs sentencepiece itself, on a model trained here."""
import io

import numpy as np
import pytest

from edgeai.llm.tokenizer import from_gguf_metadata

spm = pytest.importorskip("sentencepiece", reason="sentencepiece is the oracle of the llama-style tokenizer")

CORPUS = ["The capital of France is Paris.", "def add(a, b):\n    return a + b", "numbers 12345 and 67.89",
          "Hello world, how are you today?", "the quick brown fox jumps over the lazy dog"] * 40
TEXTS = ["The capital of France is Paris.", "Hello   world\nnew line", "quick fox 42", "naïve café 🤗 日本",
         "  leading spaces", "def f(x): return x"]


@pytest.fixture(scope="module")
def trained():
    buf = io.BytesIO()
    # llama's settings: BPE, byte fallback, identity normalisation, spaces kept, a dummy prefix space
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=buf, model_type="bpe",
                                   vocab_size=420, byte_fallback=True, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True,
                                   bos_id=1, eos_id=2, unk_id=0, pad_id=-1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    n = sp.get_piece_size()
    types = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1 for i in range(n)]
    meta = {"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": [sp.id_to_piece(i) for i in range(n)],
            "tokenizer.ggml.scores": np.array([sp.get_score(i) for i in range(n)], np.float32),
            "tokenizer.ggml.token_type": np.array(types, np.int32), "tokenizer.ggml.bos_token_id": 1,
            "tokenizer.ggml.eos_token_id": 2, "tokenizer.ggml.unknown_token_id": 0,
            "tokenizer.ggml.add_bos_token": True}
    return sp, from_gguf_metadata(meta)


@pytest.mark.parametrize("text", TEXTS)
def test_matches_sentencepiece(trained, text):
    sp, tok = trained
    ids = tok.encode(text, add_bos=False)
    assert ids == sp.encode(text)
    assert tok.decode(ids) == sp.decode(ids) == text
    assert tok.encode(text)[0] == 1  # BOS by default for this family
