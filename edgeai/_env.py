"""Environment variables, read once at import. Every other module asks here.

EDGEAI_ISA           cap the kernel dispatch at this ISA (ref, sse4, avx2, avxvnni, avx512vnni,
                     neon, neondot, neoni8mm, armv7neon)
EDGEAI_NUM_THREADS   default thread count of the kernel pool (default: CPUs this process may use)
EDGEAI_SD_MODEL      default model of `edgeai image` (hub repo id or folder in the SD ONNX layout)
EDGEAI_CACHE         cache directory for fetched and converted models (default:
                     $XDG_CACHE_HOME/edgeai or ~/.cache/edgeai)
EDGEAI_ONNX_OPS      how edgeai.onnx runs its quantized ops: auto (default: the native ONNX Runtime op
                     library in edgeai._C, else the Python ops of onnxruntime-extensions), native, python
EDGEAI_ONNX_POOL     where the native ONNX ops run their kernels' threads: ort (default: ONNX Runtime's
                     intra-op pool, ONNX Runtime >= 1.17) or edgeai (edgeai's own pool)
"""
import os
from pathlib import Path

ISA_CAP = os.environ.get("EDGEAI_ISA") or None
NUM_THREADS = os.environ.get("EDGEAI_NUM_THREADS") or None
_xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
CACHE_DIR = Path(os.environ.get("EDGEAI_CACHE") or os.path.join(_xdg, "edgeai"))
SD_MODEL = os.environ.get("EDGEAI_SD_MODEL") or None
ONNX_OPS = os.environ.get("EDGEAI_ONNX_OPS") or "auto"
ONNX_POOL = os.environ.get("EDGEAI_ONNX_POOL") or "ort"
