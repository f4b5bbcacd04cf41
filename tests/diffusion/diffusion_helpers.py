"""Helpers shared by the diffusion tests (a uniquely named module: several test folders have a conftest)."""
import numpy as np


def psnr(ref: np.ndarray, x: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, the peak being the reference's value range."""
    rng = float(ref.max() - ref.min())
    mse = float(np.mean((ref.astype(np.float64) - x) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(rng * rng / mse)
