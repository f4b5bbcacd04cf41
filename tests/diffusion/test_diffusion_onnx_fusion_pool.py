"""edgeai.onnx: the kernels on ONNX Runtime's intra-op pool, and Conv + residual Add fused into EdgeaiConvAdd.

Both change where and when the work runs, never the bits: every output here is compared for equality
with the unfused model / edgeai's own pool, on the native and the Python ops.
"""
import collections

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeai import _C, _env
from edgeai.errors import ShapeError
from edgeai.onnx import InferenceSession, ops
from edgeai.onnx.quantize import quantize


@pytest.fixture(autouse=True)
def defaults(monkeypatch):
    """auto ops and ORT's pool, whatever the environment says; the pool flag reset for later tests."""
    monkeypatch.setattr(_env, "ONNX_OPS", "auto")
    monkeypatch.setattr(_env, "ONNX_POOL", "ort")
    yield
    _C.set_onnx_op_pool(True)


def _ort_has_parallel_for() -> bool:
    major, minor = (int(v) for v in onnxruntime.__version__.split(".")[:2])
    return (major, minor) >= (1, 17)


def graph_model(nodes, inits, inputs, outputs):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def conv_net(rng, c):
    """Residual block shapes: x[1, c, 12, 10] -> conv -> Add(x) (fusable), conv -> Add(broadcast bias) (not: Z's
    shape differs), conv whose output is also a graph output (not: its Y must stay), conv -> Add(Z, Y) with the
    residual first (fusable)."""
    def w():
        return (rng.standard_normal((c, c, 3, 3)) * 0.2).astype(np.float32)

    inits = {"w1": w(), "w2": w(), "w3": w(), "w4": w(), "b1": rng.standard_normal(c).astype(np.float32),
             "bb": rng.standard_normal((1, c, 1, 1)).astype(np.float32)}
    p = dict(pads=[1, 1, 1, 1])
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["a"], name="c1", **p),
             helper.make_node("Add", ["a", "x"], ["s1"], name="add1"),
             helper.make_node("Relu", ["s1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["b"], name="c2", **p),
             helper.make_node("Add", ["b", "bb"], ["s2"], name="add2"),
             helper.make_node("Conv", ["s2", "w3"], ["kept"], name="c3", **p),
             helper.make_node("Add", ["kept", "s1"], ["s3"], name="add3"),
             helper.make_node("Conv", ["s3", "w4"], ["d"], name="c4", **p),
             helper.make_node("Add", ["r1", "d"], ["y"], name="add4")]
    return graph_model(nodes, inits, [("x", [1, c, 12, 10])], ["y", "kept"])


@pytest.mark.parametrize("c", [32, 8])  # hwc layout (ea_conv2d_nhwc's epilogue) and chw (the op's add loop)
def test_residual_adds_fuse_with_the_same_bits(tmp_path, c):
    rng = np.random.default_rng(11)
    onnx.save(conv_net(rng, c), tmp_path / "m.onnx")
    fused = quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "fused.onnx", min_params=0, min_conv_macs=0)
    plain = quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "plain.onnx", min_params=0, min_conv_macs=0, fuse_residual_adds=False)
    assert fused.quantized == plain.quantized == ["c1", "c2", "c3", "c4"]
    ops_f = collections.Counter(n.op_type for n in onnx.load(tmp_path / "fused.onnx").graph.node)
    ops_p = collections.Counter(n.op_type for n in onnx.load(tmp_path / "plain.onnx").graph.node)
    # add1 (Y + X) and add4 (X + Y) fuse; add2 (broadcast Z) and add3 (Y is a graph output) stay
    assert ops_f["EdgeaiConvAdd"] == 2 and ops_f["EdgeaiConv"] == 2 and ops_f["Add"] == 2
    assert ops_p["EdgeaiConv"] == 4 and ops_p["Add"] == 4 and "EdgeaiConvAdd" not in ops_p
    x = rng.standard_normal((1, c, 12, 10)).astype(np.float32)
    ref = InferenceSession(tmp_path / "plain.onnx", threads=1, custom_ops="native").run(None, {"x": x})
    for backend in ("native", "python"):
        for threads in (1, 2):
            got = InferenceSession(tmp_path / "fused.onnx", threads=threads, custom_ops=backend).run(None, {"x": x})
            for a, b in zip(got, ref):
                np.testing.assert_array_equal(a, b)
    f32 = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    assert np.abs(ref[0] - f32[0]).max() <= 0.03 * np.abs(f32[0]).max()


def test_fusion_needs_a_known_equal_shape(tmp_path):
    """An unknown input shape gives shape inference nothing to prove: the Add stays (and the model still runs)."""
    rng = np.random.default_rng(12)
    m = conv_net(rng, 32)
    m.graph.input[0].type.tensor_type.ClearField("shape")
    onnx.save(m, tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx", min_params=0, min_conv_macs=0)
    kinds = collections.Counter(n.op_type for n in onnx.load(tmp_path / "q.onnx").graph.node)
    assert kinds["EdgeaiConvAdd"] == 0 and kinds["Add"] == 4
    x = rng.standard_normal((1, 32, 12, 10)).astype(np.float32)
    assert InferenceSession(tmp_path / "q.onnx").run(None, {"x": x})[0].shape == (1, 32, 12, 10)


@pytest.mark.parametrize("backend", ["native", "python"])
def test_conv_add_rejects_a_residual_of_another_shape(tmp_path, backend):
    rng = np.random.default_rng(13)
    onnx.save(conv_net(rng, 32), tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx", min_params=0, min_conv_macs=0)
    m = onnx.load(tmp_path / "q.onnx")
    node = next(n for n in m.graph.node if n.op_type == "EdgeaiConvAdd")
    node.input[3] = "z"  # the residual now comes from a graph input of the wrong shape
    m.graph.input.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, None))
    onnx.save(m, tmp_path / "bad.onnx")
    s = InferenceSession(tmp_path / "bad.onnx", custom_ops=backend)
    x = rng.standard_normal((1, 32, 12, 10)).astype(np.float32)
    with pytest.raises(ShapeError, match=r"(Z|residual) has shape \(1, 32, 12, 9\)"):
        s.run(None, {"x": x, "z": np.zeros((1, 32, 12, 9), np.float32)})
    out = s.run(None, {"x": x, "z": np.zeros((1, 32, 12, 10), np.float32)})  # the session survives
    assert out[0].shape == (1, 32, 12, 10)


@pytest.mark.skipif(not _ort_has_parallel_for(), reason="ONNX Runtime < 1.17 has no KernelContext_ParallelFor: "
                                                        "edgeai's own pool is the only one")
def test_kernels_on_onnxruntimes_pool_give_the_same_bits(tmp_path, monkeypatch):
    rng = np.random.default_rng(14)
    onnx.save(conv_net(rng, 32), tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx", min_params=0, min_conv_macs=0)
    x = rng.standard_normal((1, 32, 12, 10)).astype(np.float32)
    on_ort = InferenceSession(tmp_path / "q.onnx", threads=2)
    assert on_ort.op_pool == "ort" and _C.onnx_ops_stats()["ort_pool"]
    a = on_ort.run(None, {"x": x})
    monkeypatch.setattr(_env, "ONNX_POOL", "edgeai")
    on_own = InferenceSession(tmp_path / "q.onnx", threads=2)
    assert on_own.op_pool == "edgeai"
    b = on_own.run(None, {"x": x})
    one = InferenceSession(tmp_path / "q.onnx", threads=1).run(None, {"x": x})
    # the choice is each session's own, whichever was built last: on_own stays off ORT's pool, on_ort on it
    calls = _C.onnx_ops_stats()["ort_pool_calls"]
    on_own.run(None, {"x": x})
    assert _C.onnx_ops_stats()["ort_pool_calls"] == calls
    assert np.array_equal(on_ort.run(None, {"x": x})[0], a[0])
    assert _C.onnx_ops_stats()["ort_pool_calls"] == calls + 4  # its 4 convs
    for u, v, w in zip(a, b, one):
        np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(u, w)
    assert InferenceSession(tmp_path / "q.onnx", threads=2, custom_ops="python").op_pool == "edgeai"


def test_a_bad_pool_setting_is_a_clear_error(tmp_path, monkeypatch):
    rng = np.random.default_rng(15)
    onnx.save(conv_net(rng, 32), tmp_path / "m.onnx")
    quantize(tmp_path / "m.onnx", "q8_0", tmp_path / "q.onnx", min_params=0, min_conv_macs=0)
    monkeypatch.setattr(_env, "ONNX_POOL", "openmp")
    with pytest.raises(ValueError, match="EDGEAI_ONNX_POOL must be 'ort' or 'edgeai', not 'openmp'"):
        InferenceSession(tmp_path / "q.onnx")
