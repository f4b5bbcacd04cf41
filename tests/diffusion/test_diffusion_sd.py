"""Stable Diffusion ONNX pipeline on a tiny random-weight pipeline, checked against diffusers."""
import shutil

import numpy as np
import pytest
from diffusion_helpers import psnr

from edgeai.diffusion.clip_tokenizer import CLIPTokenizer
from edgeai.diffusion.sd import DiffusionPipeline
from edgeai.errors import ModelFileError, ModelNotFoundError, ShapeError

PROMPTS = ["a photo of a cat", "a red house on the hill"]
H = W = 64


@pytest.fixture(scope="module")
def ours(tiny_sd):
    return DiffusionPipeline.from_pretrained(tiny_sd, threads=2)


@pytest.fixture(scope="module")
def theirs(tiny_sd):
    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd / "torch")
    pipe.set_progress_bar_config(disable=True)
    return pipe


SCHEDULERS = [  # (ours, diffusers class, extra config, steps, guidance)
    ("euler", "EulerDiscreteScheduler", {}, 4, 7.5),
    ("euler_a", "EulerAncestralDiscreteScheduler", {}, 4, 7.5),
    ("ddim", "DDIMScheduler", {}, 4, 7.5),
    ("lcm", "LCMScheduler", {}, 4, 1.5),
    ("turbo", "EulerAncestralDiscreteScheduler", {"timestep_spacing": "trailing"}, 1, 0.0),
]


@pytest.mark.parametrize("name,cls,extra,steps,guidance", SCHEDULERS)
def test_matches_diffusers(ours, theirs, monkeypatch, name, cls, extra, steps, guidance):
    """Same weights, same initial latents, same per-step noise: the images agree to float rounding."""
    import diffusers
    import torch
    import diffusers.schedulers.scheduling_euler_ancestral_discrete as ea
    import diffusers.schedulers.scheduling_lcm as lcm
    theirs.scheduler = getattr(diffusers, cls).from_config(theirs.scheduler.config, **extra)
    seeds = [11, 12]
    rngs = [np.random.default_rng(s) for s in seeds]  # replays edgeai's per-image generators
    latents = np.stack([r.standard_normal((4, H // 8, W // 8)) for r in rngs]).astype(np.float32)

    def numpy_noise(shape, generator=None, device=None, dtype=None, layout=None):
        return torch.from_numpy(np.stack([r.standard_normal(tuple(shape)[1:]) for r in rngs]).astype(np.float32))
    monkeypatch.setattr(ea, "randn_tensor", numpy_noise)
    monkeypatch.setattr(lcm, "randn_tensor", numpy_noise)
    ref = theirs(PROMPTS, height=H, width=W, num_inference_steps=steps, guidance_scale=guidance,
                 latents=torch.from_numpy(latents), output_type="np").images
    out = ours(PROMPTS, height=H, width=W, steps=steps, guidance_scale=guidance, scheduler=name, seed=seeds,
               progress=False)
    assert out.array.shape == ref.shape == (2, H, W, 3)
    assert np.abs(out.array - ref).max() < 1e-4
    assert out.images[0].dtype == np.uint8 and out.images[0].shape == (H, W, 3)


@pytest.mark.parametrize("source", ["vocab_merges", "tokenizer_json"])
def test_tokenizer_matches_transformers(tiny_sd, source):
    from transformers import CLIPTokenizer as Reference
    ref = Reference.from_pretrained(tiny_sd / "torch" / "tokenizer")
    d = tiny_sd / "tokenizer" if source == "vocab_merges" else tiny_sd / "torch" / "tokenizer"
    ours = CLIPTokenizer(d)
    for text in ["a photo of a cat", "A  RED house,  on the HILL!!", "dogs 123 café's", "", "cat " * 100]:
        want = ref(text, padding="max_length", max_length=77, truncation=True).input_ids
        assert ours(text)[0].tolist() == want, text


def test_seeded_batched_callback(ours):
    import edgeai
    from edgeai.diffusion.schedulers import make_scheduler
    assert edgeai.DiffusionPipeline is DiffusionPipeline  # the API name
    steps = []
    a = ours(PROMPTS, height=H, width=W, steps=3, seed=5, progress=False,
             callback=lambda i, t, x: steps.append((i, t, x.copy())))
    sched = make_scheduler("euler", ours.scheduler_config)
    sched.set_timesteps(3)
    assert [i for i, _, _ in steps] == [0, 1, 2]
    assert [t for _, t, _ in steps] == [float(t) for t in sched.timesteps]
    assert all(x.shape == (2, 4, H // 8, W // 8) for _, _, x in steps)
    np.testing.assert_array_equal(steps[-1][2], a.latents)  # the last preview is the final latents
    b = ours(PROMPTS[1], height=H, width=W, steps=3, seed=6, progress=False)  # image 1 of the batch alone
    np.testing.assert_allclose(b.array[0], a.array[1], atol=1e-5)
    c = ours(PROMPTS, height=H, width=W, steps=3, seed=5, progress=False)
    np.testing.assert_array_equal(a.array, c.array)
    d = ours(PROMPTS, height=H, width=W, steps=1, seed=5, progress=False)
    assert not np.allclose(d.array, a.array)


def test_tiled_vae_decode(ours):
    lat = np.random.default_rng(0).standard_normal((1, 4, 24, 40)).astype(np.float32)
    full = ours.decode(lat)
    tiled = ours.decode(lat, tile=16, overlap=4)
    assert tiled.shape == full.shape == (1, 3, 192, 320)
    assert psnr(full, tiled) > 20.0  # GroupNorm sees one tile at a time: close, not equal
    # a memory budget below the untiled estimate switches to tiles
    budget = ours.decode_bytes_estimate(192, 320) / 2 ** 20 / 4
    a = ours("a cat", height=192, width=320, steps=1, seed=1, progress=False, max_memory_mb=budget)
    b = ours("a cat", height=192, width=320, steps=1, seed=1, progress=False)
    assert a.array.shape == b.array.shape and not np.array_equal(a.array, b.array)


_DECODE_PEAK = """
import resource, sys
import numpy as np
from edgeai.diffusion.sd import DiffusionPipeline
p = DiffusionPipeline.from_pretrained(sys.argv[1], threads=2)
p.decode(np.zeros((1, 4, 8, 8), np.float32))  # sessions warm: their own memory is in the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n, budget = int(sys.argv[2]), sys.argv[3]
tile = None if budget == "none" else p.vae_tile_for(8 * n, 8 * n, 1, float(budget))
img = p.decode(np.random.default_rng(0).standard_normal((1, 4, n, n)).astype(np.float32), tile=tile)
assert img.shape == (1, 3, 8 * n, 8 * n) and np.isfinite(img).all()
print(tile, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
"""


def test_tiled_vae_decode_bounds_memory(tiny_sd):
    """A 1024x1024 decode: untiled, its activations take GBs; under a 64 MB budget, tiles keep it under that.

    Each decode runs in a fresh process, so its peak RSS (ru_maxrss) is its own."""
    import subprocess
    import sys

    def peak(budget):
        out = subprocess.run([sys.executable, "-c", _DECODE_PEAK, str(tiny_sd), "128", budget], check=True,
                             capture_output=True, text=True).stdout.split()
        return (None if out[0] == "None" else int(out[0])), float(out[1])
    tile_full, full = peak("none")
    tile, tiled = peak("64")
    print(f"1024x1024 VAE decode, peak RSS growth: untiled {full:.0f} MB, tiled ({tile} latents) {tiled:.0f} MB")
    assert tile_full is None and tile == 16
    assert full > 500  # the untiled decode really is big: the bound below means something
    assert tiled < 64


def test_progress_bar(ours, capsys):
    ours("a cat", height=H, width=W, steps=3, seed=1)  # progress=True by default: tqdm on stderr
    err = capsys.readouterr().err
    assert "diffusion" in err and all(f"{i}/3" in err for i in range(4))  # drawn at every step
    ours("a cat", height=H, width=W, steps=3, seed=1, progress=False)
    assert "diffusion" not in capsys.readouterr().err


def test_quantized_pipeline(tiny_sd, ours, tmp_path):
    q = DiffusionPipeline.from_pretrained(tiny_sd, quant="q8_0", threads=2, cache_dir=tmp_path)
    assert q.paths["unet"] != ours.paths["unet"] and q.paths["vae_decoder"] == ours.paths["vae_decoder"]
    assert q.paths["unet"].stat().st_size < 0.5 * ours.paths["unet"].stat().st_size
    # the quantized copies live under the cache_dir given, not in edgeai's default cache
    for c in ("unet", "text_encoder"):
        assert q.paths[c].parent == tmp_path / "onnx-quantized", q.paths[c]
    a = ours(PROMPTS, height=H, width=W, steps=3, seed=2, progress=False)
    b = q(PROMPTS, height=H, width=W, steps=3, seed=2, progress=False)
    print(f"tiny SD q8_0 vs float32: PSNR {psnr(a.array, b.array):.1f} dB")
    assert psnr(a.array, b.array) > 35.0  # measured ~44 dB


def test_bad_input(tiny_sd, ours, tmp_path):
    with pytest.raises(ValueError, match="multiples of 8"):
        ours("a cat", height=60, width=64, progress=False)
    # a multiple of 8 the UNet cannot take: 72 px = 9 latents, halved once by its 2 down blocks
    assert ours.size_multiple == 16
    with pytest.raises(ValueError, match="multiples of 16 for this UNet"):
        ours("a cat", height=64, width=72, progress=False)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        ours("a cat", height=64, width=64, steps=2.9, progress=False)
    with pytest.raises(ValueError, match="guidance_scale must be finite"):
        ours("a cat", height=64, width=64, guidance_scale=float("nan"), progress=False)
    with pytest.raises(ValueError, match="NaN or Inf"):
        ours("a cat", height=64, width=64, latents=np.full((1, 4, 8, 8), np.nan, np.float32), progress=False)
    with pytest.raises(ValueError, match="seeds must be >= 0"):
        ours("a cat", height=64, width=64, seed=-1, progress=False)
    with pytest.raises(ValueError, match="unknown scheduler"):
        ours("a cat", height=64, width=64, scheduler="plms", progress=False)
    with pytest.raises(ShapeError):
        ours("a cat", height=64, width=64, latents=np.zeros((1, 4, 4, 4), np.float32), progress=False)
    with pytest.raises(ValueError, match="steps"):
        ours("a cat", height=64, width=64, steps=0, progress=False)
    # layouts
    with pytest.raises(ModelFileError, match="model_index.json"):
        DiffusionPipeline.from_pretrained(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd, broken, ignore=shutil.ignore_patterns("torch"))
    (broken / "unet" / "model.onnx").unlink()
    with pytest.raises(ModelFileError, match="unet/model.onnx"):
        DiffusionPipeline.from_pretrained(broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    with pytest.raises(ModelFileError, match="PyTorch"):
        DiffusionPipeline.from_pretrained(broken)
    shutil.copy(tiny_sd / "unet" / "model.onnx", broken / "unet" / "model.onnx")
    shutil.rmtree(broken / "tokenizer")
    with pytest.raises(ModelFileError, match="tokenizer"):
        DiffusionPipeline.from_pretrained(broken)
    # UNets this pipeline cannot feed: extra inputs (SDXL, LCM-distilled), or a bfloat16 export
    import onnx
    from onnx import TensorProto, helper

    def unet_stub(sample_type, extra=()):
        names = ["sample", "timestep", "encoder_hidden_states", *extra]
        ins = [helper.make_tensor_value_info(n, sample_type if n == "sample" else TensorProto.FLOAT, None)
               for n in names]
        out = helper.make_tensor_value_info("out_sample", sample_type, None)
        g = helper.make_graph([helper.make_node("Identity", ["sample"], ["out_sample"])], "unet", ins, [out])
        onnx.save(helper.make_model(g), str(broken / "unet" / "model.onnx"))
    shutil.copytree(tiny_sd / "tokenizer", broken / "tokenizer")
    unet_stub(TensorProto.FLOAT, ["text_embeds", "time_ids"])
    with pytest.raises(ModelFileError, match=r"\['text_embeds', 'time_ids'\]"):
        DiffusionPipeline.from_pretrained(broken, quant="q8_0", cache_dir=tmp_path / "q")
    assert not (tmp_path / "q").exists()  # refused before anything was quantized
    unet_stub(TensorProto.BFLOAT16)  # float16 exports run (converted: test_diffusion_float16.py); bfloat16 not
    with pytest.raises(ModelFileError, match="bfloat16, not float32 or float16"):
        DiffusionPipeline.from_pretrained(broken)
    with pytest.raises(ModelNotFoundError):
        DiffusionPipeline.from_pretrained(tmp_path / "nope")
    with pytest.raises(ModelNotFoundError):  # the hub path, offline: a clear error, not a traceback
        DiffusionPipeline.from_pretrained("edgeai-test/does-not-exist", local_files_only=True,
                                          cache_dir=tmp_path / "hub")


def test_hub_cache_layout_resolves(tiny_sd, tmp_path):
    """from_pretrained(repo id) goes through huggingface_hub: a snapshot already in the cache loads offline."""
    from huggingface_hub.constants import REPO_ID_SEPARATOR
    repo = tmp_path / "hub" / f"models{REPO_ID_SEPARATOR}edgeai-test{REPO_ID_SEPARATOR}tiny-sd"
    commit = "0" * 40
    snap = repo / "snapshots" / commit
    shutil.copytree(tiny_sd, snap, ignore=shutil.ignore_patterns("torch"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    pipe = DiffusionPipeline.from_pretrained("edgeai-test/tiny-sd", local_files_only=True, cache_dir=tmp_path / "hub")
    assert pipe.root == snap
    assert pipe("a cat", height=64, width=64, steps=1, seed=0, progress=False).array.shape == (1, 64, 64, 3)


def test_hub_download_takes_only_the_onnx_parts():
    """The hub filter (huggingface_hub's own) on a repo with PyTorch weights beside the ONNX export."""
    from huggingface_hub.utils import filter_repo_objects

    from edgeai.diffusion.sd import _ALLOW, _IGNORE
    files = ["model_index.json", "README.md", "unet/config.json", "unet/model.onnx", "unet/model.onnx_data",
             "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
             "text_encoder/model.onnx", "text_encoder/pytorch_model.bin", "vae_decoder/model.onnx",
             "vae_encoder/model.onnx", "tokenizer/vocab.json", "tokenizer/merges.txt",
             "scheduler/scheduler_config.json", "sd_turbo.safetensors"]
    got = sorted(filter_repo_objects(files, allow_patterns=_ALLOW, ignore_patterns=_IGNORE))
    assert got == sorted(["model_index.json", "unet/config.json", "unet/model.onnx", "unet/model.onnx_data",
                          "text_encoder/model.onnx", "vae_decoder/model.onnx", "tokenizer/vocab.json",
                          "tokenizer/merges.txt", "scheduler/scheduler_config.json"])
