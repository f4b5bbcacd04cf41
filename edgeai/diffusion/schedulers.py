"""Samplers for latent diffusion (numpy): Euler, Euler ancestral, DDIM, LCM, and one-step Turbo.

They follow the discrete-time DDPM noise schedule of Stable Diffusion (scheduler_config.json:
num_train_timesteps, beta_start, beta_end, beta_schedule, prediction_type, timestep_spacing,
steps_offset, set_alpha_to_one) and the update rules of the papers:
Euler / Euler ancestral in sigma space (Karras et al. 2022, "EDM"), DDIM with eta = 0 (Song et al.
2020), LCM multi-step consistency sampling (Luo et al. 2023). A scheduler is used as
``set_timesteps(n)``, then for each ``t`` in ``timesteps``: ``scale_model_input`` -> UNet ->
``step``. Noise for the stochastic samplers comes from the caller's ``numpy.random.Generator``.
"""
import warnings
from typing import Callable, Dict, Optional, Type

import numpy as np

NoiseFn = Callable[[tuple], np.ndarray]  # shape -> float32 standard normal noise

DEFAULT_CONFIG = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                      prediction_type="epsilon", timestep_spacing="leading", steps_offset=1,
                      set_alpha_to_one=False, trained_betas=None, clip_sample=False, clip_sample_range=1.0,
                      original_inference_steps=50, timestep_scaling=10.0)


# scheduler_config.json options that change the schedule and that these samplers do not implement,
# with the value that means "off": set otherwise, the sampler warns that it ignores them
UNSUPPORTED = dict(use_karras_sigmas=False, use_exponential_sigmas=False, use_beta_sigmas=False,
                   rescale_betas_zero_snr=False, thresholding=False, timestep_type="discrete",
                   interpolation_type="linear", final_sigmas_type="zero")


class Scheduler:
    """Common DDPM schedule: betas, cumulative alphas, timestep spacing.

    Args:
        **config: keys of scheduler_config.json (unknown keys are ignored; missing ones take SD's values,
            except ``timestep_spacing``, which takes the sampler's own default as diffusers' classes do
            when loaded from another scheduler's config: linspace for Euler, leading for DDIM and LCM).
    """

    name = "base"
    stochastic = False
    default_spacing = "leading"

    def __init__(self, **config):
        self.config = dict(DEFAULT_CONFIG, timestep_spacing=self.default_spacing)
        self.config.update({k: v for k, v in config.items() if k in DEFAULT_CONFIG and v is not None})
        ignored = sorted(k for k, off in UNSUPPORTED.items() if config.get(k) not in (None, off))
        if ignored:
            warnings.warn(f"the {self.name} sampler ignores scheduler_config options "
                          f"{', '.join(f'{k}={config[k]!r}' for k in ignored)}: its schedule differs from "
                          "the one they ask for", UserWarning, stacklevel=3)
        c = self.config
        n = int(c["num_train_timesteps"])
        if c.get("trained_betas") is not None:
            betas = np.asarray(c["trained_betas"], dtype=np.float64)
        elif c["beta_schedule"] == "linear":
            betas = np.linspace(c["beta_start"], c["beta_end"], n, dtype=np.float64)
        elif c["beta_schedule"] == "scaled_linear":
            betas = np.linspace(c["beta_start"] ** 0.5, c["beta_end"] ** 0.5, n, dtype=np.float64) ** 2
        else:
            raise ValueError(f"beta_schedule {c['beta_schedule']!r} is not supported (linear, scaled_linear)")
        if c["prediction_type"] not in ("epsilon", "v_prediction", "sample"):
            raise ValueError(f"prediction_type {c['prediction_type']!r} is not supported")
        # float32 like the reference implementation, so timesteps and sigmas agree to the last bit
        self.alphas_cumprod = np.cumprod(1.0 - betas.astype(np.float32), dtype=np.float32)
        self.final_alpha_cumprod = np.float32(1.0) if c["set_alpha_to_one"] else self.alphas_cumprod[0]
        self.timesteps = np.zeros(0)
        self.init_noise_sigma = 1.0

    def spaced_timesteps(self, steps: int) -> np.ndarray:
        """``steps`` training timesteps, high to low, per ``timestep_spacing`` (float)."""
        n, spacing = int(self.config["num_train_timesteps"]), self.config["timestep_spacing"]
        if steps < 1 or steps > n:
            raise ValueError(f"steps must be in 1..{n}, got {steps}")
        if spacing == "linspace":
            return np.linspace(0, n - 1, steps, dtype=np.float32)[::-1].copy()
        if spacing == "leading":
            ratio = n // steps
            return (np.arange(0, steps) * ratio).round()[::-1].astype(np.float32) + self.config["steps_offset"]
        if spacing == "trailing":
            return np.arange(n, 0, -n / steps).round().astype(np.float32) - 1
        raise ValueError(f"timestep_spacing {spacing!r} is not supported (linspace, leading, trailing)")

    def set_timesteps(self, steps: int) -> None:
        raise NotImplementedError

    def scale_model_input(self, sample: np.ndarray, i: int) -> np.ndarray:
        return sample

    def step(self, model_output: np.ndarray, i: int, sample: np.ndarray, noise: NoiseFn) -> np.ndarray:
        """One update from step index ``i`` to ``i + 1``; returns the new sample."""
        raise NotImplementedError

    def _x0_eps(self, out: np.ndarray, sample: np.ndarray, a: float):
        """(predicted x0, predicted noise) from the UNet output at cumulative alpha ``a``."""
        kind = self.config["prediction_type"]
        sa, sb = np.float32(a ** 0.5), np.float32((1 - a) ** 0.5)
        if kind == "epsilon":
            return (sample - sb * out) / sa, out
        if kind == "sample":
            return out, (sample - sa * out) / sb
        return sa * sample - sb * out, sa * out + sb * sample  # v_prediction


class EulerScheduler(Scheduler):
    """Euler's method on the probability-flow ODE in sigma space (deterministic)."""

    name = "euler"
    ancestral = False
    default_spacing = "linspace"

    def set_timesteps(self, steps: int) -> None:
        t = self.spaced_timesteps(steps)
        full = ((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5
        sig = np.interp(t, np.arange(len(full)), full)
        self.timesteps = t
        self.sigmas = np.concatenate([sig, [0.0]]).astype(np.float32)
        smax = float(self.sigmas.max())
        self.init_noise_sigma = smax if self.config["timestep_spacing"] in ("linspace", "trailing") \
            else (smax ** 2 + 1) ** 0.5

    def scale_model_input(self, sample, i):
        return sample / np.float32((float(self.sigmas[i]) ** 2 + 1) ** 0.5)

    def step(self, model_output, i, sample, noise):
        sigma, nxt = self.sigmas[i], self.sigmas[i + 1]
        kind = self.config["prediction_type"]
        if kind == "epsilon":
            x0 = sample - sigma * model_output
        elif kind == "v_prediction":
            x0 = model_output * (-sigma / (sigma ** 2 + 1) ** 0.5) + sample / (sigma ** 2 + 1)
        else:
            x0 = model_output
        d = (sample - x0) / sigma
        if not self.ancestral:
            return (sample + d * (nxt - sigma)).astype(np.float32)
        up = (nxt ** 2 * (sigma ** 2 - nxt ** 2) / sigma ** 2) ** 0.5
        down = (nxt ** 2 - up ** 2) ** 0.5
        x = sample + d * (down - sigma)
        return (x + noise(sample.shape) * up).astype(np.float32)


class EulerAncestralScheduler(EulerScheduler):
    """Euler ancestral: a deterministic step to sigma_down, then fresh noise of size sigma_up."""

    name = "euler_a"
    ancestral = True
    stochastic = True


class DDIMScheduler(Scheduler):
    """DDIM with eta = 0: deterministic, x_{t-1} = sqrt(a') x0 + sqrt(1 - a') eps."""

    name = "ddim"

    def set_timesteps(self, steps: int) -> None:
        self.timesteps = self.spaced_timesteps(steps).astype(np.int64)
        self._stride = int(self.config["num_train_timesteps"]) // steps

    def step(self, model_output, i, sample, noise):
        t = int(self.timesteps[i])
        prev = t - self._stride
        a = float(self.alphas_cumprod[t])
        a_prev = float(self.alphas_cumprod[prev]) if prev >= 0 else float(self.final_alpha_cumprod)
        x0, eps = self._x0_eps(model_output, sample, a)
        if self.config["clip_sample"]:
            r = self.config["clip_sample_range"]
            x0 = np.clip(x0, -r, r)
            eps = (sample - np.float32(a ** 0.5) * x0) / np.float32((1 - a) ** 0.5)
        return (np.float32(a_prev ** 0.5) * x0 + np.float32((1 - a_prev) ** 0.5) * eps).astype(np.float32)


class LCMScheduler(Scheduler):
    """Latent consistency sampling: each step predicts x0 with the consistency boundary scalings,
    then re-noises it to the next timestep (not after the last one)."""

    name = "lcm"
    stochastic = True

    def set_timesteps(self, steps: int) -> None:
        n, orig = int(self.config["num_train_timesteps"]), int(self.config["original_inference_steps"])
        if steps < 1 or steps > orig:
            raise ValueError(f"LCM steps must be in 1..{orig} (original_inference_steps), got {steps}")
        origin = (np.arange(1, orig + 1) * (n // orig) - 1)[::-1]
        idx = np.floor(np.linspace(0, len(origin), num=steps, endpoint=False)).astype(np.int64)
        self.timesteps = origin[idx].astype(np.int64)

    def step(self, model_output, i, sample, noise):
        t = int(self.timesteps[i])
        last = i == len(self.timesteps) - 1
        prev = t if last else int(self.timesteps[i + 1])
        a = float(self.alphas_cumprod[t])
        a_prev = float(self.alphas_cumprod[prev]) if prev >= 0 else float(self.final_alpha_cumprod)
        scaled = t * float(self.config["timestep_scaling"])
        c_skip = 0.25 / (scaled ** 2 + 0.25)          # sigma_data = 0.5
        c_out = scaled / (scaled ** 2 + 0.25) ** 0.5
        x0, _ = self._x0_eps(model_output, sample, a)
        if self.config["clip_sample"]:
            r = self.config["clip_sample_range"]
            x0 = np.clip(x0, -r, r)
        denoised = np.float32(c_out) * x0 + np.float32(c_skip) * sample
        if last:
            return denoised.astype(np.float32)
        return (np.float32(a_prev ** 0.5) * denoised
                + np.float32((1 - a_prev) ** 0.5) * noise(sample.shape)).astype(np.float32)


class TurboScheduler(EulerAncestralScheduler):
    """Single-step SD-Turbo style sampling: Euler ancestral with trailing spacing (one step starts
    at the last training timestep), used with guidance off."""

    name = "turbo"

    def __init__(self, **config):
        config = dict(config, timestep_spacing="trailing")
        super().__init__(**config)


SCHEDULERS: Dict[str, Type[Scheduler]] = {
    "euler": EulerScheduler, "euler_a": EulerAncestralScheduler, "euler_ancestral": EulerAncestralScheduler,
    "ddim": DDIMScheduler, "lcm": LCMScheduler, "turbo": TurboScheduler,
}


def make_scheduler(name: str, config: Optional[dict] = None) -> Scheduler:
    """A scheduler by name (euler, euler_a, ddim, lcm, turbo) with the model's scheduler_config.

    Raises:
        ValueError: unknown name, listing the known ones.
    """
    key = name.lower().replace("-", "_").replace(" ", "_")
    if key not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}; known: {', '.join(sorted(SCHEDULERS))}")
    return SCHEDULERS[key](**(config or {}))
