"""Fixtures for the diffusion tests: the real terrain model (pinned PyPI wheel), its quantized
copies, and a tiny random-weight Stable Diffusion pipeline built at session start."""
import importlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the diffusion tests need the onnx extra (pip install edgeai[onnx])")
pytest.importorskip("onnxruntime_extensions", reason="the diffusion tests need the onnx extra")


def psnr(ref: np.ndarray, x: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, the peak being the reference's value range."""
    rng = float(ref.max() - ref.min())
    mse = float(np.mean((ref.astype(np.float64) - x) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(rng * rng / mse)


@pytest.fixture(scope="session")
def terrain_path() -> Path:
    from edgeai.pypi_models import fetch_pypi_file
    return fetch_pypi_file("terrain-consistency-unet")


@pytest.fixture(scope="session")
def terrain_feeds():
    """Fixed inputs: a batch of 2 at the sampling start (sigma 80) and mid-way (sigma 2)."""
    rng = np.random.default_rng(1234)
    noise = rng.standard_normal((2, 1, 128, 128)).astype(np.float32)
    sigma = np.array([80.0, 2.0], np.float32)
    return {"noisy": noise * sigma[:, None, None, None], "sigma": sigma,
            "difficulty": np.array([40.0, 90.0], np.float32)}


@pytest.fixture(scope="session")
def terrain_q8(terrain_path, tmp_path_factory):
    q = importlib.import_module("edgeai.onnx.quantize")
    out = tmp_path_factory.mktemp("terrain") / "terrain.q8_0.onnx"
    report = q.quantize(terrain_path, "q8_0", out)
    return out, report


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory) -> Path:
    """A tiny SD pipeline (ONNX layout + the diffusers copy in torch/), exported with torch.onnx."""
    pytest.importorskip("torch", reason="building the tiny SD pipeline needs torch (test extra)")
    pytest.importorskip("diffusers", reason="building the tiny SD pipeline needs diffusers (test extra)")
    from tiny_sd import build
    return build(tmp_path_factory.mktemp("tiny_sd"))
