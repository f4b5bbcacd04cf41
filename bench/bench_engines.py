"""The edgeai kernels a benchmark run measures: what dispatch picks, or one ISA's variants forced.

Each :class:`EdgeaiKernel` knows its format, the kernel name that runs (``edgeai.cpu_info()`` for
dispatch, the registry for forced variants) and how to call it for ``y = x @ W^T``.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

import bench_harness as harness
from bench_harness import variant_isa


@dataclass
class EdgeaiKernel:
    """One edgeai matmul path.

    Attributes:
        fmt: weight format name.
        kernel: name of the dot or gemm variant that runs.
        isa: that variant's ISA.
        act_quantize: name of the activation quantizer (None for float formats).
        run: ``run(x, qt, out, threads)`` computes x (M, K) @ qt (N, K)^T into out (M, N).
        forced: True when the variant is forced (``--isa all``) rather than dispatched.
    """

    fmt: str
    kernel: str
    isa: str
    act_quantize: Optional[str]
    run: Callable
    forced: bool = False


def weight_formats(edgeai) -> List[str]:
    """Weight formats in edgeai.FORMATS order (activation-only formats excluded)."""
    return [name for name, f in edgeai.FORMATS.items() if f.is_weight]


def _dispatched_name(edgeai, fmt: str) -> Tuple[Optional[str], Optional[str]]:
    """The kernel ea_matmul runs for fmt under the current cap (its rule: the gemm tile kernel if
    its ISA ranks at least as high as the best dot's), and the activation quantizer."""
    info = edgeai.cpu_info()
    k = info["kernels"][fmt]
    rank = {i["name"]: i["rank"] for i in info["isas"]}
    dot, gemm = k["dot"], k["gemm"]
    if gemm and (dot is None or rank[variant_isa(gemm)] >= rank[variant_isa(dot)]):
        name = gemm
    else:
        name = dot
    return name, k.get("activation_quantize")


def dispatched_kernels(edgeai, formats: List[str]) -> Tuple[List[EdgeaiKernel], List[str]]:
    """Kernels edgeai.matmul dispatches to under the current ISA cap.

    Returns:
        (kernels, notes): notes say which requested formats were skipped and why.
    """
    out, notes = [], []
    info = edgeai.cpu_info()

    def run(x, qt, o, threads):
        edgeai.matmul(x, qt, out=o, threads=threads)

    for fmt in formats:
        name, aq = _dispatched_name(edgeai, fmt)
        if name is None:
            notes.append(f"{fmt}: no dot/gemm kernel compiled at or below the ISA cap")
            continue
        if not harness.can_quantize(edgeai, fmt):
            notes.append(f"{fmt}: no quantize kernel (edgeai's or gguf's) to make its weights")
            continue
        out.append(EdgeaiKernel(fmt, name, variant_isa(name), aq, run))
    return out, notes


def forced_kernels(edgeai, formats: List[str], isa: str) -> List[EdgeaiKernel]:
    """The variants of one ISA, run through edgeai.kernels.matmul_with (bypassing dispatch).

    A format is included when ``isa`` has its own dot or gemm variant; the activations are
    quantized by the best quantizer at or below ``isa``.
    """
    from edgeai import kernels as K
    isas = edgeai.cpu_info()["isas"]
    rank = {i["name"]: i["rank"] for i in isas}
    out = []
    for fmt in formats:
        dot, gemm = K.find("dot", fmt, isa), K.find("gemm", fmt, isa)
        if dot is None and gemm is None:
            continue
        if not harness.can_quantize(edgeai, fmt):
            continue
        act = edgeai.FORMATS[fmt].act_format
        aq = None
        if act != "f32":
            cands = [v for v in K.variants() if v.op == "quantize" and v.fmt.name == act and v.supported
                     and rank.get(v.isa, -1) <= rank[isa]]
            if not cands:
                continue
            aq = max(cands, key=lambda v: rank[v.isa])

        def run(x, qt, o, threads, dot=dot, gemm=gemm, aq=aq):
            o[...] = K.matmul_with(x, qt, dot=None if gemm else dot, gemm=gemm, quantize=aq, threads=threads)

        name = (gemm or dot).name
        out.append(EdgeaiKernel(fmt, name, isa, aq.name if aq else None, run, forced=True))
    return out


def runnable_isas(edgeai) -> List[str]:
    """ISAs that are both compiled and supported by this CPU, lowest priority first."""
    return [i["name"] for i in edgeai.cpu_info()["isas"] if i["compiled"] and i["supported"]]


def empty_out(m: int, n: int) -> np.ndarray:
    return np.empty((m, n), dtype=np.float32)
