"""The kernel library's speed targets (issue 2), judged from the measured rows, never hard-coded.

  1. q4_0 and q8_0 GEMV at 4096x4096, cold weights: >= 85% of the measured memory bandwidth, at
     each thread count measured.
  2. q8_0 and q4_0 GEMM at M=64 (4096x4096): >= 70% of the int8 dot-product peak, per core
     (peak of the host's best ISA x threads). The lowest fraction over all measured shapes is
     printed alongside.
  3. edgeai faster than onnxruntime everywhere: q4_0 vs the faster ORT 4-bit MatMulNBits setting,
     q8_0 vs the faster ORT 8-bit op, on every measured shape, M and thread count.
Only the kernels edgeai dispatches to on this CPU (uncapped, or as capped by --isa) count.
"""
from dataclasses import dataclass
from typing import Iterable, List, Optional

import ort_matmul

BW_TARGET = 0.85
PEAK_TARGET = 0.70
TARGET_SHAPE = (4096, 4096)


@dataclass
class Verdict:
    target: str
    measured: str
    met: Optional[bool]   # None: not measured in this run


def _edgeai(rows, fmt, primary):
    return [r for r in rows if r.engine == "edgeai" and r.label == fmt and r.kernel in primary]


def evaluate(rows: Iterable, prof, primary: set, block_bw: Optional[dict] = None) -> List[Verdict]:
    """Verdicts for the three targets.

    Args:
        rows: bench_matmul.Row measurements.
        prof: membw.MachineProfile of the same run.
        primary: names of the kernels edgeai dispatches to (rows of forced variants of other ISAs
            are shown in the table but not judged).
        block_bw: (n, k) -> {threads: GB/s} measured around that GEMV block; default the
            profile's bandwidth.
    """
    rows = list(rows)
    out: List[Verdict] = []
    threads = sorted({r.threads for r in rows})
    n, k = TARGET_SHAPE

    for fmt in ("q4_0", "q8_0"):
        for t in threads:
            what = f"{fmt} GEMV {n}x{k} cold, {t} thread{'s' if t > 1 else ''}: >= {BW_TARGET:.0%} of bandwidth"
            r = next((r for r in _edgeai(rows, fmt, primary) if (r.n, r.k, r.m, r.threads) == (n, k, 1, t)), None)
            bw = (block_bw or {}).get((n, k), prof.bandwidth_gbs).get(t)
            if r is None or not bw:
                out.append(Verdict(what, "not measured", None))
                continue
            frac = r.weight_gbs / bw
            out.append(Verdict(what, f"{frac:.0%} ({r.weight_gbs:.1f} of {bw:.1f} GB/s, {r.kernel})", frac >= BW_TARGET))

    peak = prof.peak_gops.get(prof.best_isa) if prof.best_isa else None
    for fmt in ("q8_0", "q4_0"):
        for t in threads:
            what = (f"{fmt} GEMM M=64 {n}x{k}, {t} thread{'s' if t > 1 else ''}: >= {PEAK_TARGET:.0%} of int8 peak"
                    f" ({prof.best_isa} x {t})")
            cand = [r for r in _edgeai(rows, fmt, primary) if r.m == 64 and r.threads == t]
            r = next((r for r in cand if (r.n, r.k) == (n, k)), None)
            if r is None or not peak:
                out.append(Verdict(what, "not measured" if peak else "not measured (no int8 peak)", None))
                continue
            frac = r.gflops / (peak * t)
            worst = min(cand, key=lambda c: c.gflops)
            out.append(Verdict(what, f"{frac:.0%} ({r.gflops:.0f} of {peak * t:.0f} GOPS, {r.kernel}); lowest over "
                                     f"shapes {worst.gflops / (peak * t):.0%} at {worst.n}x{worst.k}", frac >= PEAK_TARGET))

    for fmt, kinds, label in (("q4_0", ort_matmul.FOUR_BIT, "4-bit"), ("q8_0", ort_matmul.EIGHT_BIT, "8-bit")):
        what = f"edgeai {fmt} faster than ORT {label} on every shape, M and thread count"
        wins, losses = 0, []
        for r in _edgeai(rows, fmt, primary):
            o = [x.best_s for x in rows if x.engine == "ort" and x.label in kinds
                 and (x.n, x.k, x.m, x.threads) == (r.n, r.k, r.m, r.threads)]
            if not o:
                continue
            if r.best_s < min(o):
                wins += 1
            else:
                losses.append(f"{r.n}x{r.k} M={r.m} t={r.threads} ({min(o) / r.best_s:.2f}x)")
        if wins + len(losses) == 0:
            out.append(Verdict(what, "not measured", None))
        else:
            m = f"faster in {wins} of {wins + len(losses)}"
            if losses:
                m += "; slower at " + ", ".join(losses[:8]) + (" ..." if len(losses) > 8 else "")
            out.append(Verdict(what, m, not losses))
    return out


def format_verdicts(verdicts: List[Verdict], isa_cap: Optional[str] = None) -> str:
    """The verdicts as lines; ``isa_cap`` is named when dispatch was capped (not the host's best)."""
    head = "== targets (issue 2), judged from this run"
    if isa_cap:
        head += f", dispatch capped at {isa_cap} (not the host's best kernels)"
    lines = [head + " =="]
    for v in verdicts:
        mark = {True: "MET    ", False: "NOT MET", None: "n/a    "}[v.met]
        lines.append(f"  [{mark}] {v.target}: {v.measured}")
    return "\n".join(lines)
