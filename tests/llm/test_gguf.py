"""The GGUF reader (vs the `gguf` package) and writer, and the errors bad files get."""
import shutil

import numpy as np
import pytest
from gguf import GGUFReader

import edgeai
from edgeai.llm.gguf import GGUFFile, advise_huge_pages, write_gguf


def test_reader_agrees_with_gguf_package(smollm_path):
    ours, theirs = GGUFFile(smollm_path), GGUFReader(str(smollm_path))
    assert ours.version == 3 and len(ours.tensors) == len(theirs.tensors)
    for t in theirs.tensors:
        info = ours.tensors[t.name]
        assert info.offset == t.data_offset
        assert info.shape == tuple(int(d) for d in reversed(t.shape))
        assert info.type_id == int(t.tensor_type)
        assert info.nbytes == t.n_bytes
    for key, field in theirs.fields.items():
        if key.startswith("GGUF."):
            continue
        want, got = field.contents(), ours.metadata[key]
        if isinstance(got, np.ndarray):
            got = got.tolist()
        assert got == pytest.approx(want) if isinstance(want, float) else got == want, key


def test_tensors_are_zero_copy_views(smollm_path):
    g = GGUFFile(smollm_path)
    t = g.tensor("blk.3.ffn_up.weight")
    assert t.fmt.name == "q4_1" and t.shape == (1536, 576)
    assert np.shares_memory(t.data, g.mm)


def test_huge_page_advice_is_best_effort(smollm_path, tmp_path):
    # the reader advises huge pages on its mapping; the bytes read through it are the file's own
    g = GGUFFile(smollm_path)
    info = g.tensors["blk.0.attn_q.weight"]
    with open(smollm_path, "rb") as f:
        f.seek(info.offset)
        assert bytes(g.tensor(info.name).data) == f.read(info.nbytes)
    assert isinstance(advise_huge_pages(g.mm), bool)
    # not a memmap (no mmap behind it): declined, no exception
    assert advise_huge_pages(np.zeros(16, np.uint8)) is False
    small = tmp_path / "small.bin"
    small.write_bytes(b"\0" * 4096)
    assert isinstance(advise_huge_pages(np.memmap(small, dtype=np.uint8, mode="r")), bool)


def test_writer_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 64)).astype(np.float32)
    tensors = [("a.weight", edgeai.quantize(w, "q8_0")),
               ("b.norm", edgeai.QuantizedTensor(np.arange(5, dtype=np.float32).view(np.uint8), "f32", (5,)))]
    meta = {"general.architecture": "llama", "x.count": 3, "x.neg": -2, "x.big": 2**40, "x.ratio": 0.25,
            "x.flag": True, "x.name": "héllo", "x.list": ["a", "bb", ""], "x.ints": [1, 2, 3]}
    path = write_gguf(tmp_path / "m.gguf", meta, tensors, alignment=64)
    g = GGUFFile(path)
    for k, v in meta.items():
        got = g.metadata[k]
        assert (got.tolist() if isinstance(got, np.ndarray) else got) == v, k
    assert g.alignment == 64
    np.testing.assert_array_equal(g.tensor("a.weight").data, tensors[0][1].data)
    np.testing.assert_array_equal(g.tensor("b.norm").data.view(np.float32), np.arange(5, dtype=np.float32))
    # the gguf package reads what we wrote
    r = GGUFReader(str(path))
    assert [t.name for t in r.tensors] == ["a.weight", "b.norm"]
    assert r.fields["x.name"].contents() == "héllo"
    assert not list(tmp_path.glob(".tmp-*"))  # the temp file was renamed, not left behind


def test_bad_files_raise_model_file_error(tmp_path, smollm_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGML" + bytes(100))
    with pytest.raises(edgeai.ModelFileError, match="not a GGUF file"):
        GGUFFile(bad)
    bad.write_bytes(b"GGUF" + (7).to_bytes(4, "little") + bytes(40))
    with pytest.raises(edgeai.ModelFileError, match="version 7"):
        GGUFFile(bad)
    size = smollm_path.stat().st_size
    for cut in (30, 5000, 1_000_000, size - 1000):  # header, vocabulary, early tensors, last tensor
        with open(smollm_path, "rb") as src:
            bad.write_bytes(src.read(cut))
        with pytest.raises(edgeai.ModelFileError, match="truncated"):
            edgeai.LLM(bad)
    with pytest.raises(FileNotFoundError):
        GGUFFile(tmp_path / "missing.gguf")


def test_tensor_offset_past_the_end(tmp_path):
    t = edgeai.quantize(np.ones((4, 32), np.float32), "q8_0")
    path = write_gguf(tmp_path / "m.gguf", {"general.architecture": "llama"}, [("w", t)])
    raw = bytearray(path.read_bytes())
    # the tensor's u64 offset is the last field of its info, just before the data's alignment padding
    i = raw.index(b"w", 24) + 1 + 4 + 8 * 2 + 4
    raw[i:i + 8] = (1 << 20).to_bytes(8, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(edgeai.ModelFileError, match="past the end"):
        GGUFFile(path)


def test_unknown_architecture(tmp_path, smollm_path):
    g = GGUFFile(smollm_path)
    meta = dict(g.metadata)
    meta["general.architecture"] = "mamba"
    path = write_gguf(tmp_path / "mamba.gguf", meta, [("token_embd.weight", g.tensor("token_embd.weight"))])
    with pytest.raises(edgeai.UnsupportedArchitectureError, match="mamba"):
        edgeai.LLM(path)


def test_string_array_decoder_bounds_and_utf8():
    from edgeai import _C

    def pack(*items):
        return b"".join(len(s).to_bytes(8, "little") + s for s in items)

    raw = pack(b"a", "é".encode(), b"", b"\xff\xfe")
    assert _C.gguf_strings(raw, 0, 4) == (["a", "é", "", "\ufffd\ufffd"], len(raw))
    assert _C.gguf_strings(b"xx" + raw, 2, 2) == (["a", "é"], 2 + 9 + 10)
    # the buffer ends inside a length, then inside a string: (None, where, bytes needed)
    assert _C.gguf_strings(raw[:12], 0, 2) == (None, 9, 8)
    assert _C.gguf_strings(raw[:18], 0, 2) == (None, 17, 2)
    assert _C.gguf_strings(pack(b"abc")[:10], 0, 1) == (None, 8, 3)
    # a corrupt length larger than the file
    assert _C.gguf_strings((2**62).to_bytes(8, "little") + b"zz", 0, 1) == (None, 8, 2**62)
