"""onnxruntime's quantized matmuls on the same shapes as edgeai: tiny ONNX models built with onnx.helper.

Kinds (the alternatives a user of onnxruntime would pick for y[M, N] = x[M, K] @ W[N, K]^T):
  nbits4_acc0   com.microsoft MatMulNBits, bits=4, block_size=32 (like q4_0), accuracy_level=0
  nbits4_acc4   same with accuracy_level=4 (activations quantized to int8, integer dot products)
  dqmm8         com.microsoft DynamicQuantizeMatMul, int8 weights with a per-column scale
  mmint8        DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(x scale) -> Mul(w scale)

For cold weights (GEMV) one model holds ``copies`` independent weight matrices, each its own
node reading the same x, so one ``run`` streams all of them: time per matmul = run time / copies.
The copies differ in their first byte so no optimizer can share them.
"""
from typing import Dict, List

import numpy as np

ORT_KINDS = ("nbits4_acc0", "nbits4_acc4", "dqmm8", "mmint8")
ORT_LABELS = {
    "nbits4_acc0": "ORT MatMulNBits 4b acc0",
    "nbits4_acc4": "ORT MatMulNBits 4b acc4",
    "dqmm8": "ORT DynamicQuantizeMatMul 8b",
    "mmint8": "ORT MatMulInteger 8b",
}
FOUR_BIT = ("nbits4_acc0", "nbits4_acc4")
EIGHT_BIT = ("dqmm8", "mmint8")
_BLOCK = 32


def weight_nbytes(kind: str, n: int, k: int) -> int:
    """Bytes of one weight matrix (packed weights + scales) as the model stores it."""
    if kind in FOUR_BIT:
        return n * k // 2 + (n * k // _BLOCK) * 4
    return n * k + n * 4


def _quant4(w: np.ndarray):
    """Symmetric 4-bit per block of 32 along K, zero point 8 (MatMulNBits' default).

    Args:
        w: float32 (N, K).
    Returns:
        (packed uint8 (N, K/32, 16): element 2i in the low nibble of byte i, 2i+1 in the high;
         scales float32 (N * K/32,)).
    """
    n, k = w.shape
    blocks = w.reshape(n, k // _BLOCK, _BLOCK)
    amax = np.abs(blocks).max(axis=-1)
    scale = np.where(amax > 0, amax / 7.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(blocks / scale[..., None]) + 8, 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, scale.reshape(-1)


def _quant8(w: np.ndarray):
    """Symmetric int8 per output column. Returns (B int8 (K, N), scale float32 (N,))."""
    amax = np.abs(w).max(axis=1)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q.T), scale


def build_model(kind: str, w: np.ndarray, copies: int = 1) -> bytes:
    """Serialized ONNX model computing ``copies`` matmuls of x (M, K) with quantized W (N, K).

    Args:
        kind: one of ORT_KINDS.
        w: float32 (N, K) weights; quantized here.
        copies: independent weight matrices (outputs y0..y{copies-1}), for cold-weight runs.
    Returns:
        The model as bytes (input "x" float32 [M, K], M symbolic).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    n, k = w.shape
    nodes, inits, outputs = [], [], []
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])
    if kind in FOUR_BIT:
        packed, scale = _quant4(w)
        for c in range(copies):
            b = packed.copy()
            b.flat[0] ^= c & 0xFF
            inits += [numpy_helper.from_array(b, f"B{c}"), numpy_helper.from_array(scale, f"S{c}")]
            nodes.append(helper.make_node("MatMulNBits", ["x", f"B{c}", f"S{c}"], [f"y{c}"], domain="com.microsoft",
                                          K=k, N=n, bits=4, block_size=_BLOCK,
                                          accuracy_level=4 if kind == "nbits4_acc4" else 0))
    elif kind in EIGHT_BIT:
        q, scale = _quant8(w)
        if kind == "mmint8":
            nodes.append(helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]))
        for c in range(copies):
            b = q.copy()
            b.flat[0] = np.int8((int(b.flat[0]) + c) % 127)
            inits += [numpy_helper.from_array(b, f"B{c}"), numpy_helper.from_array(scale, f"S{c}")]
            if kind == "dqmm8":
                nodes.append(helper.make_node("DynamicQuantizeMatMul", ["x", f"B{c}", f"S{c}"], [f"y{c}"],
                                              domain="com.microsoft"))
            else:
                nodes += [helper.make_node("MatMulInteger", ["xq", f"B{c}", "xz"], [f"i{c}"]),
                          helper.make_node("Cast", [f"i{c}"], [f"f{c}"], to=TensorProto.FLOAT),
                          helper.make_node("Mul", [f"f{c}", "xs"], [f"g{c}"]),
                          helper.make_node("Mul", [f"g{c}", f"S{c}"], [f"y{c}"])]
    else:
        raise ValueError(f"unknown onnxruntime kind {kind!r}; known: {', '.join(ORT_KINDS)}")
    for c in range(copies):
        outputs.append(helper.make_tensor_value_info(f"y{c}", TensorProto.FLOAT, ["M", n]))
    graph = helper.make_graph(nodes, f"{kind}_{n}x{k}", [x], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model.SerializeToString()


class OrtMatmul:
    """One onnxruntime session running a model of :func:`build_model` at a fixed thread count."""

    def __init__(self, model: bytes, threads: int, copies: int):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        self.session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        self.copies = copies
        self._outputs = [o.name for o in self.session.get_outputs()]

    def run(self, x: np.ndarray) -> List[np.ndarray]:
        """All ``copies`` matmuls of x (M, K) float32."""
        return self.session.run(self._outputs, {"x": x})


def ort_version() -> Dict[str, str]:
    import onnx
    import onnxruntime as ort
    return {"onnxruntime": ort.__version__, "onnx": onnx.__version__}
