"""One benchmark measurement (a row of the table)."""
from dataclasses import dataclass
from typing import Optional


@dataclass
class Row:
    """One measurement: an engine (edgeai format, numpy, or an ORT kind) at one shape, M, threads."""

    engine: str          # "edgeai" | "numpy" | "ort"
    label: str           # format name, "f32", or the ORT kind
    kernel: str          # kernel / op that ran
    isa: Optional[str]   # edgeai variant ISA (None for others)
    forced: bool
    n: int
    k: int
    m: int
    threads: int
    copies: int          # matrices rotated through (cold set size), 1 = hot
    weight_bytes: int    # bytes of one weight matrix as stored
    best_s: float
    median_s: float

    @property
    def gflops(self) -> float:
        return 2.0 * self.m * self.n * self.k / self.best_s * 1e-9

    @property
    def weight_gbs(self) -> float:
        return self.weight_bytes / self.best_s * 1e-9
