"""Quantized copies of ONNX models, made once and kept in the edgeai cache."""
import hashlib
from pathlib import Path
from typing import Optional, Union

from .. import _env

QUANT_FORMATS = ("q8_0", "q4_0", "q4_K")
# bumped when edgeai.onnx.quantize writes a different graph for the same model (2: Conv weights in
# (kh, kw, c) order; 3: MatMuls sharing an input merged; 4: Conv + residual Add fused into
# EdgeaiConvAdd; 5: Convs with few multiply-adds per input value stay float), so older cached
# copies are quantized again
LAYOUT_VERSION = 5


def check_quant(quant: Optional[str]) -> Optional[str]:
    """Validate a ``quant=`` argument (None: float32 as shipped)."""
    if quant is None or quant in ("f32", "fp32", "float32"):
        return None
    from ..formats import format_info
    info = format_info(quant)  # FormatError for unknown names
    if not info.is_weight or info.name in ("f32",):
        from ..errors import FormatError
        raise FormatError(f"quant={quant!r} is not a weight format; use one of {', '.join(QUANT_FORMATS)}")
    return info.name


def quantized_model(src: Union[str, Path], fmt: str, cache_dir: Optional[Path] = None) -> Path:
    """Path of ``src`` quantized to ``fmt`` by :func:`edgeai.onnx.quantize`, made on first use.

    The cache key is the source's resolved path, size and mtime plus the format and
    LAYOUT_VERSION, so an edited model (or an older edgeai's copy) is re-quantized. The file appears
    atomically (quantize writes a temp file, then renames).
    """
    from ..onnx import quantize
    src = Path(src).resolve()
    st = src.stat()
    key = hashlib.sha256(f"{src}|{st.st_size}|{st.st_mtime_ns}|{fmt}|{LAYOUT_VERSION}".encode()).hexdigest()[:16]
    root = Path(cache_dir) if cache_dir else _env.CACHE_DIR
    out = root / "onnx-quantized" / f"{src.stem}.{key}.{fmt}.onnx"
    if not out.is_file():
        quantize(src, fmt, out)
    return out


__all__ = ["QUANT_FORMATS", "check_quant", "quantized_model"]
