"""The real terrain model: edgeai q8_0 vs float32 ONNX Runtime (and ORT's own int8), and the pipeline."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from diffusion_helpers import psnr
from onnx import numpy_helper

from edgeai.diffusion import TerrainPipeline
from edgeai.diffusion.terrain import karras_sigmas
from edgeai.onnx import InferenceSession


@pytest.fixture(scope="module")
def float_out(terrain_path, terrain_feeds):
    return InferenceSession(terrain_path, threads=2).run(None, terrain_feeds)[0]


def test_q8_0_fidelity_and_memory(terrain_q8, terrain_feeds, float_out):
    path, report = terrain_q8
    y = InferenceSession(path, threads=2).run(None, terrain_feeds)[0]
    for i in range(len(y)):  # each fixed input on its own: sigma 80 and sigma 2
        p = psnr(float_out[i], y[i])
        print(f"terrain q8_0 vs float32, input {i}: PSNR {p:.1f} dB, max error {np.abs(float_out[i] - y[i]).max():.4f}")
        assert p >= 35.0, "the issue's bar: >= 35 dB against float32"
    assert np.abs(float_out - y).max() < 0.25  # outputs live in [-1, 1]
    # the replaced weights shrink by q8_0's ratio (34 bytes per 32 weights vs 128)
    assert report.quant_bytes / report.float_bytes == pytest.approx(34 / 128, rel=0.01)
    assert report.initializer_bytes_after <= 0.28 * report.initializer_bytes_before
    # the activation-heavy convs (a 64 -> 32 1x1 at 128x128: 32 multiply-adds per input value) stay
    # float by the min_conv_macs rule; besides them only a few tiny layers do
    few = {name for name, why in report.skipped.items() if "min_conv_macs" in why}
    assert 0 < len(few) <= 20, report.skipped
    assert len(report.quantized) > 200 and len(report.skipped) - len(few) <= 5


def test_q8_0_beats_onnxruntime_dynamic_int8(terrain_path, terrain_q8, terrain_feeds, float_out, tmp_path):
    """ONNX Runtime's own dynamic int8 quantization of the same model, on the same inputs."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    out = tmp_path / "terrain.ort-int8.onnx"
    quantize_dynamic(str(terrain_path), str(out), weight_type=QuantType.QInt8)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    y_ort = ort.InferenceSession(str(out), so, providers=["CPUExecutionProvider"]).run(None, terrain_feeds)[0]
    y_ea = InferenceSession(terrain_q8[0], threads=2).run(None, terrain_feeds)[0]
    p_ort, p_ea = psnr(float_out, y_ort), psnr(float_out, y_ea)
    e_ort, e_ea = np.abs(float_out - y_ort).max(), np.abs(float_out - y_ea).max()
    print(f"vs float32: onnxruntime dynamic int8 PSNR {p_ort:.1f} dB, max error {e_ort:.4f}; "
          f"edgeai q8_0 PSNR {p_ea:.1f} dB, max error {e_ea:.4f}")
    assert p_ea > p_ort
    assert e_ea < e_ort
    # memory: all weights as stored. ORT int8 keeps 1 byte per weight + a scale per tensor; q8_0 34 bytes
    # per 32 (an fp16 scale per block) and leaves its few small layers float: both near a quarter of float32
    def weight_bytes(path):
        return sum(numpy_helper.to_array(t).nbytes for t in onnx.load(str(path)).graph.initializer)
    f32, b_ort, b_ea = weight_bytes(terrain_path), weight_bytes(out), weight_bytes(terrain_q8[0])
    print(f"weights: float32 {f32 / 1e6:.1f} MB, onnxruntime int8 {b_ort / 1e6:.1f} MB, edgeai q8_0 {b_ea / 1e6:.1f} MB")
    assert b_ea < 0.3 * f32 and b_ort < 0.3 * f32
    assert b_ea < 1.1 * b_ort


def test_one_step_sampling_matches_a_direct_model_call(terrain_path):
    pipe = TerrainPipeline(terrain_path, threads=2)
    out = pipe(40, seed=7, progress=False)
    x = np.random.default_rng(7).standard_normal((1, 1, 128, 128)).astype(np.float32) * np.float32(80.0)
    direct = pipe.session.run(None, {"noisy": x, "sigma": np.array([80.0], np.float32),
                                     "difficulty": np.array([40.0], np.float32)})[0]
    np.testing.assert_array_equal(out.heightmaps, direct[:, 0])
    assert out.heightmaps.shape == (1, 128, 128) and out.seeds == [7]
    img = out.images[0]
    assert img.dtype == np.uint16 and img.shape == (128, 128)


def test_seeded_batched_and_multistep(terrain_path):
    pipe = TerrainPipeline(terrain_path, threads=2)
    calls = []
    a = pipe([30, 70], seed=5, steps=2, progress=False, callback=lambda i, n, x: calls.append((i, n, x.shape)))
    assert calls == [(0, 2, (2, 128, 128)), (1, 2, (2, 128, 128))]
    b = pipe([30, 70], seed=5, steps=2, progress=False)
    np.testing.assert_array_equal(a.heightmaps, b.heightmaps)  # same seed, same maps
    single = pipe(70, seed=6, steps=2, progress=False)          # map 1 of the batch alone
    np.testing.assert_allclose(single.heightmaps[0], a.heightmaps[1], atol=1e-4)
    one = pipe([30, 70], seed=5, steps=1, progress=False)
    assert not np.allclose(one.heightmaps, a.heightmaps)       # the second step changes the maps
    assert np.all(np.abs(a.heightmaps) <= 1.0)
    assert karras_sigmas(2)[0] == pytest.approx(80.0) and karras_sigmas(2)[1] < 80.0


def test_multistep_sampling_follows_the_consistency_rule(terrain_path):
    """3 steps, replayed by hand: the EDM (Karras, rho = 7) levels from 80 down, the first n of n + 1 that end
    at 0.002, and between steps x = x0 + z * sqrt(sigma_i^2 - sigma_min^2) with the map's own noise stream."""
    smin, smax, rho, n = 0.002, 80.0, 7.0, 3
    want = [(smax ** (1 / rho) + i / n * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho for i in range(n)]
    np.testing.assert_allclose(karras_sigmas(n), want, rtol=1e-12)
    pipe = TerrainPipeline(terrain_path, threads=2)
    out = pipe(55, seed=11, steps=n, progress=False)
    rng = np.random.default_rng(11)

    def call(x, sigma):
        return pipe.session.run(None, {"noisy": x, "sigma": np.array([sigma], np.float32),
                                       "difficulty": np.array([55.0], np.float32)})[0]
    x0 = call(rng.standard_normal((1, 1, 128, 128)).astype(np.float32) * np.float32(want[0]), want[0])
    for sigma in want[1:]:
        z = rng.standard_normal((1, 1, 128, 128)).astype(np.float32)
        x0 = call(x0 + z * np.float32(np.sqrt(sigma ** 2 - smin ** 2)), sigma)
    np.testing.assert_allclose(out.heightmaps, x0[:, 0], atol=1e-6)


def test_quantized_pipeline_close_to_float(terrain_path, terrain_q8):
    f = TerrainPipeline(terrain_path, threads=2)(50, seed=3, progress=False)
    q = TerrainPipeline(terrain_q8[0], threads=2)(50, seed=3, progress=False)
    assert psnr(f.heightmaps, q.heightmaps) >= 35.0


def test_bad_input(terrain_path, tmp_path):
    pipe = TerrainPipeline(terrain_path, threads=1)
    with pytest.raises(ValueError, match="difficulty"):
        pipe(0.5, progress=False)
    with pytest.raises(ValueError, match="difficulty"):
        pipe(float("nan"), progress=False)
    with pytest.raises(ValueError, match="seeds"):
        pipe([10, 20], seed=[1], progress=False)
    with pytest.raises(ValueError, match="sigmas"):
        pipe(10, sigmas=[1.0, 5.0], progress=False)
    with pytest.raises(ValueError, match="steps"):
        pipe(10, steps=0, progress=False)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        pipe(10, steps=2.5, progress=False)
    with pytest.raises(ValueError, match="sigmas"):
        pipe(10, sigmas=[float("nan")], progress=False)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        pipe(10, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="seeds must be >= 0"):
        pipe(10, seed=-3, progress=False)
    with pytest.raises(Exception, match=r"\[B, 1, 128, 128\]"):
        pipe.denoise(np.zeros((1, 1, 64, 64), np.float32), 80.0, 10.0)
    from edgeai.errors import FormatError, ModelNotFoundError
    with pytest.raises(ModelNotFoundError):
        TerrainPipeline.from_pretrained(tmp_path / "missing.onnx")
    with pytest.raises(FormatError):
        TerrainPipeline.from_pretrained(terrain_path, quant="q7_7")


def test_q4_0_memory_and_fidelity(terrain_path, terrain_feeds, float_out, tmp_path):
    """4-bit weights: a quarter of q8_0's bytes again, at a visible fidelity cost on this UNet (~25-30 dB)."""
    import importlib
    q = importlib.import_module("edgeai.onnx.quantize")
    report = q.quantize(terrain_path, "q4_0", tmp_path / "t.q4_0.onnx")
    assert report.quant_bytes / report.float_bytes == pytest.approx(18 / 128, rel=0.01)
    y = InferenceSession(tmp_path / "t.q4_0.onnx", threads=2).run(None, terrain_feeds)[0]
    p = min(psnr(float_out[i], y[i]) for i in range(len(y)))
    print(f"terrain q4_0 vs float32: PSNR {p:.1f} dB (worst input)")
    assert p >= 20.0
