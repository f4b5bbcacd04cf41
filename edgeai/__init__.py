"""edgeai: small language and diffusion models, fast on the CPUs people already own.

Kernel API (numpy-native)::

    import edgeai, numpy as np
    w = edgeai.quantize(np.random.randn(1536, 576).astype(np.float32), "q4_0")
    y = edgeai.matmul(np.ones((1, 576), np.float32), w)       # (1, 1536)
    edgeai.cpu_info()["kernels"]["q4_0"]["dot"]                 # the kernel that ran
"""
from . import _C  # noqa: F401  (fails loudly if the extension was not built)
from .cpu import cpu_info, get_num_threads, set_isa, set_num_threads, _apply_env
from .errors import (ContextLengthError, EdgeAIError, FormatError, IntegrityError, ModelFileError,
                     ModelNotFoundError, ShapeError, UnsupportedArchitectureError)
from .formats import FORMATS, FormatInfo, format_info
from .tensor import QuantizedTensor, matmul, matmul_group, quantize

__version__ = "0.1.0"


def __getattr__(name):
    # heavy optional parts load on first use: onnxruntime only when a pipeline is asked for
    if name == "DiffusionPipeline":
        from .diffusion.sd import DiffusionPipeline
        return DiffusionPipeline
    if name == "TerrainPipeline":
        from .diffusion.terrain import TerrainPipeline
        return TerrainPipeline
    # heavy parts load on first use: ``edgeai.LLM`` pulls in tokenizers and jinja2
    if name == "LLM":
        from .llm import LLM
        return LLM
    raise AttributeError(f"module 'edgeai' has no attribute {name!r}")


_apply_env()

__all__ = [
    "FORMATS", "FormatInfo", "format_info", "QuantizedTensor", "quantize", "matmul", "matmul_group", "cpu_info",
    "set_isa", "set_num_threads", "get_num_threads", "EdgeAIError", "FormatError", "ShapeError",
    "ModelFileError", "UnsupportedArchitectureError", "IntegrityError", "ModelNotFoundError",
    "ContextLengthError", "LLM", "DiffusionPipeline", "TerrainPipeline",
]
