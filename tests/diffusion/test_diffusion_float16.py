"""Float16 ONNX exports: converted to float32 (or quantized from float16) and run on the CPU.

The float16 pipeline is the tiny float32 one converted by onnxconverter-common, the tool most hub
float16 exports were made with, so the conversion back is checked against an independent writer.
"""
import shutil

import numpy as np
import pytest
from diffusion_helpers import psnr

from edgeai.diffusion.sd import COMPONENTS, DiffusionPipeline
from edgeai.errors import ModelFileError
from edgeai.onnx.float32 import float32_copy, is_float16, to_float32

H = W = 64
PROMPTS = ["a photo of a cat", "a red house on the hill"]


@pytest.fixture(scope="module")
def tiny_sd_fp16(tiny_sd, tmp_path_factory):
    float16 = pytest.importorskip("onnxconverter_common.float16",
                                  reason="making the float16 pipeline needs onnxconverter-common (test extra)")
    import onnx
    out = tmp_path_factory.mktemp("tiny_sd_fp16") / "pipe"
    shutil.copytree(tiny_sd, out, ignore=shutil.ignore_patterns("torch"))
    for c in COMPONENTS:
        m = onnx.load(str(tiny_sd / c / "model.onnx"))
        onnx.save(float16.convert_float_to_float16(m, keep_io_types=False), str(out / c / "model.onnx"))
        assert is_float16(out / c / "model.onnx")
    return out


@pytest.fixture(scope="module")
def fp32(tiny_sd):
    return DiffusionPipeline.from_pretrained(tiny_sd, threads=2)


def _inits(path):
    import onnx
    from onnx import numpy_helper
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def test_float16_pipeline_runs_as_float32(tiny_sd, tiny_sd_fp16, fp32, tmp_path):
    pipe = DiffusionPipeline.from_pretrained(tiny_sd_fp16, threads=2, cache_dir=tmp_path)
    for c in COMPONENTS:
        p = pipe.paths[c]
        assert p.parent.parent == tmp_path / "onnx-float32" and not is_float16(p), p
    # the weights are the float16 values, widened exactly
    src, got = _inits(tiny_sd_fp16 / "unet" / "model.onnx"), _inits(pipe.paths["unet"])
    big = [n for n, a in src.items() if a.dtype == np.float16 and a.size >= 256]
    assert big
    for n in big:
        assert got[n].dtype == np.float32
        np.testing.assert_array_equal(got[n], src[n].astype(np.float32))
    a = fp32(PROMPTS, height=H, width=W, steps=3, seed=4, progress=False)
    b = pipe(PROMPTS, height=H, width=W, steps=3, seed=4, progress=False)
    print(f"tiny SD float16 export (run in float32) vs float32: PSNR {psnr(a.array, b.array):.1f} dB")
    assert psnr(a.array, b.array) > 35.0  # only the weights were rounded to float16
    # the second load reuses the cached copies
    mtime = pipe.paths["unet"].stat().st_mtime_ns
    again = DiffusionPipeline.from_pretrained(tiny_sd_fp16, threads=2, cache_dir=tmp_path)
    assert again.paths["unet"] == pipe.paths["unet"] and again.paths["unet"].stat().st_mtime_ns == mtime


def test_float16_pipeline_quantized(tiny_sd_fp16, fp32, tmp_path):
    q = DiffusionPipeline.from_pretrained(tiny_sd_fp16, quant="q8_0", threads=2, cache_dir=tmp_path)
    assert q.paths["unet"].parent == tmp_path / "onnx-quantized"
    assert q.paths["vae_decoder"].parent.parent == tmp_path / "onnx-float32"  # not quantized: converted
    assert not any(is_float16(p) for p in q.paths.values())
    a = fp32(PROMPTS, height=H, width=W, steps=3, seed=4, progress=False)
    b = q(PROMPTS, height=H, width=W, steps=3, seed=4, progress=False)
    print(f"tiny SD float16 export, q8_0, vs float32: PSNR {psnr(a.array, b.array):.1f} dB")
    assert psnr(a.array, b.array) > 35.0  # the bound test_quantized_pipeline holds a float32 source to


def test_quantize_float16_model(tiny_sd_fp16, tmp_path):
    from edgeai.onnx import InferenceSession, quantize
    out = tmp_path / "unet.q8_0.onnx"
    report = quantize(tiny_sd_fp16 / "unet" / "model.onnx", "q8_0", out)
    assert report.float16_source and report.quantized
    assert not is_float16(out)
    # the quantized weights come from the float16 values: about half the float16 bytes (q8_0: 34 per 32)
    assert report.quant_bytes < 0.6 * report.float_bytes
    sess = InferenceSession(out, threads=1)
    rng = np.random.default_rng(0)
    feeds = {"sample": rng.standard_normal((1, 4, 8, 8)).astype(np.float32),
             "timestep": np.array([10], np.int64) if "int64" in sess.get_inputs()[1].type
             else np.array([10], np.float32),
             "encoder_hidden_states": rng.standard_normal((1, 77, 32)).astype(np.float32)}
    y = sess.run(None, feeds)[0]
    assert y.dtype == np.float32 and y.shape == (1, 4, 8, 8) and np.all(np.isfinite(y))
    # and it computes the float16 model's function: against the float32 copy of the same float16 weights
    ref = InferenceSession(float32_copy(tiny_sd_fp16 / "unet" / "model.onnx", tmp_path / "unet32"), threads=1)
    want = ref.run(None, feeds)[0]
    print(f"tiny SD float16 UNet, q8_0 vs float32 of the same weights: PSNR {psnr(want, y):.1f} dB")
    assert psnr(want, y) > 30.0


def _graph(dtype, with_cast_to=None):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3).astype(np.float16), "w")
    if dtype == TensorProto.BFLOAT16:
        w = helper.make_tensor("w", TensorProto.BFLOAT16, [2, 3], [0.0] * 6)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y0"]),
             helper.make_node("Constant", [], ["c"], value=helper.make_tensor("cv", dtype, [1], [1.5])),
             helper.make_node("Add", ["y0", "c"], ["y1"]),
             helper.make_node("Cast", ["y1"], ["y"], to=with_cast_to or dtype)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", dtype, [1, 2])],
                          [helper.make_tensor_value_info("y", with_cast_to or dtype, [1, 3])], [w],
                          value_info=[helper.make_tensor_value_info("y0", dtype, [1, 3])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_to_float32_small_graph(tmp_path):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto
    m = _graph(TensorProto.FLOAT16)
    n = to_float32(m)
    assert n == 6  # initializer, constant, Cast target, input, output, value_info
    onnx.checker.check_model(m)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": np.array([[1.0, 2.0]], np.float32)})[0]
    np.testing.assert_array_equal(y, np.array([[6 + 1.5, 9 + 1.5, 12 + 1.5]], np.float32))
    assert to_float32(m) == 0  # already float32
    with pytest.raises(ModelFileError, match="bfloat16"):
        to_float32(_graph(TensorProto.BFLOAT16))


def test_float32_copy_external_data(tmp_path, monkeypatch):
    """Above the 2 GB protobuf limit the copy keeps its weights in model.onnx.data (limit lowered here)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto
    import edgeai.onnx.float32 as f32
    src = tmp_path / "m16.onnx"
    onnx.save(_graph(TensorProto.FLOAT16), str(src))
    monkeypatch.setattr(f32, "_PROTO_LIMIT", 16)  # the weight is 24 bytes as float32
    out = float32_copy(src, tmp_path / "copy")
    assert out == tmp_path / "copy" / "model.onnx" and (tmp_path / "copy" / "model.onnx.data").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left behind
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert sess.run(None, {"x": np.ones((1, 2), np.float32)})[0].tolist() == [[4.5, 6.5, 8.5]]
    with pytest.raises(ModelFileError, match="cannot read"):
        (tmp_path / "bad.onnx").write_bytes(b"not a model")
        float32_copy(tmp_path / "bad.onnx", tmp_path / "copy2")
    assert not (tmp_path / "copy2").exists()


def test_float16_terrain_model(terrain_path, tmp_path):
    """The terrain UNet converted to float16 (onnxconverter-common) runs through TerrainPipeline.from_pretrained."""
    float16 = pytest.importorskip("onnxconverter_common.float16", reason="needs onnxconverter-common (test extra)")
    import onnx
    from edgeai.diffusion import TerrainPipeline
    src = tmp_path / "terrain.fp16.onnx"
    onnx.save(float16.convert_float_to_float16(onnx.load(str(terrain_path)), keep_io_types=False), str(src))
    pipe = TerrainPipeline.from_pretrained(src, threads=2, cache_dir=tmp_path / "cache")
    assert pipe.model_path.parent.parent == tmp_path / "cache" / "onnx-float32"
    a = TerrainPipeline(terrain_path, threads=2)(40, seed=2, progress=False).heightmaps
    b = pipe(40, seed=2, progress=False).heightmaps
    print(f"terrain float16 export (run in float32) vs float32: PSNR {psnr(a, b):.1f} dB")
    assert psnr(a, b) > 35.0
