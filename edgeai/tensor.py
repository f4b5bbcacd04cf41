"""QuantizedTensor, quantize() and matmul(): the numpy-native face of the kernel library."""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _C
from .errors import FormatError, ShapeError
from .formats import FormatInfo, format_info

FormatLike = Union[str, int, FormatInfo]


def _check_threads(threads: Optional[int]) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None, not {threads!r}")
    return int(threads)


class QuantizedTensor:
    """A tensor in a ggml/GGUF block format: rows of K elements stored as blocks.

    The bytes are exactly GGUF's, so a tensor can wrap a memory-mapped GGUF file in place
    (:meth:`from_buffer`) and be handed to :func:`matmul` without a copy.

    Attributes:
        fmt: the :class:`FormatInfo`.
        shape: logical shape; the last dimension is the row length K.
        data: 1-D uint8 array of ``nbytes`` bytes (may be a view of someone else's buffer).
    """

    __slots__ = ("fmt", "shape", "data")

    def __init__(self, data: np.ndarray, fmt: FormatLike, shape: Sequence[int]):
        self.fmt = format_info(fmt)
        self.shape = tuple(int(s) for s in shape)
        if not self.shape or any(s < 0 for s in self.shape):
            raise ShapeError(f"invalid shape {shape!r}")
        need = self._nbytes_for(self.fmt, self.shape)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError("data must be a 1-D uint8 numpy array (use QuantizedTensor.from_buffer)")
        if data.nbytes != need:
            raise FormatError(f"{self.fmt.name} tensor of shape {self.shape} needs {need} bytes, got {data.nbytes}")
        if not data.flags.c_contiguous:
            raise ValueError("data must be C-contiguous")
        self.data = data

    @staticmethod
    def _nbytes_for(fmt: FormatInfo, shape: Tuple[int, ...]) -> int:
        rows = int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) > 1 else 1
        return rows * fmt.row_nbytes(shape[-1])

    @classmethod
    def from_buffer(cls, buf, fmt: FormatLike, shape: Sequence[int], *, offset: int = 0) -> "QuantizedTensor":
        """Wrap existing bytes (bytes, bytearray, mmap, numpy array or memmap) without copying.

        Args:
            buf: any object exposing the buffer protocol.
            fmt: format name (``"q4_0"``), ggml type id, or FormatInfo.
            shape: logical shape, last dimension K.
            offset: byte offset of the tensor in ``buf``.
        Returns:
            A QuantizedTensor whose ``data`` is a view of ``buf`` (which it keeps alive).
        Raises:
            FormatError: unknown format, K not a multiple of the block size, or buffer too short.
        """
        info = format_info(fmt)
        shape = tuple(int(s) for s in shape)
        if not shape or any(s < 0 for s in shape):
            raise ShapeError(f"invalid shape {shape!r}")
        need = cls._nbytes_for(info, shape)
        try:
            view = memoryview(buf)
        except TypeError:
            raise TypeError(f"from_buffer needs an object with the buffer protocol, not {type(buf).__name__}") from None
        avail = view.nbytes - offset
        if offset < 0 or avail < need:
            raise FormatError(f"buffer too short for a {info.name} tensor of shape {shape}: need {need} bytes "
                              f"at offset {offset}, buffer has {view.nbytes}")
        if isinstance(buf, np.ndarray):
            if not buf.flags.c_contiguous:
                raise ValueError("buffer array must be C-contiguous")
            flat = buf.reshape(-1).view(np.uint8)
            data = flat[offset:offset + need]
        else:
            data = np.frombuffer(buf, dtype=np.uint8, count=need, offset=offset)
        return cls(data, info, shape)

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    @property
    def k(self) -> int:
        return self.shape[-1]

    @property
    def rows(self) -> int:
        return self.nbytes // self.fmt.row_nbytes(self.k) if self.k else 0

    def dequantize(self) -> np.ndarray:
        """All elements as float32, in ``shape``."""
        out = np.empty(self.shape, dtype=np.float32)
        if out.size:
            _C.dequantize(self.fmt.type_id, self.data, out, self.rows, self.k)
        return out

    def dequantize_rows(self, rows) -> np.ndarray:
        """Selected rows as float32 (an embedding lookup), shape ``(len(rows), K)``.

        Args:
            rows: integer row indices into the flattened leading dimensions.
        """
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.rows):
            raise IndexError(f"row index out of range [0, {self.rows})")
        packed = self.data.reshape(self.rows, -1)[idx]
        out = np.empty((idx.size, self.k), dtype=np.float32)
        if out.size:
            _C.dequantize(self.fmt.type_id, np.ascontiguousarray(packed).reshape(-1), out, idx.size, self.k)
        return out

    def __repr__(self) -> str:
        return f"QuantizedTensor(fmt={self.fmt.name!r}, shape={self.shape}, nbytes={self.nbytes})"


def quantize(array, fmt: FormatLike) -> QuantizedTensor:
    """Quantize a float array row by row (rows along the last axis) into a block format.

    Args:
        array: float16/float32/float64 array-like; the last dimension is K.
        fmt: target format (``"q4_0"``, ``"q8_0"``, ``"q4_K"``, ``"f16"``...).
    Returns:
        A new QuantizedTensor of the same shape.
    Raises:
        TypeError: non-floating input. FormatError: unknown format or K not a multiple of the block.
    """
    info = format_info(fmt)
    a = np.asarray(array)
    if a.dtype.kind != "f":
        raise TypeError(f"quantize needs a floating-point array, got dtype {a.dtype}")
    if a.ndim == 0:
        raise ShapeError("quantize needs at least a 1-D array")
    a = np.ascontiguousarray(a, dtype=np.float32)
    k = a.shape[-1]
    row = info.row_nbytes(k)
    rows = a.size // k if k else 0
    data = np.empty(rows * row, dtype=np.uint8)
    if data.size:
        _C.quantize(info.type_id, a, data, rows, k)
    return QuantizedTensor(data, info, a.shape)


def _check_matmul_operands(x, w) -> None:
    """The checks of ``matmul``'s x and w (raises TypeError, FormatError, ShapeError, ValueError)."""
    if not isinstance(w, QuantizedTensor):
        raise TypeError(f"w must be a QuantizedTensor (see edgeai.quantize), not {type(w).__name__}")
    if len(w.shape) != 2:
        raise ShapeError(f"w must be 2-D (N, K), got shape {w.shape}")
    if not w.fmt.is_weight:
        raise FormatError(f"{w.fmt.name} is an activation format, not a weight format")
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array, not {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(f"x must be float32, got {x.dtype}")
    if x.ndim == 0:
        raise ShapeError("x must be at least 1-D")
    if not x.flags.c_contiguous:
        raise ValueError("x must be C-contiguous (np.ascontiguousarray)")
    if x.shape[-1] != w.shape[1]:
        raise ShapeError(f"K mismatch: x has shape {x.shape}, weights have shape {w.shape} (N, K)")


def matmul(x: np.ndarray, w: QuantizedTensor, out: Optional[np.ndarray] = None,
           threads: Optional[int] = None) -> np.ndarray:
    """``y = x @ W^T`` with quantized W: ``x[..., K] @ W[N, K]^T -> y[..., N]``.

    Activations are quantized on the fly to the format's 8-bit activation blocks (Q8_0/Q8_1 for
    the 32-element formats, Q8_K for K-quants) and multiplied with integer dot products; float
    formats use float kernels. M == 1 takes the GEMV path, M > 1 the tiled GEMM path.

    Args:
        x: float32, C-contiguous, shape ``(K,)`` or ``(..., K)``.
        w: 2-D QuantizedTensor ``(N, K)``.
        out: optional float32 C-contiguous output of shape ``x.shape[:-1] + (N,)``.
        threads: threads for this call (None: the global count). Results do not depend on it.
    Returns:
        float32 array of shape ``x.shape[:-1] + (N,)`` (``out`` if given).
    Raises:
        TypeError: x or out not float32, w not a QuantizedTensor. ValueError: non-contiguous
        arrays, K mismatch, wrong ``out`` shape.
    """
    _check_matmul_operands(x, w)
    n, k = w.shape
    nthreads = _check_threads(threads)
    oshape = x.shape[:-1] + (n,)
    if out is None:
        out = np.empty(oshape, dtype=np.float32)
    else:
        if not isinstance(out, np.ndarray) or out.dtype != np.float32:
            raise TypeError("out must be a float32 numpy array")
        if out.shape != oshape:
            raise ShapeError(f"out has shape {out.shape}, expected {oshape}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be C-contiguous and writable")
    m = x.size // k if k else 0
    _C.matmul(w.fmt.type_id, w.data, n, k, x, out, m, nthreads)
    return out


def matmul_group(x: np.ndarray, ws: Sequence[QuantizedTensor], threads: Optional[int] = None) -> List[np.ndarray]:
    """``[x @ W^T for W in ws]`` for weights of one format and K (a layer's Q, K, V projections, or
    its gate and up), with x quantized once and every tile handed to the thread pool as one job.

    Each result has the bits ``matmul(x, W)`` gives.

    Args:
        x: float32, C-contiguous, shape ``(K,)`` or ``(..., K)``.
        ws: 1 to 8 2-D QuantizedTensors ``(N_i, K)`` of one format.
        threads: threads for this call (None: the global count).
    Returns:
        float32 arrays of shapes ``x.shape[:-1] + (N_i,)``.
    Raises:
        TypeError, FormatError, ShapeError, ValueError: as ``matmul``, and for an empty or too long
        ``ws`` or weights of different formats or K.
    """
    ws = list(ws)
    if not 1 <= len(ws) <= 8:
        raise ValueError(f"matmul_group takes 1 to 8 weights, got {len(ws)}")
    for w in ws:
        _check_matmul_operands(x, w)
    if len({w.fmt.name for w in ws}) != 1:
        raise FormatError("matmul_group weights must share one format, got " + ", ".join(w.fmt.name for w in ws))
    k = ws[0].shape[1]
    nthreads = _check_threads(threads)
    m = x.size // k
    outs = [np.empty(x.shape[:-1] + (w.shape[0],), dtype=np.float32) for w in ws]
    _C.matmul_group(ws[0].fmt.type_id, [w.data for w in ws], k, x, outs, m, nthreads)
    return outs
