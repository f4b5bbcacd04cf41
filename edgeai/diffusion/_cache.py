"""Quantized copies of ONNX models, made once and kept in the edgeai cache."""
import hashlib
from pathlib import Path
from typing import Optional, Union

from .. import _env

QUANT_FORMATS = ("q8_0", "q4_0", "q4_K")
# bumped when edgeai.onnx.quantize writes a different graph for the same model (2: Conv weights in
# (kh, kw, c) order; 3: MatMuls sharing an input merged; 4: Conv + residual Add fused into
# EdgeaiConvAdd; 5: Convs with few multiply-adds per input value stay float; 6: q4_K layers whose K is
# not a multiple of 256 take q4_1), so older cached
# copies are quantized again
LAYOUT_VERSION = 6
# bumped when edgeai.onnx.float32 converts float16 models differently
FLOAT32_VERSION = 1


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
    key = _key(src, fmt, LAYOUT_VERSION)
    root = Path(cache_dir) if cache_dir else _env.CACHE_DIR
    out = root / "onnx-quantized" / f"{src.stem}.{key}.{fmt}.onnx"
    if not out.is_file():
        quantize(src, fmt, out)
    return out


def _key(src: Path, *extra) -> str:
    st = src.stat()
    return hashlib.sha256("|".join(map(str, (src, st.st_size, st.st_mtime_ns) + extra)).encode()).hexdigest()[:16]


def runnable_model(src: Union[str, Path], cache_dir: Optional[Path] = None) -> Path:
    """``src`` itself, or for a float16 model its float32 copy (see :mod:`edgeai.onnx.float32`), made on first use.

    Keyed like :func:`quantized_model`; the copy is a folder (``model.onnx``, plus ``model.onnx.data``
    above ONNX's 2 GB protobuf limit) that appears atomically. A copy already in the cache is used
    without reading ``src``: telling float16 from float32 parses the whole graph (1.7 GB for an
    SD-Turbo UNet).
    """
    from ..onnx.float32 import float32_copy, is_float16
    given = Path(src)
    src = given.resolve()
    root = Path(cache_dir) if cache_dir else _env.CACHE_DIR
    out = root / "onnx-float32" / f"{src.parent.name}-{src.stem}.{_key(src, FLOAT32_VERSION)}"
    if (out / "model.onnx").is_file():
        return out / "model.onnx"
    if not is_float16(src):
        return given
    return float32_copy(src, out)


__all__ = ["QUANT_FORMATS", "check_quant", "quantized_model", "runnable_model"]
