"""ONNX models on ONNX Runtime with edgeai's quantized kernels for MatMul / Gemm / Conv.

    import edgeai.onnx
    report = edgeai.onnx.quantize("unet.onnx", "q8_0", "unet.q8_0.onnx")
    sess = edgeai.onnx.InferenceSession("unet.q8_0.onnx", threads=2)
    y, = sess.run(None, {"x": x})

Needs the ``onnx`` extra (onnx, onnxruntime; onnxruntime-extensions for the Python fallback of the ops on an
ONNX Runtime older than 1.16); imported lazily.
"""
from .quantize import QUANTIZABLE, QuantizeReport, UnsupportedOperatorError, quantize
from .session import InferenceSession

__all__ = ["quantize", "QuantizeReport", "UnsupportedOperatorError", "QUANTIZABLE", "InferenceSession"]
