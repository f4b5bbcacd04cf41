"""edgeai.onnx: quantized MatMul / Gemm / Conv nodes against ONNX Runtime's float ops, and bad input."""
import importlib
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeai
from edgeai.errors import FormatError, ModelFileError
from edgeai.onnx import InferenceSession, UnsupportedOperatorError
from edgeai.onnx.ops import DOMAIN, run_conv

quantize_mod = importlib.import_module("edgeai.onnx.quantize")
quantize = quantize_mod.quantize


def one_node_model(op, inputs, inits, attrs, x_shape, opset=18):
    node = helper.make_node(op, inputs, ["y"], name="target", **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def ort_run(model, x):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


CONV_CASES = [  # (C, O, kernel, group, stride, pads, dilation)
    (32, 32, 3, 1, 1, [1, 1, 1, 1], 1),
    (64, 48, 1, 1, 1, [0, 0, 0, 0], 1),      # pointwise fast path
    (16, 24, 3, 2, 2, [1, 0, 2, 1], 2),      # groups, stride, asymmetric pads, dilation
    (32, 32, 3, 32, 1, [1, 1, 1, 1], 1),     # depthwise: K = 9 padded to one block
    (8, 16, (3, 5), 1, (2, 1), [2, 1, 0, 3], (1, 2)),
]


@pytest.mark.parametrize("c,o,k,g,s,pads,d", CONV_CASES)
def test_im2col_conv_matches_ort_exactly_with_f32_weights(c, o, k, g, s, pads, d):
    """The im2col geometry alone: f32 'blocks' make the GEMM exact, so only summation order differs."""
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    dh, dw = (d, d) if isinstance(d, int) else d
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, c, 13, 11)).astype(np.float32)
    w = rng.standard_normal((o, c // g, kh, kw)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    attrs = dict(group=g, strides=[sh, sw], pads=pads, dilations=[dh, dw])
    ref = ort_run(one_node_model("Conv", ["x", "w", "b"], {"w": w, "b": b}, attrs, x.shape), x)
    k_real = (c // g) * kh * kw
    packed = edgeai.quantize(w.reshape(o, k_real), "f32")
    p = json.dumps(dict(fmt="f32", n=o, k=k_real, kp=k_real, kernel=[kh, kw], group=g, auto_pad="NOTSET",
                        strides=[sh, sw], pads=pads, dilations=[dh, dw]))
    y = run_conv(x, packed.data, b, p)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("c,o,k,g,s,pads,d", CONV_CASES)
def test_quantized_conv_model_close_to_ort(tmp_path, c, o, k, g, s, pads, d):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    dh, dw = (d, d) if isinstance(d, int) else d
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, c, 16, 12)).astype(np.float32)
    w = rng.standard_normal((o, c // g, kh, kw)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    m = one_node_model("Conv", ["x", "w", "b"], {"w": w, "b": b},
                       dict(group=g, strides=[sh, sw], pads=pads, dilations=[dh, dw]), x.shape)
    src, dst = tmp_path / "m.onnx", tmp_path / "m.q8_0.onnx"
    onnx.save(m, src)
    rep = quantize(src, "q8_0", dst, min_params=0, min_conv_macs=0)
    assert rep.quantized == ["target"]
    ref = ort_run(m, x)
    y = InferenceSession(dst, threads=2).run(None, {"x": x})[0]
    # q8_0 weights and activations: ~1% of the output scale
    assert np.abs(y - ref).max() <= 0.03 * np.abs(ref).max()


def test_auto_pad_same_upper(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 32, 9, 10)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    m = one_node_model("Conv", ["x", "w"], {"w": w}, dict(auto_pad="SAME_UPPER", strides=[2, 2]), x.shape)
    onnx.save(m, tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx")
    ref = ort_run(m, x)
    y = InferenceSession(tmp_path / "q.onnx").run(None, {"x": x})[0]
    assert y.shape == ref.shape
    assert np.abs(y - ref).max() <= 0.03 * np.abs(ref).max()


@pytest.mark.parametrize("attrs,c_shape", [
    (dict(transB=1), (64,)), (dict(transB=0, alpha=0.5, beta=2.0), (1, 64)), (dict(transA=1, transB=1), None)])
def test_quantized_gemm_close_to_ort(tmp_path, attrs, c_shape):
    rng = np.random.default_rng(3)
    k, n = 96, 64
    x_shape = (k, 5) if attrs.get("transA") else (5, k)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((n, k) if attrs.get("transB") else (k, n)).astype(np.float32)
    inits = {"w": w}
    inputs = ["x", "w"]
    if c_shape:
        inits["c"] = rng.standard_normal(c_shape).astype(np.float32)
        inputs.append("c")
    m = one_node_model("Gemm", inputs, inits, attrs, x.shape)
    onnx.save(m, tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx")
    ref = ort_run(m, x)
    y = InferenceSession(tmp_path / "q.onnx").run(None, {"x": x})[0]
    assert np.abs(y - ref).max() <= 0.03 * np.abs(ref).max()


def test_quantized_matmul_3d_input_and_padded_k(tmp_path):
    """K = 72 is not a multiple of 32: weights and activations are zero-padded to 96."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 72)).astype(np.float32)
    w = rng.standard_normal((72, 40)).astype(np.float32)
    m = one_node_model("MatMul", ["x", "w"], {"w": w}, {}, x.shape)
    onnx.save(m, tmp_path / "m.onnx")
    rep = quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx")
    assert rep.quantized == ["target"] and rep.float_bytes == w.nbytes
    assert rep.quant_bytes == 40 * 3 * 34  # 40 rows of 3 q8_0 blocks
    ref = ort_run(m, x)
    y = InferenceSession(tmp_path / "q.onnx").run(None, {"x": x})[0]
    assert y.shape == (2, 7, 40)
    assert np.abs(y - ref).max() <= 0.03 * np.abs(ref).max()


def test_tiny_layers_stay_float(tmp_path):
    w = np.ones((8, 4), np.float32)
    m = one_node_model("MatMul", ["x", "w"], {"w": w}, {}, (1, 8))
    onnx.save(m, tmp_path / "m.onnx")
    rep = quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx")
    assert rep.quantized == [] and "target" in rep.skipped and "min_params" in rep.skipped["target"]


@pytest.mark.parametrize("o,k,s,macs,stays_float", [
    (32, 1, 1, 32, True),     # 64 -> 32 pointwise: 32 multiply-adds per input value
    (64, 1, 1, 64, False),    # at the bar: quantized
    (32, 3, 1, 288, False),   # 3x3: 288
    (64, 3, 2, 144, False),   # stride 2 reads each input a quarter as often: 64 * 9 / 4
    (16, 3, 2, 36, True),
])
def test_activation_heavy_convs_stay_float(tmp_path, o, k, s, macs, stays_float):
    w = np.random.default_rng(0).standard_normal((o, 64, k, k)).astype(np.float32)
    m = one_node_model("Conv", ["x", "w"], {"w": w}, {"strides": [s, s]}, (1, 64, 16, 16))
    onnx.save(m, tmp_path / "m.onnx")
    rep = quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx")
    if stays_float:
        assert rep.quantized == [] and f"{macs} multiply-adds per input value" in rep.skipped["target"]
    else:
        assert rep.quantized == ["target"], rep.skipped
    # the rule applies to the automatic choice only: 0 turns it off, and a named node is quantized
    assert quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q0.onnx", min_conv_macs=0).quantized == ["target"]
    assert quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q1.onnx", nodes=["target"]).quantized == ["target"]


def test_activation_prescale_handles_fp16_overflow_range(tmp_path):
    """Activations of 1e8 would overflow q8_0's fp16 block scale without the power-of-two prescale."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 64)) * 1e8).astype(np.float32)
    w = rng.standard_normal((64, 32)).astype(np.float32)
    m = one_node_model("MatMul", ["x", "w"], {"w": w}, {}, x.shape)
    onnx.save(m, tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx")
    y = InferenceSession(tmp_path / "q.onnx").run(None, {"x": x})[0]
    ref = ort_run(m, x)
    assert np.all(np.isfinite(y))
    assert np.abs(y - ref).max() <= 0.03 * np.abs(ref).max()


# ---- bad input --------------------------------------------------------------------------------------------

def _save(tmp_path, m):
    onnx.save(m, tmp_path / "m.onnx")
    return tmp_path / "m.onnx"


def test_unsupported_op_in_a_node_to_quantize(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"], name="act")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    src = _save(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]))
    with pytest.raises(UnsupportedOperatorError, match="'act' is a Relu"):
        quantize(src, "q8_0", tmp_path / "q.onnx", nodes=["act"])
    with pytest.raises(UnsupportedOperatorError, match="no node named 'nope'"):
        quantize(src, "q8_0", tmp_path / "q.onnx", nodes=["nope"])
    assert not (tmp_path / "q.onnx").exists()


def test_unsupported_attributes_in_a_node_to_quantize(tmp_path):
    w = np.ones((4, 4, 3, 3, 3), np.float32)  # 3-D conv
    src = _save(tmp_path, one_node_model("Conv", ["x", "w"], {"w": w}, {}, (1, 4, 5, 5, 5)))
    with pytest.raises(UnsupportedOperatorError, match="only 2-D Conv"):
        quantize(src, "q8_0", tmp_path / "q.onnx", nodes=["target"])
    rep = quantize(src, "q8_0", tmp_path / "q.onnx")  # not asked for: left float, and said why
    assert rep.quantized == [] and "2-D" in rep.skipped["target"]


def test_dynamic_weights_in_a_node_to_quantize(tmp_path):
    node = helper.make_node("MatMul", ["x", "x2"], ["y"], name="mm")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2]),
                                        helper.make_tensor_value_info("x2", TensorProto.FLOAT, [2, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])])
    src = _save(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]))
    with pytest.raises(UnsupportedOperatorError, match="not a constant initializer"):
        quantize(src, "q8_0", tmp_path / "q.onnx", nodes=["mm"])


def test_nan_weights_raise_and_leave_no_file(tmp_path):
    w = np.ones((64, 64), np.float32)
    w[3, 5] = np.nan
    src = _save(tmp_path, one_node_model("MatMul", ["x", "w"], {"w": w}, {}, (1, 64)))
    out = tmp_path / "q.onnx"
    out.write_bytes(b"previous")
    with pytest.raises(ModelFileError, match="NaN"):
        quantize(src, "q8_0", out)
    assert out.read_bytes() == b"previous"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


@pytest.mark.parametrize("op", ["MatMul", "Conv"])
def test_q4_K_falls_back_to_q4_1_when_K_is_not_a_multiple_of_256(op, tmp_path):
    """K = 96 (MatMul) or 32 channels x 3 x 3 (Conv) in q4_K would be zero-padded to 256-blocks: such a
    layer takes q4_1 (20 bytes per 32 weights) and says so; K = 512 stays q4_K."""
    from edgeai.onnx import InferenceSession
    rng = np.random.default_rng(3)
    for k_in, want in ((96, "q4_1"), (512, "q4_K")):
        if op == "MatMul":
            w = rng.standard_normal((k_in, 64)).astype(np.float32)
            model, x = one_node_model("MatMul", ["x", "w"], {"w": w}, {}, (4, k_in)), \
                rng.standard_normal((4, k_in)).astype(np.float32)
        else:
            c = k_in // 32 * 32 if want == "q4_K" else 32
            w = rng.standard_normal((64, c, 3, 3)).astype(np.float32) * 0.1
            model = one_node_model("Conv", ["x", "w"], {"w": w}, {"pads": [1, 1, 1, 1]}, (1, c, 8, 8))
            x = rng.standard_normal((1, c, 8, 8)).astype(np.float32)
        src = _save(tmp_path, model)
        out = tmp_path / f"q_{op}_{k_in}.onnx"
        report = quantize(src, "q4_K", out)
        node = [n for n in onnx.load(str(out)).graph.node if n.domain == DOMAIN][0]
        params = json.loads(next(a.s for a in node.attribute if a.name == "params"))
        assert params["fmt"] == want, (op, k_in, params)
        assert report.fallback == ({"target": "q4_1"} if want == "q4_1" else {})
        assert report.quant_bytes / report.float_bytes <= 20 / 128 + 1e-9  # no block of zero padding
        ref, y = ort_run(model, x), InferenceSession(out, threads=1).run(None, {"x": x})[0]
        assert np.abs(y - ref).max() < 0.15 * np.abs(ref).max()  # 4-bit weights


def test_nan_weights_in_a_layer_left_float_raise(tmp_path):
    """A layer under min_params stays float, but NaN weights there poison the output just the same."""
    w = np.ones((8, 8), np.float32)
    w[1, 2] = np.nan
    src = _save(tmp_path, one_node_model("MatMul", ["x", "w"], {"w": w}, {}, (1, 8)))
    with pytest.raises(ModelFileError, match=r"'w' of node .*left float.* 1 NaN/Inf"):
        quantize(src, "q8_0", tmp_path / "q.onnx")
    assert not (tmp_path / "q.onnx").exists()


def test_gpu_only_op_is_named(tmp_path):
    """An export fused for a GPU provider (com.microsoft GroupNorm: CUDA only) fails with a hint, not ORT's code."""
    from edgeai.onnx import InferenceSession
    g = helper.make_graph(
        [helper.make_node("GroupNorm", ["x", "g", "b"], ["y"], domain="com.microsoft", epsilon=1e-5, groups=2,
                          activation=0)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])],
        [numpy_helper.from_array(np.ones(4, np.float32), "g"), numpy_helper.from_array(np.zeros(4, np.float32), "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    with pytest.raises(ModelFileError, match="GroupNorm.*optimized for a GPU provider"):
        InferenceSession(m.SerializeToString())


def test_bad_format_and_bad_model_file(tmp_path):
    src = _save(tmp_path, one_node_model("MatMul", ["x", "w"], {"w": np.ones((64, 64), np.float32)}, {}, (1, 64)))
    with pytest.raises(FormatError):
        quantize(src, "q9_9", tmp_path / "q.onnx")
    with pytest.raises(FormatError):
        quantize(src, "q8_1", tmp_path / "q.onnx")  # an activation format
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not an onnx file" * 10)
    with pytest.raises(ModelFileError):
        quantize(bad, "q8_0", tmp_path / "q.onnx")


def test_output_written_atomically(tmp_path, monkeypatch):
    """A failure while writing leaves neither a partial output nor a temp file."""
    src = _save(tmp_path, one_node_model("MatMul", ["x", "w"], {"w": np.ones((64, 64), np.float32)}, {}, (1, 64)))
    real_replace = os.replace

    def boom(a, b):
        raise OSError("disk full")
    monkeypatch.setattr(quantize_mod.os, "replace", boom)
    with pytest.raises(OSError):
        quantize(src, "q8_0", tmp_path / "q.onnx")
    monkeypatch.setattr(quantize_mod.os, "replace", real_replace)
    assert not (tmp_path / "q.onnx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_wrong_input_shape_raises_clearly(tmp_path):
    src = _save(tmp_path, one_node_model("MatMul", ["x", "w"], {"w": np.ones((64, 32), np.float32)}, {}, (None, None)))
    quantize(src, "q8_0", tmp_path / "q.onnx")
    sess = InferenceSession(tmp_path / "q.onnx")
    with pytest.raises(Exception, match="K=64"):
        sess.run(None, {"x": np.ones((2, 48), np.float32)})


def test_conv_bits_do_not_depend_on_threads_or_chunking(monkeypatch):
    """The GEMM tile grid depends on the shapes only; chunking only splits output rows."""
    from edgeai.onnx import im2col
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 32, 33, 17)).astype(np.float32)
    w = edgeai.quantize(rng.standard_normal((40, 32 * 9)).astype(np.float32), "q8_0")
    kw = dict(out_channels=40, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), dilations=(1, 1), group=1, k_real=288)
    a = im2col.conv2d(x, w, None, threads=1, **kw)
    b = im2col.conv2d(x, w, None, threads=2, **kw)
    monkeypatch.setattr(im2col, "CHUNK_BYTES", 4096)  # a few output rows per chunk
    c = im2col.conv2d(x, w, None, threads=2, **kw)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


# ---- the (kh, kw, c) weight layout: input quantized once as NHWC blocks (kernels/nn/conv2d-nhwc.c) -----------

HWC_CASES = [  # (C, O, kernel, group, stride, pads, dilation): C/g a multiple of 32 for the q8_0 runs
    (32, 32, 3, 1, 1, [1, 1, 1, 1], 1),
    (64, 48, 1, 1, 1, [0, 0, 0, 0], 1),      # 1x1: the GEMM reads the quantized input in place
    (96, 40, 1, 1, 2, [0, 0, 0, 0], 1),      # 1x1 with stride: patches copied
    (64, 40, 3, 2, 2, [1, 0, 2, 1], 2),      # groups, stride, asymmetric pads, dilation
    (64, 64, 1, 2, 1, [0, 0, 0, 0], 1),      # grouped 1x1 in place
    (32, 16, (3, 5), 1, (2, 1), [2, 1, 0, 3], (1, 2)),
    (32, 8, 3, 1, 1, [0, 0, 0, 0], 1),       # no padding: output smaller than the input
]


def _hwc_params(fmt, c, o, kh, kw, g, sh, sw, pads, dh, dw):
    return json.dumps(dict(fmt=fmt, n=o, k=(c // g) * kh * kw, kp=(c // g) * kh * kw, kernel=[kh, kw], group=g,
                           auto_pad="NOTSET", strides=[sh, sw], pads=pads, dilations=[dh, dw], layout="hwc"))


@pytest.mark.parametrize("c,o,k,g,s,pads,d", HWC_CASES)
def test_hwc_conv_matches_ort(c, o, k, g, s, pads, d):
    """f32 weights make the products exact (geometry alone); q8_0 stays within its ~1% error."""
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    dh, dw = (d, d) if isinstance(d, int) else d
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, c, 13, 11)).astype(np.float32)
    w = rng.standard_normal((o, c // g, kh, kw)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    ref = ort_run(one_node_model("Conv", ["x", "w", "b"], {"w": w, "b": b},
                                 dict(group=g, strides=[sh, sw], pads=pads, dilations=[dh, dw]), x.shape), x)
    rows = w.transpose(0, 2, 3, 1).reshape(o, -1)
    for fmt, tol in (("f32", 1e-5), ("q8_0", 0.03)):
        y = run_conv(x, edgeai.quantize(rows, fmt).data, b, _hwc_params(fmt, c, o, kh, kw, g, sh, sw, pads, dh, dw))
        assert y.shape == ref.shape
        assert np.abs(y - ref).max() <= tol * np.abs(ref).max(), fmt


@pytest.mark.parametrize("o", [24, 40])
def test_hwc_conv_large_image_partial_pixel_tiles(o):
    """A 37x41 output: 1517 pixels, so the last pixel tile is partial both for the 128-pixel tiles
    of <= 32 output channels and the 64-pixel tiles of more; also the same bits on 1 and 2 threads."""
    from edgeai.onnx import im2col
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 32, 37, 41)).astype(np.float32)
    w = rng.standard_normal((o, 32, 3, 3)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    ref = ort_run(one_node_model("Conv", ["x", "w", "b"], {"w": w, "b": b},
                                 dict(pads=[1, 1, 1, 1]), x.shape), x)
    rows = w.transpose(0, 2, 3, 1).reshape(o, -1)
    for fmt, tol in (("f32", 1e-5), ("q8_0", 0.03), ("q4_0", 0.15)):
        y = run_conv(x, edgeai.quantize(rows, fmt).data, b, _hwc_params(fmt, 32, o, 3, 3, 1, 1, 1, [1, 1, 1, 1], 1, 1))
        assert np.abs(y - ref).max() <= tol * np.abs(ref).max(), fmt
    kw = dict(out_channels=o, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), dilations=(1, 1), group=1)
    wq = edgeai.quantize(rows, "q8_0")
    one = im2col.conv2d_nhwc(x, wq, b, threads=1, **kw)
    for threads in (2, 3):  # tiles go out in runs per thread (3: runs of uneven length); same bits
        np.testing.assert_array_equal(one, im2col.conv2d_nhwc(x, wq, b, threads=threads, **kw))


# (C, O, image, stride, fmt): 64-pixel tiles of a 64-wide output, 128-pixel tiles of 4 whole 32-wide
# rows, stride 2, and q4_K's 256-channel blocks in 32-pixel tiles of 2 rows; q8_0 runs the swapped GEMM
# (kernels/nn/conv2d-nhwc.c), the 4-bit formats the plain one, q4_1 the q8_1 activations.
TILE_CASES = [
    (64, 64, 64, 1, "q8_0"), (64, 64, 64, 1, "q4_0"),
    (32, 32, 32, 1, "q8_0"), (32, 32, 32, 1, "q4_1"),
    (32, 24, 64, 2, "q8_0"),
    (256, 16, 16, 1, "q4_K"), (256, 16, 16, 1, "q8_0"),
]


@pytest.mark.parametrize("c,o,hw,s,fmt", TILE_CASES)
def test_hwc_conv_against_dequantized_weights(c, o, hw, s, fmt):
    """Against ONNX Runtime's float conv with the *dequantized* weights, so only the activation
    quantization (8-bit blocks, ~0.5%) separates the two: a dropped or shifted kernel row, pixel or
    tile would show as tens of percent. Also a fused residual, and the same bits on 1-3 threads."""
    from edgeai.onnx import im2col
    rng = np.random.default_rng(c + o + hw + s)
    x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
    w = rng.standard_normal((o, c, 3, 3)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    wq = edgeai.quantize(w.transpose(0, 2, 3, 1).reshape(o, -1), fmt)
    wd = wq.dequantize().reshape(o, 3, 3, c).transpose(0, 3, 1, 2).copy()
    ref = ort_run(one_node_model("Conv", ["x", "w", "b"], {"w": wd, "b": b},
                                 dict(strides=[s, s], pads=[1, 1, 1, 1]), x.shape), x)
    kw = dict(out_channels=o, kernel=(3, 3), strides=(s, s), pads=(1, 1, 1, 1), dilations=(1, 1), group=1)
    y = im2col.conv2d_nhwc(x, wq, b, threads=1, **kw)
    assert y.shape == ref.shape
    assert np.abs(y - ref).max() <= 0.01 * np.abs(ref).max()
    for threads in (2, 3):
        np.testing.assert_array_equal(y, im2col.conv2d_nhwc(x, wq, b, threads=threads, **kw))
    r = rng.standard_normal(y.shape).astype(np.float32)
    yr = im2col.conv2d_nhwc_raw(x, wq.data, edgeai.FORMATS[fmt].type_id, edgeai.FORMATS[fmt].block_size,
                                wq.shape[1], b, threads=2, residual=r, **kw)
    np.testing.assert_array_equal(yr, y + r)


def test_quantize_picks_the_hwc_layout_when_channels_are_whole_blocks(tmp_path):
    rng = np.random.default_rng(8)
    for c, layout in ((64, "hwc"), (8, None)):
        w = rng.standard_normal((16, c, 3, 3)).astype(np.float32)
        m = one_node_model("Conv", ["x", "w"], {"w": w}, dict(pads=[1, 1, 1, 1]), (1, c, 6, 6))
        onnx.save(m, tmp_path / "m.onnx")
        quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx", min_params=0, min_conv_macs=0)
        node = onnx.load(tmp_path / "q.onnx").graph.node[0]
        params = json.loads(helper.get_attribute_value(node.attribute[0]))
        assert params.get("layout") == layout
        x = rng.standard_normal((1, c, 6, 6)).astype(np.float32)
        ref = ort_run(m, x)
        y = InferenceSession(tmp_path / "q.onnx", threads=2).run(None, {"x": x})[0]
        assert np.abs(y - ref).max() <= 0.03 * np.abs(ref).max()


def test_hwc_conv_bits_do_not_depend_on_threads():
    from edgeai.onnx import im2col
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 64, 33, 17)).astype(np.float32)
    w = edgeai.quantize(rng.standard_normal((40, 9 * 64)).astype(np.float32), "q8_0")
    kw = dict(out_channels=40, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), dilations=(1, 1), group=1)
    a = im2col.conv2d_nhwc(x, w, None, threads=1, **kw)
    b = im2col.conv2d_nhwc(x, w, None, threads=2, **kw)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt", ["q8_0", "q4_1"])
@pytest.mark.parametrize("scale", [1e8, 1e-6, 1.0, 0.0])
def test_hwc_conv_prescale_extremes(scale, fmt):
    """max|x| = 1e8 overflows q8_0's fp16 block scale and 1e-6 falls in its subnormals without the
    prescale; an all-zero input gives the bias alone. q4_1 (q8_1 activations, whose fp16
    s = d * sum(qs) overflowed at the q8_0 prescale, giving NaN even at scale 1) too."""
    from edgeai.onnx import im2col
    rng = np.random.default_rng(10)
    x = (rng.standard_normal((1, 32, 8, 8)) * scale).astype(np.float32)
    w = rng.standard_normal((16, 32, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32) * np.float32(scale if scale else 1.0)
    ref = ort_run(one_node_model("Conv", ["x", "w", "b"], {"w": w, "b": b}, dict(pads=[1, 1, 1, 1]), x.shape), x)
    y = im2col.conv2d_nhwc(x, edgeai.quantize(w.transpose(0, 2, 3, 1).reshape(16, -1), fmt), b, out_channels=16,
                           kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), dilations=(1, 1), group=1)
    assert np.all(np.isfinite(y))
    if scale == 0.0:
        np.testing.assert_array_equal(y, np.broadcast_to(b[None, :, None, None], y.shape))
    else:
        assert np.abs(y - ref).max() <= (0.03 if fmt == "q8_0" else 0.15) * np.abs(ref).max()


@pytest.mark.parametrize("fmt", ["q4_1", "q5_1"])
def test_q8_1_activation_formats_in_onnx_ops(tmp_path, fmt):
    """q4_1 / q5_1 weights (q8_1 activations) through every op path: MatMul (kernels/nn/linear.c), a
    (c, kh, kw) conv (8 channels, the prescale in bindings/ortops.cpp) and an hwc conv (32 channels),
    natively and through the Python ops. They gave NaN before the q8_1 prescale (ea_act_prescale)."""
    rng = np.random.default_rng(12)
    cases = [
        (one_node_model("MatMul", ["x", "w"], {"w": rng.standard_normal((64, 48)).astype(np.float32)}, {}, (4, 64)),
         (rng.standard_normal((4, 64)) * 50).astype(np.float32)),
        (one_node_model("Conv", ["x", "w"], {"w": rng.standard_normal((16, 8, 3, 3)).astype(np.float32)},
                        dict(pads=[1, 1, 1, 1]), (1, 8, 9, 7)), (rng.standard_normal((1, 8, 9, 7)) * 50).astype(np.float32)),
        (one_node_model("Conv", ["x", "w"], {"w": rng.standard_normal((16, 32, 3, 3)).astype(np.float32)},
                        dict(pads=[1, 1, 1, 1]), (1, 32, 9, 7)), (rng.standard_normal((1, 32, 9, 7)) * 50).astype(np.float32)),
    ]
    for i, (m, x) in enumerate(cases):
        onnx.save(m, tmp_path / f"m{i}.onnx")
        quantize(tmp_path / f"m{i}.onnx", fmt, tmp_path / f"q{i}.onnx", min_params=0, min_conv_macs=0)
        ref = ort_run(m, x)
        for backend in ("native", "python"):
            y = InferenceSession(tmp_path / f"q{i}.onnx", threads=2, custom_ops=backend).run(None, {"x": x})[0]
            assert np.all(np.isfinite(y)), (i, backend)
            assert np.abs(y - ref).max() <= 0.15 * np.abs(ref).max(), (i, backend)


def test_hwc_conv_bad_input():
    from edgeai.errors import ShapeError
    from edgeai.onnx import im2col
    w = edgeai.quantize(np.ones((8, 2 * 48), np.float32), "q8_0")  # a 1x2 kernel over 48 channels: K = 96
    kw = dict(out_channels=8, kernel=(1, 2), strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1)
    with pytest.raises(ShapeError, match="32-channel blocks"):  # 48 channels: not whole q8_0 blocks
        im2col.conv2d_nhwc(np.ones((1, 48, 4, 4), np.float32), w, None, **kw)
    kw = dict(out_channels=8, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), dilations=(1, 1), group=1)
    w = edgeai.quantize(np.ones((8, 9 * 32), np.float32), "q8_0")
    with pytest.raises(ShapeError, match="channels"):
        im2col.conv2d_nhwc(np.ones((1, 64, 4, 4), np.float32), w, None, **kw)
    with pytest.raises(ShapeError, match="4-D"):
        im2col.conv2d_nhwc(np.ones((32, 4, 4), np.float32), w, None, **kw)
    with pytest.raises(ShapeError, match="empty"):
        im2col.conv2d_nhwc(np.ones((1, 32, 1, 1), np.float32), w, None, **dict(kw, pads=(0, 0, 0, 0)))


def test_matmuls_sharing_an_input_become_one_op_with_the_same_bits(tmp_path):
    """Three projections of one input (one with a bias, K padded 72 -> 96) merge into one EdgeaiMatMul
    + Split; a fourth on another input stays alone; outputs equal the unmerged model's bit for bit."""
    rng = np.random.default_rng(11)
    ws = [rng.standard_normal((72, n)).astype(np.float32) for n in (40, 24, 64)]
    c = rng.standard_normal(24).astype(np.float32)
    w4 = rng.standard_normal((72, 32)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["y0"], name="a"),
             helper.make_node("Gemm", ["x", "w1", "c"], ["y1"], name="b"),
             helper.make_node("Relu", ["x"], ["xr"], name="r"),
             helper.make_node("MatMul", ["xr", "w3"], ["y3"], name="d"),
             helper.make_node("MatMul", ["x", "w2"], ["y2"], name="e")]
    inits = [numpy_helper.from_array(v, k) for k, v in (("w0", ws[0]), ("w1", ws[1]), ("w2", ws[2]), ("c", c), ("w3", w4))]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 72])],
                          [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, None) for i in range(4)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(m, tmp_path / "m.onnx")
    rep = quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "merged.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "apart.onnx", merge_shared_inputs=False)
    assert sorted(rep.quantized) == ["a", "b", "d", "e"]
    ops = [(n.op_type, n.domain) for n in onnx.load(tmp_path / "merged.onnx").graph.node]
    assert ops.count(("EdgeaiMatMul", "ai.onnx.contrib")) == 2 and ops.count(("Split", "")) == 1
    x = rng.standard_normal((3, 72)).astype(np.float32)
    merged = InferenceSession(tmp_path / "merged.onnx", threads=2).run(None, {"x": x})
    apart = InferenceSession(tmp_path / "apart.onnx", threads=2).run(None, {"x": x})
    ref = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    for a, b, r in zip(merged, apart, ref):
        np.testing.assert_array_equal(a, b)
        assert np.abs(a - r).max() <= 0.03 * np.abs(r).max()


@pytest.mark.parametrize("fmt,c", [("q8_0", 64), ("f32", 12), ("f16", 5)])
def test_hwc_conv_pack_paths_agree(fmt, c):
    """The input pack (NCHW -> NHWC, scaled) has an AVX2 path with 8 x 8 transposes and a baseline
    one. Both are exact, so the conv under no cap and under the sse4 cap (which also changes the
    GEMM kernel: float summation order only) agree to float rounding; a misplaced pixel or channel
    would be off by the size of the outputs. Float weights keep float activations (any C), so they
    are also checked against ONNX Runtime on the same weights. Widths and channel counts leave
    every tail of the 8 x 8 blocks."""
    from edgeai.onnx import im2col
    if not any(i["name"] == "avx2" and i["supported"] for i in edgeai.cpu_info()["isas"]):
        pytest.skip("needs a CPU with AVX2 (the pack's AVX2 path)")
    rng = np.random.default_rng(c)
    wf = rng.standard_normal((8, c, 3, 3)).astype(np.float32)
    w = edgeai.quantize(wf.transpose(0, 2, 3, 1).reshape(8, -1), fmt)
    wd = w.dequantize().reshape(8, 3, 3, c).transpose(0, 3, 1, 2).copy()
    kw = dict(out_channels=8, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), dilations=(1, 1), group=1)
    before = edgeai.cpu_info()["isa_cap"]
    try:
        for h, wdt in ((1, 1), (5, 7), (9, 8), (4, 17), (3, 33)):
            x = rng.standard_normal((2, c, h, wdt)).astype(np.float32)
            edgeai.set_isa(None)
            a = im2col.conv2d_nhwc(x, w, None, threads=1, **kw)
            edgeai.set_isa("sse4")
            b = im2col.conv2d_nhwc(x, w, None, threads=1, **kw)
            scale = np.abs(a).max()
            assert np.abs(a - b).max() <= 1e-5 * scale, (h, wdt)
            if fmt != "q8_0":
                ref = ort_run(one_node_model("Conv", ["x", "w"], {"w": wd}, dict(pads=[1, 1, 1, 1]), x.shape), x)
                assert np.abs(a - ref).max() <= 1e-4 * scale, (h, wdt)
    finally:
        edgeai.set_isa(before)
