"""Images as numpy arrays, and a small PNG writer (zlib + the PNG chunk layout, no imaging library).

ref: PNG specification (ISO/IEC 15948), chunks IHDR / IDAT / IEND, filter type 0, CRC-32 per chunk.
"""
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Union

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)


class Image(np.ndarray):
    """A numpy array ``[H, W]`` or ``[H, W, C]`` (C = 1..4), uint8 or uint16, with :meth:`save`.

    It is an ordinary ndarray otherwise (slicing, arithmetic and numpy functions work).
    """

    def __new__(cls, array) -> "Image":
        a = np.asarray(array)
        if a.dtype not in (np.uint8, np.uint16):
            raise TypeError(f"Image needs uint8 or uint16 pixels, got {a.dtype} (see to_uint8)")
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in _COLOR_TYPES):
            raise ValueError(f"Image needs shape [H, W] or [H, W, 1..4], got {a.shape}")
        return a.view(cls)

    def save(self, path: Union[str, Path]) -> Path:
        """Write the image as PNG (atomically: a temp file beside ``path``, then rename).

        Args:
            path: destination file (``.png``).
        Returns:
            The path written.
        """
        return save_png(path, np.asarray(self))


def to_uint8(x: np.ndarray, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """Map floats in [lo, hi] to uint8 0..255 (clipped, rounded)."""
    y = (np.asarray(x, dtype=np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def to_uint16(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map floats in [lo, hi] to uint16 0..65535 (clipped, rounded): heightmaps keep their detail."""
    scale = 65535.0 / (hi - lo) if hi > lo else 0.0
    y = (np.asarray(x, dtype=np.float64) - lo) * scale
    return np.clip(np.rint(y), 0, 65535).astype(np.uint16)


def encode_png(pixels: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of a uint8/uint16 array ``[H, W]`` or ``[H, W, C]``."""
    a = np.asarray(pixels)
    if a.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"PNG pixels must be uint8 or uint16, got {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in _COLOR_TYPES or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"PNG pixels must have shape [H, W] or [H, W, 1..4] with H, W > 0, got {np.shape(pixels)}")
    h, w, c = a.shape
    depth = 8 * a.dtype.itemsize
    # PNG samples are big-endian; each scanline starts with its filter byte (0: none)
    rows = np.ascontiguousarray(a.astype(a.dtype.newbyteorder(">"), copy=False)).view(np.uint8).reshape(h, -1)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, depth, _COLOR_TYPES[c], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, level)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def save_png(path: Union[str, Path], pixels: np.ndarray) -> Path:
    """Encode ``pixels`` as PNG and write it atomically to ``path``."""
    path = Path(path)
    data = encode_png(pixels)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_png(path: Union[str, Path]) -> np.ndarray:
    """Decode a PNG written by :func:`encode_png` (non-interlaced, filter 0 only); for tests and tools.

    Raises:
        ValueError: not a PNG, a bad CRC, or a layout this reader does not handle.
    """
    data = Path(path).read_bytes()
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if hdr is None:
        raise ValueError(f"{path}: no IHDR chunk")
    w, h, depth, ctype, _, _, interlace = hdr
    c = {v: k for k, v in _COLOR_TYPES.items()}[ctype]
    dt = np.dtype(">u2") if depth == 16 else np.dtype(np.uint8)
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c * dt.itemsize)
    if interlace or np.any(raw[:, 0]):
        raise ValueError(f"{path}: only non-interlaced, unfiltered PNGs are read here")
    px = raw[:, 1:].copy().view(dt).reshape(h, w, c).astype(dt.newbyteorder("="))
    return px[:, :, 0] if c == 1 else px
