"""edgeai.onnx's native custom-op library (bindings/ortops.cpp) against the Python ops: same bits, typed errors."""
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeai
from edgeai import _C
from edgeai.errors import FormatError, ModelFileError, ShapeError
from edgeai.onnx import InferenceSession, ops
from edgeai.onnx.quantize import quantize


@pytest.fixture(autouse=True)
def default_backend(monkeypatch):
    """Sessions without custom_ops= take the default (auto), whatever EDGEAI_ONNX_OPS says."""
    from edgeai import _env
    monkeypatch.setattr(_env, "ONNX_OPS", "auto")


def model(nodes, inits, x_shape, outputs=("y",)):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                      None if x_shape is None else list(x_shape))],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def quantized(tmp_path, m, fmt="q8_0", name="q.onnx"):
    onnx.save(m, tmp_path / "m.onnx")
    rep = quantize(tmp_path / "m.onnx", fmt, tmp_path / name, min_params=0, min_conv_macs=0)
    assert rep.quantized, rep.skipped
    return tmp_path / name


def both(path, x, threads=2):
    """Outputs of the native and the Python ops on the same quantized model."""
    nat = InferenceSession(path, threads=threads, custom_ops="native")
    py = InferenceSession(path, threads=threads, custom_ops="python")
    assert nat.custom_ops == "native" and py.custom_ops == "python"
    return nat.run(None, {"x": x}), py.run(None, {"x": x})


def test_session_runs_on_the_native_library(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    path = quantized(tmp_path, model([helper.make_node("MatMul", ["x", "w"], ["y"], name="t")],
                                     {"w": rng.standard_normal((64, 32)).astype(np.float32)}, (None, 64)))
    assert ops.register() == ops.native_library() == _C.__file__
    sess = InferenceSession(path)
    assert sess.custom_ops == "native" and sess.custom_ops_fallback is None
    before = _C.onnx_ops_stats()["calls"]
    sess.run(None, {"x": np.ones((3, 64), np.float32)})
    stats = _C.onnx_ops_stats()
    assert stats["calls"] == before + 1 and stats["registered"]
    import onnxruntime
    assert stats["runtime"] == onnxruntime.__version__


@pytest.mark.parametrize("fmt", ["q8_0", "q4_0", "q4_K"])
@pytest.mark.parametrize("x_shape,k,n,bias", [
    ((5, 72), 72, 40, False),          # K padded to the block multiple
    ((2, 3, 256), 256, 48, True),      # leading batch dims, bias (Gemm)
    ((1, 128), 128, 8, True),
    ((4, 2, 1, 96), 96, 33, False),    # odd N, rank 4
])
def test_matmul_native_equals_python(tmp_path, fmt, x_shape, k, n, bias):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((k, n)).astype(np.float32)
    if bias:
        assert len(x_shape) >= 2
        # Gemm is 2-D only: flatten leading dims in the graph
        nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["y"], name="t")]
        inits = {"w": w, "c": rng.standard_normal(n).astype(np.float32)}
        x_shape = (int(np.prod(x_shape[:-1])), k)
    else:
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="t")]
        inits = {"w": w}
    path = quantized(tmp_path, model(nodes, inits, x_shape), fmt)
    x = (rng.standard_normal(x_shape) * 3).astype(np.float32)
    (a,), (b,) = both(path, x)
    assert a.shape == x_shape[:-1] + (n,)
    np.testing.assert_array_equal(a, b)
    ref = x @ w + (inits["c"] if bias else 0)
    assert np.abs(a - ref).max() <= (0.03 if fmt == "q8_0" else 0.25) * np.abs(ref).max()


CONV = [  # (C, O, kernel, group, stride, pads, dilation, auto_pad)
    (32, 32, 3, 1, 1, [1, 1, 1, 1], 1, "NOTSET"),       # hwc (32-channel groups)
    (64, 48, 1, 1, 1, [0, 0, 0, 0], 1, "NOTSET"),       # hwc 1x1
    (64, 32, 3, 2, 2, [1, 0, 2, 1], 2, "NOTSET"),       # hwc, groups, stride, asymmetric pads, dilation
    (16, 24, 3, 2, 2, [1, 0, 2, 1], 2, "NOTSET"),       # chw (8-channel groups: not whole blocks)
    (32, 32, 3, 32, 1, [1, 1, 1, 1], 1, "NOTSET"),      # chw depthwise: K = 9 padded to 32
    (8, 16, (3, 5), 1, (2, 1), [2, 1, 0, 3], (1, 2), "NOTSET"),
    (32, 16, 3, 1, 2, None, 1, "SAME_UPPER"),
    (32, 16, (2, 3), 1, (2, 3), None, 1, "SAME_LOWER"),
    (12, 16, 3, 1, 1, None, 1, "VALID"),
]


@pytest.mark.parametrize("c,o,k,g,s,pads,d,auto_pad", CONV)
def test_conv_native_equals_python(tmp_path, c, o, k, g, s, pads, d, auto_pad):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    dh, dw = (d, d) if isinstance(d, int) else d
    rng = np.random.default_rng(2)
    w = rng.standard_normal((o, c // g, kh, kw)).astype(np.float32)
    attrs = dict(group=g, strides=[sh, sw], dilations=[dh, dw])
    if auto_pad == "NOTSET":
        attrs["pads"] = pads
    else:
        attrs["auto_pad"] = auto_pad
    inits = {"w": w, "b": rng.standard_normal(o).astype(np.float32)}
    path = quantized(tmp_path, model([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="t", **attrs)],
                                     inits, (None, c, None, None)))
    p = json.loads(next(a.s for n in onnx.load(path).graph.node for a in n.attribute if a.name == "params"))
    assert (p.get("layout") == "hwc") == ((c // g) % 32 == 0)
    for shape in [(2, c, 13, 11), (1, c, 16, 12)]:
        x = (rng.standard_normal(shape) * 100).astype(np.float32)
        (a,), (b,) = both(path, x)
        np.testing.assert_array_equal(a, b)
        import onnxruntime as ort
        ref = ort.InferenceSession(onnx.load(tmp_path / "m.onnx").SerializeToString(),
                                   providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        assert a.shape == ref.shape
        assert np.abs(a - ref).max() <= 0.03 * np.abs(ref).max()


def test_conv_without_bias_and_prescale_extremes(tmp_path):
    rng = np.random.default_rng(3)
    m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="t", pads=[1, 1, 1, 1])],
              {"w": rng.standard_normal((16, 8, 3, 3)).astype(np.float32)}, (1, 8, 9, 9))
    path = quantized(tmp_path, m)
    for scale in (1e-6, 1.0, 1e7):
        x = (rng.standard_normal((1, 8, 9, 9)) * scale).astype(np.float32)
        (a,), (b,) = both(path, x)
        np.testing.assert_array_equal(a, b)


def test_threads_reach_the_native_kernels_and_do_not_change_bits(tmp_path):
    rng = np.random.default_rng(4)
    path = quantized(tmp_path, model([helper.make_node("Conv", ["x", "w"], ["y"], name="t", pads=[1, 1, 1, 1])],
                                     {"w": rng.standard_normal((32, 32, 3, 3)).astype(np.float32)}, (1, 32, 20, 20)))
    x = rng.standard_normal((1, 32, 20, 20)).astype(np.float32)
    outs = []
    for threads, expect in ((1, 1), (2, 2), (None, 0)):
        outs.append(InferenceSession(path, threads=threads).run(None, {"x": x})[0])
        assert _C.onnx_ops_stats()["last_threads"] == expect
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    with pytest.raises(ValueError, match="threads"):
        InferenceSession(path, threads=0)


def test_bad_input_raises_typed_errors_and_the_session_survives(tmp_path):
    rng = np.random.default_rng(5)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm")]
    mm = quantized(tmp_path, model(nodes, {"w": rng.standard_normal((64, 32)).astype(np.float32)}, (None, None),
                                   outputs=("h",)), name="mm.onnx")
    cv = quantized(tmp_path, model([helper.make_node("Conv", ["x", "w"], ["y"], name="cv", pads=[0, 0, 0, 0])],
                                   {"w": rng.standard_normal((32, 32, 3, 3)).astype(np.float32)},
                                   None), name="cv.onnx")
    for backend in ("native", "python"):
        s = InferenceSession(mm, custom_ops=backend)
        with pytest.raises(ShapeError, match="K=64"):
            s.run(None, {"x": np.ones((2, 48), np.float32)})
        assert s.run(None, {"x": np.ones((2, 64), np.float32)})[0].shape == (2, 32)
        s = InferenceSession(cv, custom_ops=backend)
        with pytest.raises(ShapeError, match=r"\[B, C, H, W\]"):
            s.run(None, {"x": np.ones((1, 32, 5), np.float32)})
        with pytest.raises(ShapeError, match="channels"):
            s.run(None, {"x": np.ones((1, 48, 5, 5), np.float32)})
        with pytest.raises(ShapeError, match="empty"):
            s.run(None, {"x": np.ones((1, 32, 2, 2), np.float32)})
        assert s.run(None, {"x": np.ones((1, 32, 5, 5), np.float32)})[0].shape == (1, 32, 3, 3)
    with pytest.raises(ShapeError, match="node 'mm'"):  # the native error names the node
        InferenceSession(mm).run(None, {"x": np.ones((2, 48), np.float32)})


def _edit_node(path, out, fn):
    m = onnx.load(path)
    fn(m)
    onnx.save(m, out)
    return out


def test_bad_params_and_short_weights(tmp_path):
    rng = np.random.default_rng(6)
    path = quantized(tmp_path, model([helper.make_node("MatMul", ["x", "w"], ["y"], name="t")],
                                     {"w": rng.standard_normal((64, 32)).astype(np.float32)}, (None, 64)))

    def bad_fmt(m):
        a = next(a for a in m.graph.node[0].attribute if a.name == "params")
        p = json.loads(a.s)
        p["fmt"] = "q9_9"
        a.s = json.dumps(p).encode()

    with pytest.raises(ModelFileError, match="unknown weight format 'q9_9'"):  # refused when the session loads
        InferenceSession(_edit_node(path, tmp_path / "fmt.onnx", bad_fmt))

    def short(m):
        init = next(i for i in m.graph.initializer if i.name == m.graph.node[0].input[1])
        w = numpy_helper.to_array(init)
        init.CopyFrom(numpy_helper.from_array(w[: w.size - 34], init.name))

    s = InferenceSession(_edit_node(path, tmp_path / "short.onnx", short))
    with pytest.raises(FormatError, match="need 2176 bytes, got 2142"):
        s.run(None, {"x": np.ones((1, 64), np.float32)})


def test_fallback_to_python_ops_when_native_registration_fails(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    w = rng.standard_normal((64, 32)).astype(np.float32)
    path = quantized(tmp_path, model([helper.make_node("MatMul", ["x", "w"], ["y"], name="t")], {"w": w}, (None, 64)))
    x = rng.standard_normal((3, 64)).astype(np.float32)
    good = InferenceSession(path).run(None, {"x": x})[0]
    monkeypatch.setattr(ops, "register", lambda: str(tmp_path / "missing.so"))
    s = InferenceSession(path)
    assert s.custom_ops == "python" and "missing.so" in s.custom_ops_fallback
    np.testing.assert_array_equal(s.run(None, {"x": x})[0], good)
    with pytest.raises(RuntimeError, match="native ONNX ops cannot be registered"):
        InferenceSession(path, custom_ops="native")
    with pytest.raises(ValueError, match="custom_ops"):
        InferenceSession(path, custom_ops="cuda")


def test_native_error_parsing():
    e = ops.native_error(RuntimeError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Non-zero status code returned "
                                      "while running EdgeaiConv node. Name:'up.0' Status Message: [edgeai:ShapeError] "
                                      "EdgeaiConv: input must be [B, C, H, W], got shape (1, 2)"))
    assert type(e) is ShapeError and str(e) == "EdgeaiConv: input must be [B, C, H, W], got shape (1, 2) (node 'up.0')"
    assert type(ops.native_error(RuntimeError("x [edgeai:FormatError] bad"))) is FormatError
    assert ops.native_error(RuntimeError("some other failure")) is None


def test_same_bits_on_a_small_unet_like_graph(tmp_path):
    """Convs (both layouts) and matmuls chained with float ops between them: the whole graph equal bit for bit."""
    rng = np.random.default_rng(8)
    inits = {"w1": rng.standard_normal((32, 8, 3, 3)).astype(np.float32),
             "w2": rng.standard_normal((32, 32, 3, 3)).astype(np.float32),
             "b2": rng.standard_normal(32).astype(np.float32),
             "w3": rng.standard_normal((12, 32)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["ar"]),
             helper.make_node("Conv", ["ar", "w2", "b2"], ["b"], name="c2", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Transpose", ["b"], ["bt"], perm=[0, 2, 3, 1]),
             helper.make_node("MatMul", ["bt", "w3t"], ["y"], name="m")]
    inits["w3t"] = inits.pop("w3").T.copy()
    path = quantized(tmp_path, model(nodes, inits, (1, 8, 16, 16)))
    x = rng.standard_normal((1, 8, 16, 16)).astype(np.float32)
    (a,), (b,) = both(path, x)
    assert a.shape == (1, 8, 8, 12)
    np.testing.assert_array_equal(a, b)


def test_an_old_onnx_runtime_gets_a_clear_error_not_a_crash():
    """RegisterCustomOps called as an ONNX Runtime older than 1.16 would: GetApi(16) is NULL. The library
    must answer with an error status (built with the oldest table's CreateStatus, slot 0), which
    register_custom_ops_library raises and InferenceSession turns into the Python fallback."""
    import ctypes
    lib = ctypes.CDLL(_C.__file__)
    made = []
    create_status_t = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)

    @create_status_t
    def create_status(code, msg):
        made.append((code, msg.decode()))
        return 0x1234  # any non-NULL "status"

    table = (ctypes.c_void_p * 1)(ctypes.cast(create_status, ctypes.c_void_p).value)
    get_api_t = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint32)
    version_t = ctypes.CFUNCTYPE(ctypes.c_void_p)  # a c_char_p result would leak in ctypes
    version = ctypes.create_string_buffer(b"1.15.1")
    asked = []

    @get_api_t
    def get_api(version):
        asked.append(version)
        return None if version >= 16 else ctypes.addressof(table)

    @version_t
    def version_string():
        return ctypes.addressof(version)

    class ApiBase(ctypes.Structure):
        _fields_ = [("GetApi", get_api_t), ("GetVersionString", version_t)]

    base = ApiBase(get_api, version_string)
    lib.RegisterCustomOps.restype = ctypes.c_void_p
    lib.RegisterCustomOps.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    assert lib.RegisterCustomOps(None, ctypes.byref(base)) == 0x1234
    assert asked[0] == 16 and asked[1] == 15
    assert made == [(1, "[edgeai:RuntimeError] ONNX Runtime 1.15.1 is older than 1.16: "
                        "edgeai's native ops need C API version 16")]
    assert isinstance(ops.native_error(RuntimeError(made[0][1])), RuntimeError)
