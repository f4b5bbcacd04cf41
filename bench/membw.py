"""This machine's ceilings, measured in the same run as the kernels: memory bandwidth and int8 peak.

Method:
  * Memory bandwidth: ``native/stream_read.c``, compiled on the fly with the system C compiler
    (``$CC`` or ``cc``, ``-O3`` and the flags of the best ISA the CPU runs: wider loads read a
    little faster) and loaded with ctypes. Each of 1..T threads reads its own slice of one buffer
    of max(4 x LLC, 256 MiB) (capped at 2 GiB, huge pages asked for, as numpy does for big arrays)
    with eight independent 64-bit sums; the best of several passes counts (STREAM's convention).
    Reported as GB/s (1e9 B/s). Without a C compiler it falls back to numpy sums over a large
    array per thread, which under-reads the ceiling; the method string says which was used.
  * int8 dot-product peak per core: ``native/int8_peak.c``, compiled once per ISA this CPU runs with
    that ISA's flags from ``kernels/isa_flags.py``: a register-only loop of the ISA's int8
    multiply-accumulate idiom (vpdpbusd zmm, vpmaddubsw+vpmaddwd, sdot, smmla...), one thread.
    Reported as GOPS = 2 x int8 multiply-adds per second, like GFLOP/s.

Run ``python bench/membw.py`` to print both.
"""
import atexit
import ctypes
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
NATIVE = HERE / "native"
sys.path.insert(0, str(HERE.parent / "kernels"))
from isa_flags import ISA_FLAGS, arch_name  # noqa: E402

MiB = 1 << 20
_BUILD_DIR = None


@dataclass
class MachineProfile:
    """What the kernels are measured against.

    Attributes:
        llc_bytes: last-level cache size (bytes) as the OS reports it.
        bandwidth_gbs: threads -> streaming-read GB/s.
        bandwidth_method: how the bandwidth was measured.
        peak_gops: ISA -> per-core int8 GOPS (2 ops per multiply-add); ISAs this CPU runs.
        peak_method: how the peaks were measured, or why they are missing.
        best_isa: the host's best ISA among ``peak_gops``.
    """

    llc_bytes: int
    bandwidth_gbs: Dict[int, float] = field(default_factory=dict)
    bandwidth_method: str = ""
    peak_gops: Dict[str, float] = field(default_factory=dict)
    peak_method: str = ""
    best_isa: Optional[str] = None


def llc_bytes() -> int:
    """Size in bytes of the largest CPU cache Linux reports (32 MiB if it reports none)."""
    best = 0
    for idx in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            if (idx / "type").read_text().strip() == "Instruction":
                continue
            s = (idx / "size").read_text().strip().upper()
        except OSError:
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:], 1)
        try:
            best = max(best, int(s.rstrip("KMG")) * mult)
        except ValueError:
            pass
    return best or 32 * MiB


def _compiler() -> Optional[str]:
    for c in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if c and shutil.which(c):
            return c
    return None


def _build(src: Path, name: str, flags: Sequence[str]) -> ctypes.CDLL:
    """Compile ``src`` into a shared library in a per-process temp dir and load it.

    Raises:
        RuntimeError: no C compiler, or the compiler rejected the file (its output attached).
    """
    global _BUILD_DIR
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler (set CC)")
    if _BUILD_DIR is None:
        _BUILD_DIR = tempfile.mkdtemp(prefix="edgeai-bench-")
        # the loaded libraries stay mapped after their files go: remove the folder when the process ends
        atexit.register(shutil.rmtree, _BUILD_DIR, True)
    out = os.path.join(_BUILD_DIR, name + ".so")
    cmd = [cc, "-std=c11", "-O3", "-shared", "-fPIC", *flags, "-o", out, str(src), "-lpthread"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return ctypes.CDLL(out)


def _bandwidth_numpy(nbytes: int, threads: int, passes: int) -> float:
    """Fallback: threads each sum their own float64 array (numpy releases the GIL in reductions)."""
    import numpy as np
    per = nbytes // threads // 8
    arrays = [np.ones(per, dtype=np.float64) for _ in range(threads)]
    best = float("inf")
    for _ in range(passes):
        ts = [threading.Thread(target=np.add.reduce, args=(a,)) for a in arrays]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        best = min(best, time.perf_counter() - t0)
    return per * 8 * threads / best * 1e-9


def measure_bandwidth(threads: Sequence[int] = (1, 2), nbytes: Optional[int] = None, passes: int = 5):
    """Streaming-read bandwidth at each thread count.

    Args:
        threads: thread counts to measure.
        nbytes: buffer size; default max(4 x LLC, 256 MiB), at most 2 GiB.
        passes: full reads per thread count; the best counts.
    Returns:
        (dict threads -> GB/s, method string).
    """
    if nbytes is None:
        nbytes = min(max(4 * llc_bytes(), 256 * MiB), 2048 * MiB)
    try:
        flags = _best_flags()
        lib = _build(NATIVE / "stream_read.c", "stream_read", flags)
        fn = lib.ea_bench_stream_read
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_size_t, ctypes.c_int, ctypes.c_int]
        out = {}
        for t in threads:
            gbs = fn(nbytes, t, passes)
            if gbs <= 0:
                raise RuntimeError(f"stream_read failed ({gbs}) at {t} threads")
            out[t] = gbs
        method = (f"C streaming read (8 x uint64 sums, -O3 {' '.join(flags)}), {nbytes // MiB} MiB buffer "
                  f"(huge pages), best of {passes} passes")
        return out, method
    except RuntimeError as e:
        out = {t: _bandwidth_numpy(nbytes, t, passes) for t in threads}
        return out, f"numpy float64 sums ({nbytes // MiB} MiB, best of {passes}; C helper unavailable: " \
                    f"{str(e).splitlines()[0]}) - a lower bound"


def _best_flags() -> List[str]:
    """Compiler flags of the best ISA this CPU runs (wider loads read memory a little faster)."""
    table = ISA_FLAGS.get(arch_name(platform.machine()), {"ref": []})
    try:
        isas = [i for i in supported_isas() if i in table]
    except ImportError:
        isas = ["ref"]
    return list(table[isas[-1]]) if isas else []


def _peak_one(isa: str, flags: List[str], seconds: float) -> float:
    lib = _build(NATIVE / "int8_peak.c", f"int8_peak_{isa}", ["-DPEAK_" + isa.upper(), *flags])
    loop = lib.ea_bench_int8_loop
    loop.restype = ctypes.c_double
    loop.argtypes = [ctypes.c_int64]
    macs = lib.ea_bench_int8_macs_per_iter()
    iters = 10000
    while loop(iters) < seconds / 4 and iters < (1 << 40):   # calibrate to ~seconds/4 per run
        iters *= 2
    best = min(loop(iters) for _ in range(4))
    return 2.0 * macs * iters / best * 1e-9


def measure_int8_peaks(isas: Optional[Sequence[str]] = None, seconds: float = 0.2):
    """Per-core int8 GOPS for each ISA this CPU can run.

    Args:
        isas: ISA names to measure (default: every ISA of this architecture the CPU supports,
            whether or not edgeai compiled kernels for it).
        seconds: rough time per ISA.
    Returns:
        (dict isa -> GOPS, method string). Empty dict when there is no C compiler.
    """
    arch = arch_name(platform.machine())
    table = ISA_FLAGS.get(arch, {"ref": []})
    if isas is None:
        isas = supported_isas()
    out = {}
    errors = []
    for isa in isas:
        if isa not in table:
            continue
        try:
            out[isa] = _peak_one(isa, table[isa], seconds)
        except (RuntimeError, OSError) as e:
            errors.append(f"{isa}: {str(e).splitlines()[0]}")
    method = "register-only int8 multiply-accumulate loop per ISA (native/int8_peak.c), 1 thread, best of 4"
    if errors:
        method += "; not measured: " + "; ".join(errors)
    return out, method


def import_edgeai():
    """Import edgeai: the installed package, else the checkout one level up (built in place)."""
    try:
        import edgeai
    except ImportError:
        sys.path.insert(0, str(HERE.parent))
        sys.modules.pop("edgeai", None)
        import edgeai
    return edgeai


def supported_isas() -> List[str]:
    """This architecture's ISAs the CPU runs, lowest priority first (from edgeai's detection)."""
    edgeai = import_edgeai()
    return [i["name"] for i in edgeai.cpu_info()["isas"] if i["supported"]]


def measure_machine(threads: Sequence[int] = (1, 2), quick: bool = False) -> MachineProfile:
    """Bandwidth at each thread count and the int8 peak of every ISA the CPU runs."""
    llc = llc_bytes()
    prof = MachineProfile(llc_bytes=llc)
    prof.bandwidth_gbs, prof.bandwidth_method = measure_bandwidth(threads, passes=3 if quick else 5)
    prof.peak_gops, prof.peak_method = measure_int8_peaks(seconds=0.1 if quick else 0.3)
    isas = supported_isas()
    measured = [i for i in isas if i in prof.peak_gops]
    prof.best_isa = measured[-1] if measured else None
    return prof


def format_profile(p: MachineProfile) -> str:
    """Human-readable lines for a MachineProfile."""
    lines = [f"last-level cache: {p.llc_bytes / MiB:.0f} MiB",
             "memory bandwidth (streaming read): "
             + ", ".join(f"{t} thread{'s' if t > 1 else ''} {g:.1f} GB/s" for t, g in sorted(p.bandwidth_gbs.items())),
             f"  method: {p.bandwidth_method}",
             "int8 dot-product peak per core: "
             + ", ".join(f"{isa} {g:.0f} GOPS" for isa, g in p.peak_gops.items())
             + (f" (host best: {p.best_isa})" if p.best_isa else ""),
             f"  method: {p.peak_method}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--quick", action="store_true", help="fewer passes")
    args = ap.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    print(format_profile(measure_machine(threads, quick=args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
