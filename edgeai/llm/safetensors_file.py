"""Read-only safetensors access through one memmap per file, with bf16 handled (numpy has no bf16).

ref: the safetensors format: u64 little-endian header length N, N bytes of JSON
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``, then the data
(offsets relative to its start).
"""
import json
import os
import struct
from typing import Dict, Iterator, Tuple

import numpy as np

from ..errors import ModelFileError

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class SafetensorsFile:
    """One ``.safetensors`` file.

    Raises (constructor):
        ModelFileError: bad header, or a tensor that runs past the end of the file.
    """

    def __init__(self, path):
        self.path = str(path)
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelFileError(f"{self.path}: too short to be a safetensors file")
            n = struct.unpack("<Q", head)[0]
            if n > size - 8 or n > 100 << 20:
                raise ModelFileError(f"{self.path}: corrupt safetensors header length {n} (file is {size} bytes)")
            try:
                self.header = json.loads(f.read(n))
            except ValueError as e:
                raise ModelFileError(f"{self.path}: corrupt safetensors header: {e}") from None
        self.header.pop("__metadata__", None)
        self.base = 8 + n
        self.mm = np.memmap(self.path, dtype=np.uint8, mode="r") if size > self.base else np.zeros(0, np.uint8)
        for name, info in self.header.items():
            b, e = info["data_offsets"]
            if info["dtype"] not in _DTYPES:
                raise ModelFileError(f"{self.path}: tensor {name} has unsupported dtype {info['dtype']}")
            if self.base + e > size or b > e:
                raise ModelFileError(f"{self.path}: truncated: tensor {name} runs past the end of the file")

    def keys(self):
        return self.header.keys()

    def get(self, name: str) -> np.ndarray:
        """The tensor as float32 (floats) or its own integer dtype."""
        info = self.header[name]
        b, e = info["data_offsets"]
        raw = self.mm[self.base + b:self.base + e]
        dt = info["dtype"]
        a = raw.view(_DTYPES[dt]).reshape(info["shape"])
        if dt == "BF16":  # bf16 is the top half of a float32
            return (a.astype(np.uint32) << 16).view(np.float32)
        if dt in ("F16", "F64"):
            return a.astype(np.float32)
        return a


def open_checkpoint(directory) -> Dict[str, Tuple[SafetensorsFile, str]]:
    """Every tensor of the ``*.safetensors`` files of a directory: name -> (file, name).

    Raises:
        ModelFileError: no safetensors files.
    """
    files = sorted(f for f in os.listdir(directory) if f.endswith(".safetensors"))
    if not files:
        raise ModelFileError(f"{directory}: no *.safetensors weights")
    out = {}
    for fn in files:
        st = SafetensorsFile(os.path.join(directory, fn))
        for k in st.keys():
            out[k] = (st, k)
    return out


def iter_tensors(index) -> Iterator[Tuple[str, np.ndarray]]:
    for name, (st, key) in index.items():
        yield name, st.get(key)
