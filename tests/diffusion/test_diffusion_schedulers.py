"""The samplers' schedules against diffusers' own classes, loaded from scheduler configs as shipped."""
import warnings

import numpy as np
import pytest

from edgeai.diffusion.schedulers import make_scheduler

# Stable Diffusion 1.5's scheduler/scheduler_config.json (a PNDM config, no timestep_spacing key):
# each sampler takes the keys it lacks from its own defaults, as diffusers' from_config does
SD15 = {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
        "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
        "trained_betas": None, "clip_sample": False}
# SD-Turbo's (EulerDiscreteScheduler, trailing spacing)
TURBO = {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1,
         "timestep_spacing": "trailing", "interpolation_type": "linear", "use_karras_sigmas": False,
         "set_alpha_to_one": False, "clip_sample": False}

CASES = [("euler", "EulerDiscreteScheduler"), ("euler_a", "EulerAncestralDiscreteScheduler"),
         ("ddim", "DDIMScheduler"), ("lcm", "LCMScheduler")]


@pytest.mark.parametrize("config", [SD15, TURBO], ids=["sd15", "sd-turbo"])
@pytest.mark.parametrize("ours,theirs", CASES)
@pytest.mark.parametrize("steps", [1, 4, 25])
def test_schedule_matches_diffusers(config, ours, theirs, steps):
    diffusers = pytest.importorskip("diffusers", reason="the oracle is diffusers (test extra)")
    ref = getattr(diffusers, theirs).from_config(config)
    ref.set_timesteps(steps)
    s = make_scheduler(ours, config)
    s.set_timesteps(steps)
    np.testing.assert_array_equal(np.asarray(s.timesteps, np.float64), ref.timesteps.numpy().astype(np.float64))
    if ours.startswith("euler"):
        np.testing.assert_allclose(s.sigmas, ref.sigmas.numpy(), rtol=1e-5)  # float32 interpolation
        assert float(s.init_noise_sigma) == pytest.approx(float(ref.init_noise_sigma), rel=1e-6)


def test_unsupported_options_warn():
    with pytest.warns(UserWarning, match="use_karras_sigmas=True"):
        make_scheduler("euler", dict(SD15, use_karras_sigmas=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_scheduler("euler", TURBO)  # the options at their "off" values: no warning
