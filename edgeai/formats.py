"""The format table: ggml/GGUF block formats the kernels know, built from the compiled library."""
from dataclasses import dataclass
from typing import Dict, Union

from . import _C
from .errors import FormatError


@dataclass(frozen=True)
class FormatInfo:
    """One tensor format.

    Attributes:
        name: ggml name, e.g. ``"q4_0"``, ``"q4_K"``.
        type_id: ggml type id (the value stored in GGUF tensor infos).
        block_size: elements per block (1 for float formats).
        type_size: bytes per block.
        act_format: name of the activation format its matmul quantizes x to (``"f32"`` for floats).
        is_weight: usable as matmul weights (False for the activation-only q8_1 / q8_K).
    """

    name: str
    type_id: int
    block_size: int
    type_size: int
    act_format: str
    is_weight: bool

    @property
    def bits_per_weight(self) -> float:
        return 8.0 * self.type_size / self.block_size

    def row_nbytes(self, k: int) -> int:
        """Bytes of one row of ``k`` elements.

        Raises:
            FormatError: if ``k`` is not a multiple of the block size.
        """
        if k % self.block_size:
            raise FormatError(f"{self.name}: row length {k} is not a multiple of its block size {self.block_size}")
        return (k // self.block_size) * self.type_size


def _build() -> Dict[str, FormatInfo]:
    raw = _C.types()
    names = {t["id"]: t["name"] for t in raw}
    return {t["name"]: FormatInfo(t["name"], t["id"], t["block_size"], t["type_size"], names[t["act_type"]],
                                  t["is_weight"]) for t in raw}


FORMATS: Dict[str, FormatInfo] = _build()
_BY_ID = {f.type_id: f for f in FORMATS.values()}
_BY_LOWER = {n.lower(): f for n, f in FORMATS.items()}


def format_info(fmt: Union[str, int, FormatInfo]) -> FormatInfo:
    """Look a format up by name (any case), ggml type id, or pass a FormatInfo through.

    Raises:
        FormatError: for an unknown name or id, listing the known ones.
    """
    if isinstance(fmt, FormatInfo):
        return fmt
    if isinstance(fmt, str):
        f = _BY_LOWER.get(fmt.lower())
    elif isinstance(fmt, int) and not isinstance(fmt, bool):
        f = _BY_ID.get(fmt)
    else:
        raise FormatError(f"format must be a name or a ggml type id, not {type(fmt).__name__}")
    if f is None:
        raise FormatError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    return f
