"""GGUF v2/v3 reader over one read-only np.memmap, and an atomic GGUF writer.

ref: the GGUF spec (ggml docs/gguf.md). Layout, all little-endian::

    magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
    n_kv   x (string key, u32 value type, value)
    n_tensors x (string name, u32 n_dims, u64 dims[n_dims] (innermost first), u32 ggml type, u64 offset)
    padding to `general.alignment` (default 32) | tensor data (each offset relative to here, aligned)

Tensors come back as :class:`edgeai.QuantizedTensor` views of the memmap, so the kernels read the
file's pages in place: loading costs page-table entries, not copies.
"""
import mmap
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np

from .. import _C
from ..errors import FormatError, ModelFileError
from ..formats import FORMATS, _BY_ID
from ..tensor import QuantizedTensor

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# value types of the spec -> (struct code, byte size); 8 = string, 9 = array
_SCALARS = {0: ("B", 1), 1: ("b", 1), 2: ("H", 2), 3: ("h", 2), 4: ("I", 4), 5: ("i", 4), 6: ("f", 4),
            7: ("?", 1), 10: ("Q", 8), 11: ("q", 8), 12: ("d", 8)}
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_FLOAT64 = 4, 5, 6, 7, 8, 9, 10, 12
_NP_OF = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32, 6: np.float32,
          7: np.bool_, 10: np.uint64, 11: np.int64, 12: np.float64}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a GGUF file.

    Attributes:
        name: e.g. ``"blk.0.attn_q.weight"``.
        shape: numpy order (outermost first), i.e. the reverse of GGUF's dims: ``(rows, K)``.
        type_id: ggml type id.
        offset: absolute byte offset in the file.
        nbytes: bytes of the data.
    """

    name: str
    shape: Tuple[int, ...]
    type_id: int
    offset: int
    nbytes: int


class _Cursor:
    """Bounds-checked little-endian reads over the file's bytes."""

    def __init__(self, buf: memoryview, path: str):
        self.buf, self.pos, self.path = buf, 0, path

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise ModelFileError(f"{self.path}: truncated GGUF file: {what} at byte {self.pos} needs {n} bytes, "
                                 f"file has {len(self.buf)}")

    def scalar(self, code: str, size: int, what: str):
        self.need(size, what)
        v = struct.unpack_from("<" + code, self.buf, self.pos)[0]
        self.pos += size
        return v

    def u32(self, what: str) -> int:
        return self.scalar("I", 4, what)

    def u64(self, what: str) -> int:
        return self.scalar("Q", 8, what)

    def string(self, what: str) -> str:
        n = self.u64(what)
        self.need(n, what)
        raw = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def value(self, vtype: int, what: str) -> Any:
        if vtype in _SCALARS:
            return self.scalar(*_SCALARS[vtype], what)
        if vtype == T_STRING:
            return self.string(what)
        if vtype == T_ARRAY:
            etype, count = self.u32(what), self.u64(what)
            if etype in _SCALARS:
                size = _SCALARS[etype][1]
                self.need(count * size, what)
                arr = np.frombuffer(self.buf, dtype=np.dtype(_NP_OF[etype]).newbyteorder("<"), count=count,
                                    offset=self.pos).copy()
                self.pos += count * size
                return arr
            if etype == T_STRING:
                return self._strings(count, what)
            if etype == T_ARRAY:
                return [self.value(T_ARRAY, what) for _ in range(count)]
            raise ModelFileError(f"{self.path}: unknown array element type {etype} in {what}")
        raise ModelFileError(f"{self.path}: unknown GGUF value type {vtype} in {what}")

    def _strings(self, count: int, what: str) -> List[str]:
        # vocabularies hold ~50k-250k strings: decoded in C in one pass (edgeai._C.gguf_strings)
        # (strings, end) or, if the file is truncated, (None, offset of the short read, bytes it needs)
        res = _C.gguf_strings(self.buf, self.pos, count)
        self.pos = res[1]
        if res[0] is None:
            self.need(res[2], what)  # raises ModelFileError naming the field and the offset
        return res[0]


def advise_huge_pages(mm: np.memmap) -> bool:
    """Ask the kernel to back a read-only file mapping with huge pages (``MADV_HUGEPAGE``).

    Decode streams every weight once per token, and how fast depends on the pages behind the
    mapping: reading a TinyLlama-shape Q4_0 GGUF from 4 KiB page-cache pages ran at 14-15 GB/s on
    one core, from 2 MiB folios at 16.5-17.5, as fast as anonymous huge pages (Sapphire Rapids,
    Linux 6.18, ext4). The advice is zero-copy and only shapes pages read from disk after it
    (pages already cached keep their size); a kernel or filesystem without huge page-cache folios
    ignores it. Best effort: never raises.

    Args:
        mm: the memmap.
    Returns:
        True if the kernel took the advice.
    """
    raw = getattr(mm, "_mmap", None)  # np.memmap's mmap.mmap (numpy 1.24 to 2.x)
    flag = getattr(mmap, "MADV_HUGEPAGE", None)
    if raw is None or flag is None or not hasattr(raw, "madvise"):
        return False
    try:
        raw.madvise(flag)
    except (OSError, ValueError):
        return False
    return True


class GGUFFile:
    """A GGUF file opened read-only through one memmap.

    Attributes:
        path: the file.
        version: 2 or 3.
        metadata: dict key -> value (ints, floats, bools, strings, numpy arrays, lists of strings).
        tensors: dict name -> :class:`TensorInfo`, in file order.
        alignment: data alignment in bytes.
        data_offset: absolute offset of the tensor data section.

    Raises (constructor):
        ModelFileError: not a GGUF file, unsupported version, truncated, or a tensor past the end.
        FileNotFoundError: no such file.
    """

    def __init__(self, path: Union[str, os.PathLike]):
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"no such GGUF file: {self.path}")
        size = os.path.getsize(self.path)
        if size < 24:
            raise ModelFileError(f"{self.path}: {size} bytes is too short to be a GGUF file")
        self.mm = np.memmap(self.path, dtype=np.uint8, mode="r")
        advise_huge_pages(self.mm)
        cur = _Cursor(memoryview(self.mm), self.path)
        magic = bytes(self.mm[:4])
        if magic != GGUF_MAGIC:
            raise ModelFileError(f"{self.path}: not a GGUF file (magic {magic!r}, expected {GGUF_MAGIC!r})")
        cur.pos = 4
        self.version = cur.u32("version")
        if self.version not in (2, 3):
            raise ModelFileError(f"{self.path}: GGUF version {self.version} is not supported (2 or 3)")
        n_tensors, n_kv = cur.u64("tensor count"), cur.u64("metadata count")
        if n_tensors > size // 8 or n_kv > size // 8:
            # each entry takes more than 8 bytes: these counts cannot fit in the file
            raise ModelFileError(f"{self.path}: truncated or corrupt GGUF header ({n_tensors} tensors, {n_kv} "
                                 f"metadata keys in {size} bytes)")
        self.metadata: Dict[str, Any] = {}
        for i in range(n_kv):
            key = cur.string(f"metadata key #{i}")
            self.metadata[key] = cur.value(cur.u32(f"type of {key}"), key)
        self.alignment = int(self.metadata.get("general.alignment", DEFAULT_ALIGNMENT))
        if self.alignment <= 0 or self.alignment & (self.alignment - 1):
            raise ModelFileError(f"{self.path}: general.alignment {self.alignment} is not a power of two")
        raw = []
        for i in range(n_tensors):
            name = cur.string(f"tensor name #{i}")
            ndim = cur.u32(f"dims of {name}")
            if ndim > 8:
                raise ModelFileError(f"{self.path}: tensor {name} has {ndim} dimensions")
            dims = [cur.u64(f"dims of {name}") for _ in range(ndim)]
            raw.append((name, dims, cur.u32(f"type of {name}"), cur.u64(f"offset of {name}")))
        self.data_offset = -(-cur.pos // self.alignment) * self.alignment
        self.tensors: Dict[str, TensorInfo] = {}
        for name, dims, type_id, off in raw:
            fmt = _BY_ID.get(type_id)
            if fmt is None:
                raise ModelFileError(f"{self.path}: tensor {name} has ggml type {type_id}, which edgeai does not know")
            shape = tuple(int(d) for d in reversed(dims)) or (1,)
            try:
                nbytes = QuantizedTensor._nbytes_for(fmt, shape)
            except FormatError as e:
                raise ModelFileError(f"{self.path}: tensor {name}: {e}") from None
            start = self.data_offset + off
            if off % self.alignment:
                raise ModelFileError(f"{self.path}: tensor {name} offset {off} is not {self.alignment}-aligned")
            if start + nbytes > size:
                raise ModelFileError(f"{self.path}: truncated GGUF file: tensor {name} ({nbytes} bytes at {start}) "
                                     f"runs past the end of the file ({size} bytes)")
            self.tensors[name] = TensorInfo(name, shape, type_id, start, nbytes)

    def get(self, key: str, default: Any = None) -> Any:
        """A metadata value, or ``default``."""
        return self.metadata.get(key, default)

    def tensor(self, name: str) -> QuantizedTensor:
        """The tensor as a zero-copy :class:`QuantizedTensor` over the memmap.

        Raises:
            ModelFileError: no tensor of that name.
        """
        info = self.tensors.get(name)
        if info is None:
            raise ModelFileError(f"{self.path}: no tensor named {name!r}")
        return QuantizedTensor.from_buffer(self.mm, info.type_id, info.shape, offset=info.offset)

    def __contains__(self, name: str) -> bool:
        return name in self.tensors


# ---- writer ------------------------------------------------------------------------------------

def _value_type(v: Any) -> int:
    if isinstance(v, bool):
        return T_BOOL
    if isinstance(v, (int, np.integer)):
        v = int(v)
        return (T_INT32 if v >= -2**31 else 11) if v < 0 else (T_UINT32 if v < 2**32 else T_UINT64)
    if isinstance(v, (float, np.floating)):
        return T_FLOAT32
    if isinstance(v, str):
        return T_STRING
    if isinstance(v, (list, tuple, np.ndarray)):
        return T_ARRAY
    raise TypeError(f"cannot store a {type(v).__name__} in GGUF metadata")


def _pack_value(v: Any, vtype: int) -> bytes:
    if vtype == T_STRING:
        b = v.encode("utf-8")
        return struct.pack("<Q", len(b)) + b
    if vtype == T_ARRAY:
        if isinstance(v, np.ndarray):
            inv = {np.dtype(t): k for k, t in _NP_OF.items()}
            etype = inv.get(v.dtype)
            if etype is None:
                raise TypeError(f"cannot store a numpy {v.dtype} array in GGUF metadata")
            return struct.pack("<IQ", etype, v.size) + np.ascontiguousarray(v).astype(v.dtype.newbyteorder("<")).tobytes()
        items = list(v)
        etype = _value_type(items[0]) if items else T_UINT32
        if etype in (T_UINT32, T_INT32) and items and any(int(x) < 0 for x in items):
            etype = T_INT32
        return struct.pack("<IQ", etype, len(items)) + b"".join(_pack_value(x, etype) for x in items)
    return struct.pack("<" + _SCALARS[vtype][0], v)


def write_gguf(path: Union[str, os.PathLike], metadata: Dict[str, Any],
               tensors: Iterable[Tuple[str, QuantizedTensor]], *, alignment: int = DEFAULT_ALIGNMENT,
               types: Optional[Dict[str, int]] = None) -> Path:
    """Write a GGUF v3 file atomically (temp file in the same directory, then ``os.replace``).

    Args:
        path: destination.
        metadata: key -> value; Python ints become u32 (i32 if negative, u64 if large), floats f32,
            bools, strings, lists/arrays become arrays.
        tensors: (name, QuantizedTensor) pairs in the order to store them; shapes are numpy order.
        alignment: tensor data alignment (stored as ``general.alignment`` if not 32).
        types: optional explicit GGUF value type per metadata key (e.g. ``T_FLOAT32``).
    Returns:
        The path written.
    """
    path = Path(path)
    tensors = list(tensors)
    meta = dict(metadata)
    if alignment != DEFAULT_ALIGNMENT:
        meta["general.alignment"] = int(alignment)
    types = dict(types or {})
    head = bytearray(GGUF_MAGIC + struct.pack("<IQQ", 3, len(tensors), len(meta)))
    for k, v in meta.items():
        vt = types.get(k, _value_type(v))
        head += _pack_value(k, T_STRING) + struct.pack("<I", vt) + _pack_value(v, vt)
    offsets, off = [], 0
    for name, t in tensors:
        offsets.append(off)
        head += _pack_value(name, T_STRING) + struct.pack("<I", len(t.shape))
        head += b"".join(struct.pack("<Q", d) for d in reversed(t.shape))
        head += struct.pack("<IQ", t.fmt.type_id, off)
        off += -(-t.nbytes // alignment) * alignment
    head += bytes(-len(head) % alignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".gguf")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head)
            for (_, t), o in zip(tensors, offsets):
                f.write(t.data.tobytes() if not t.data.flags.c_contiguous else memoryview(t.data))
                f.write(bytes(-t.nbytes % alignment))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


__all__ = ["GGUFFile", "TensorInfo", "write_gguf", "FORMATS", "T_UINT32", "T_INT32", "T_FLOAT32", "T_BOOL",
           "T_STRING", "T_UINT64", "T_FLOAT64"]
