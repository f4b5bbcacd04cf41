"""PNG writing (valid, lossless, atomic) and the `edgeai image` / `edgeai terrain` commands."""
import os
import struct
import zlib

import numpy as np
import pytest

from edgeai.cli import main
from edgeai.diffusion import image as image_mod
from edgeai.diffusion.image import Image, encode_png, read_png, save_png


def chunks(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        out.append((kind, body))
        pos += 12 + n
    return out


@pytest.mark.parametrize("shape,dtype,ctype", [((5, 7), np.uint8, 0), ((5, 7, 3), np.uint8, 2),
                                               ((4, 3, 4), np.uint8, 6), ((6, 2, 2), np.uint8, 4),
                                               ((9, 8), np.uint16, 0)])
def test_png_round_trip_and_header(tmp_path, shape, dtype, ctype):
    px = np.random.default_rng(0).integers(0, np.iinfo(dtype).max + 1, size=shape, dtype=dtype)
    path = Image(px).save(tmp_path / "x.png")
    data = path.read_bytes()
    cs = chunks(data)
    assert [k for k, _ in cs] == [b"IHDR", b"IDAT", b"IEND"]
    w, h, depth, color, comp, filt, inter = struct.unpack(">IIBBBBB", cs[0][1])
    assert (w, h, depth, color, comp, filt, inter) == (shape[1], shape[0], 8 * np.dtype(dtype).itemsize, ctype, 0, 0, 0)
    raw = zlib.decompress(cs[1][1])
    assert len(raw) == shape[0] * (1 + px[0].size * np.dtype(dtype).itemsize)
    np.testing.assert_array_equal(read_png(path), px)


def test_png_cross_check_with_pillow(tmp_path):
    pil = pytest.importorskip("PIL.Image", reason="pillow is an optional cross-check")
    px = np.random.default_rng(1).integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
    save_png(tmp_path / "x.png", px)
    np.testing.assert_array_equal(np.asarray(pil.open(tmp_path / "x.png")), px)


def test_png_bad_input():
    with pytest.raises(TypeError):
        Image(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError):
        Image(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError):
        encode_png(np.zeros((0, 4), np.uint8))


def test_png_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "x.png"
    target.write_bytes(b"old")

    def boom(a, b):
        raise OSError("disk full")
    monkeypatch.setattr(image_mod.os, "replace", boom)
    with pytest.raises(OSError):
        save_png(target, np.zeros((2, 2), np.uint8))
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["x.png"]


def test_cli_terrain(tmp_path, capsys):
    out = tmp_path / "t.png"
    assert main(["terrain", "--difficulty", "40", "-o", str(out), "--seed", "1", "--quiet"]) == 0
    px = read_png(out)
    assert px.shape == (128, 128) and px.dtype == np.uint16 and px.std() > 0
    assert main(["terrain", "--difficulty", "400", "-o", str(out), "--quiet"]) == 2
    assert "difficulty" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # argparse: a usage error
        main(["terrain", "--batch", "0", "-o", str(out), "--quiet"])
    assert e.value.code == 2 and "--batch" in capsys.readouterr().err


def test_cli_image(tiny_sd, tmp_path, capsys, monkeypatch):
    import edgeai._env as env
    monkeypatch.setattr(env, "CACHE_DIR", tmp_path / "cache")  # --quant's copies go here, not in ~/.cache
    out = tmp_path / "i.png"
    args = ["image", "a photo of a cat", "-m", str(tiny_sd), "-o", str(out), "--steps", "2", "--seed", "3",
            "--size", "64x64", "--quiet"]
    assert main(args) == 0
    first = read_png(out)
    assert first.shape == (64, 64, 3)
    assert main(args) == 0
    np.testing.assert_array_equal(read_png(out), first)  # same seed, same picture
    # --quant: the UNet and text encoder quantized (cached under EDGEAI_CACHE), the picture close to float's
    qout = tmp_path / "q.png"
    assert main(args[:5] + [str(qout)] + args[6:] + ["--quant", "q8_0"]) == 0
    assert any((tmp_path / "cache" / "onnx-quantized").iterdir())
    from diffusion_helpers import psnr
    assert psnr(first.astype(np.float64), read_png(qout).astype(np.float64)) > 25.0
    assert main(["image", "x", "-m", str(tiny_sd), "--quant", "q9_9", "--quiet"]) == 2
    assert "q9_9" in capsys.readouterr().err
    assert main(["image", "x", "-m", str(tiny_sd), "--size", "60x64", "--quiet"]) == 2
    assert "multiple" in capsys.readouterr().err
    assert main(["image", "x", "-m", str(tmp_path / "nope"), "--quiet"]) == 2


def test_cli_image_default_model_goes_through_the_hub(tmp_path, capsys, monkeypatch):
    """No -m: the default SD-Turbo repo is asked of huggingface_hub; offline and uncached, a clear error."""
    import huggingface_hub.constants as hub
    from edgeai.cli.diffusion import DEFAULT_SD_MODEL
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    monkeypatch.delenv("EDGEAI_SD_MODEL", raising=False)
    import edgeai._env as env
    monkeypatch.setattr(env, "SD_MODEL", None)
    assert main(["image", "a cat", "-o", str(tmp_path / "x.png"), "--local-files-only", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert DEFAULT_SD_MODEL in err and "hub" in err
    assert not (tmp_path / "x.png").exists()
