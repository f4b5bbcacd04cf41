"""edgeai matmul benchmark: GEMV and GEMM per format, side by side with numpy and onnxruntime.

    python bench/bench_matmul.py                 # full table (a few minutes on 2 cores)
    python bench/bench_matmul.py --quick         # two shapes, short timings
    python bench/bench_matmul.py --isa avx2      # cap dispatch at avx2
    python bench/bench_matmul.py --isa all       # every compiled variant this CPU runs, forced

y[M, N] = x[M, K] @ W[N, K]^T, x and y float32, W quantized. M=1 is the GEMV (LLM decode) case,
timed with cold weights; M=64 the GEMM case (prompt processing), weights reused from cache. The
memory bandwidth and int8 peak are measured in the same run (membw.py). See bench/README.md for
the columns. Nothing here asserts a speed: the targets are printed with what was measured.
"""
import sys

from blas_env import blas_report, drop_openblas_overrides

# before anything imports numpy: OpenBLAS reads these when it is loaded
_DROPPED = drop_openblas_overrides() if "--keep-openblas-env" not in sys.argv else {}

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict  # noqa: E402
from typing import Dict, List, Optional, Tuple  # noqa: E402

import numpy as np  # noqa: E402

import bench_engines as engines  # noqa: E402
import bench_harness as harness  # noqa: E402
import membw  # noqa: E402
import ort_matmul  # noqa: E402
import bench_targets as targets  # noqa: E402
from bench_rows import Row  # noqa: E402

SHAPES = [(576, 1536), (1536, 576), (2048, 5632), (5632, 2048), (4096, 4096)]   # N x K
QUICK_SHAPES = [(1536, 576), (4096, 4096)]
MS = (1, 64)
FLOAT_FORMATS = ("f32", "f16", "bf16")


def parse_shapes(s: str) -> List[Tuple[int, int]]:
    out = []
    for part in s.split(","):
        try:
            n, k = part.lower().split("x")
            out.append((int(n), int(k)))
        except ValueError:
            raise SystemExit(f"bad shape {part!r}: use NxK, e.g. 4096x4096") from None
    return out


def parse_args(argv):
    ap = argparse.ArgumentParser(description="edgeai GEMV/GEMM benchmark vs numpy and onnxruntime")
    ap.add_argument("--formats", help="comma-separated formats (default: every weight format with a kernel)")
    ap.add_argument("--shapes", help="comma-separated NxK (default: the five model shapes)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--m", default="1,64", help="comma-separated M values (default 1,64)")
    ap.add_argument("--isa", help="cap dispatch at this ISA, or 'all' to force every compiled variant the CPU runs")
    ap.add_argument("--quick", action="store_true", help="two shapes, short timings, one ORT 4-bit setting")
    ap.add_argument("--engines", default="edgeai,numpy,ort", help="which of edgeai,numpy,ort to run")
    ap.add_argument("--min-time", type=float, help="seconds of timed batches per measurement (default 0.4, quick 0.1)")
    ap.add_argument("--json", help="also write the rows and the machine profile to this file")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (default: unset for this process)")
    return ap.parse_args(argv)


# ---- measuring ---------------------------------------------------------------------------------

def measure_edgeai(kern, w, x, m, threads, copies, min_time) -> List[Row]:
    edgeai = membw.import_edgeai()
    qts = harness.edgeai_weight_set(edgeai, w, kern.fmt, copies)
    out = engines.empty_out(m, w.shape[0])
    rows = []
    for t in threads:
        tm = harness.time_calls(lambda i: kern.run(x, qts[i % copies], out, t), period=copies, min_time=min_time)
        rows.append(Row("edgeai", kern.fmt, kern.kernel, kern.isa, kern.forced, w.shape[0], w.shape[1], m, t,
                        copies, qts[0].nbytes, tm.best, tm.median))
    del qts
    gc.collect()
    return rows


def _missing_modules(eng) -> Dict[str, str]:
    """Engines whose Python packages are absent (e.g. no onnxruntime wheel on 32-bit ARM)."""
    import importlib.util
    need = {"numpy": ["threadpoolctl"], "ort": ["onnxruntime", "onnx"]}
    out = {}
    for e in eng:
        absent = [m for m in need.get(e, []) if importlib.util.find_spec(m) is None]
        if absent:
            out[e] = f"{', '.join(absent)} not installed (pip install '.[bench]')"
    return out


def _blas_kernel() -> str:
    """'OpenBLAS SkylakeX' (the core type OpenBLAS runs, from threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS (threadpoolctl missing)"
    for i in threadpool_info():
        if i.get("user_api") == "blas":
            return f"{i.get('internal_api')} {i.get('architecture')}"
    return "BLAS"


def measure_numpy(w, x, m, threads, copies, min_time) -> List[Row]:
    from threadpoolctl import threadpool_limits
    ws = harness.numpy_weight_set(w, copies)
    out = np.empty((m, w.shape[0]), dtype=np.float32)
    rows = []
    for t in threads:
        with threadpool_limits(limits=t, user_api="blas"):
            tm = harness.time_calls(lambda i: np.matmul(x, ws[i % copies].T, out=out), period=copies,
                                    min_time=min_time)
        rows.append(Row("numpy", "f32", _blas_kernel(), None, False, w.shape[0], w.shape[1], m,
                        t, copies, w.nbytes, tm.best, tm.median))
    del ws
    gc.collect()
    return rows


def measure_ort(kind, w, x, m, threads, copies, min_time) -> List[Row]:
    model = ort_matmul.build_model(kind, w, copies)
    nbytes = ort_matmul.weight_nbytes(kind, *w.shape)
    rows = []
    for t in threads:
        sess = ort_matmul.OrtMatmul(model, t, copies)
        # one run does all `copies` matmuls: time per run / copies is the time per matmul
        tm = harness.time_calls(lambda i: sess.run(x), period=1, min_time=min_time)
        rows.append(Row("ort", kind, ort_matmul.ORT_LABELS[kind], None, False, w.shape[0], w.shape[1], m, t, copies,
                        nbytes, tm.best / copies, tm.median / copies))
        del sess
        gc.collect()
        time.sleep(0.05)   # let ORT's spinning workers go idle before the next measurement
    del model
    gc.collect()
    return rows


# ---- printing ----------------------------------------------------------------------------------

def _fmt_time(s: float) -> str:
    return f"{s * 1e3:8.3f} ms" if s < 1 else f"{s:8.2f} s "


def _ratio(other: Optional[float], mine: float) -> str:
    return f"{other / mine:6.2f}x" if other else "      -"


def print_block(rows: List[Row], prof: membw.MachineProfile, n, k, m, t, bw: Optional[float], out=sys.stdout):
    """The rows of one (shape, M, threads); ``bw`` is the bandwidth the GEMV block is judged against."""
    sel = [r for r in rows if (r.n, r.k, r.m, r.threads) == (n, k, m, t)]
    if not sel:
        return
    copies = max(r.copies for r in sel)
    kind = "GEMV, cold weights" if m == 1 else "GEMM, weights in cache"
    head = f"== N x K = {n} x {k}   M = {m} ({kind})   threads = {t}"
    if m == 1 and bw:
        head += f"   bandwidth {bw:.1f} GB/s"
    print(head + " ==", file=out)
    np_t = next((r.best_s for r in sel if r.engine == "numpy"), None)
    o4 = [r.best_s for r in sel if r.engine == "ort" and r.label in ort_matmul.FOUR_BIT]
    o8 = [r.best_s for r in sel if r.engine == "ort" and r.label in ort_matmul.EIGHT_BIT]
    o4, o8 = (min(o4) if o4 else None), (min(o8) if o8 else None)
    print(f"  {'engine':<36} {'kernel':<34} {'time':>11} {'wGB/s':>7} {'GFLOP/s':>8} {'%BW' if m == 1 else '%peak':>6}"
          f" {'vs numpy':>8} {'vs ORT4':>8} {'vs ORT8':>8} {'cold set':>9}", file=out)
    for r in sel:
        if r.engine == "edgeai":
            name = f"edgeai {r.label}" + (f" [{r.isa}]" if r.forced else "")
        elif r.engine == "numpy":
            name = "numpy f32 matmul"
        else:
            name = ort_matmul.ORT_LABELS[r.label]
        pct = "     -"
        if m == 1 and bw:
            pct = f"{100 * r.weight_gbs / bw:5.0f}%"
        elif m > 1 and r.engine == "edgeai" and r.label not in FLOAT_FORMATS and r.isa in prof.peak_gops:
            pct = f"{100 * r.gflops / (prof.peak_gops[r.isa] * t):5.0f}%"
        ratios = ""
        if r.engine == "edgeai":
            ratios = f" {_ratio(np_t, r.best_s):>8} {_ratio(o4, r.best_s):>8} {_ratio(o8, r.best_s):>8}"
        else:
            ratios = f" {'':>8} {'':>8} {'':>8}"
        kernel = r.kernel if r.engine != "ort" else ""
        cold = f"{r.copies:>4} x" if r.copies > 1 else "      -"
        print(f"  {name:<36} {kernel:<34} {_fmt_time(r.best_s)} {r.weight_gbs:7.2f} {r.gflops:8.2f} {pct:>6}"
              f"{ratios} {cold:>9}", file=out)
    print(file=out)


def _progress(msg: str, t0: Optional[float] = None):
    """Progress on stderr (the table goes to stdout at the end)."""
    if t0 is not None:
        msg = f"[{time.perf_counter() - t0:6.0f} s] " + msg
    sys.stderr.write(msg)
    sys.stderr.flush()


def print_header(edgeai, prof, args, out=sys.stdout):
    info = edgeai.cpu_info()
    print(f"edgeai {edgeai.__version__} on {platform.machine()} ({platform.processor() or platform.platform()}), "
          f"python {platform.python_version()}, numpy {np.__version__}", file=out)
    print(f"CPU features: {' '.join(info['features'])}", file=out)
    print(f"ISA: best {info['best_isa']}, cap {info['isa_cap']}, compiled+supported: "
          f"{', '.join(engines.runnable_isas(edgeai))}", file=out)
    print(membw.format_profile(prof), file=out)
    for line in blas_report():
        print(line, file=out)
    try:
        v = ort_matmul.ort_version()
        print(f"onnxruntime {v['onnxruntime']}, onnx {v['onnx']}", file=out)
    except ImportError as e:
        print(f"onnxruntime/onnx not installed ({e}): pip install '.[bench]'", file=out)
    if os.environ.get("EDGEAI_BENCH_EMULATED") or _under_qemu():
        print("NOTE: this looks like an emulated CPU (qemu): timings are NOT speed figures", file=out)
    print(file=out)


def _under_qemu() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
    except OSError:
        return False
    # qemu-user passes the host's /proc through, so a foreign-arch interpreter is the tell;
    # qemu-system without KVM names its CPU "QEMU Virtual CPU"
    foreign = platform.machine().lower() not in ("x86_64", "amd64") and ("GenuineIntel" in txt or "AuthenticAMD" in txt)
    return foreign or "QEMU Virtual CPU" in txt


def write_json(path: str, rows: List[Row], prof, verdicts, block_bw):
    """Rows, machine profile, per-block bandwidth and verdicts as JSON, written atomically."""
    data = {"profile": asdict(prof),
            "gemv_block_bandwidth_gbs": {f"{n}x{k}": bw for (n, k), bw in block_bw.items()},
            "rows": [dict(asdict(r), gflops=r.gflops, weight_gbs=r.weight_gbs) for r in rows],
            "targets": [asdict(v) for v in verdicts]}
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".bench-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


# ---- main --------------------------------------------------------------------------------------

def select_kernels(edgeai, isa: Optional[str], formats: List[str]):
    """The edgeai kernels to run.

    Args:
        isa: None (dispatch), an ISA cap, or "all" (every compiled variant this CPU runs, forced).
    Returns:
        (kernels, names of the kernels dispatch picks, which the targets judge; skip notes).
    """
    if isa == "all":
        isas = engines.runnable_isas(edgeai)
        kerns = [kk for i in isas for kk in engines.forced_kernels(edgeai, formats, i)]
        kerns.sort(key=lambda kk: (formats.index(kk.fmt), isas.index(kk.isa)))
        edgeai.set_isa(None)
        dispatched, _ = engines.dispatched_kernels(edgeai, formats)
        return kerns, {kk.kernel for kk in dispatched}, []
    if isa:
        try:
            edgeai.set_isa(isa)
        except edgeai.EdgeAIError as e:
            raise SystemExit(f"--isa {isa}: {e}") from None
    kerns, notes = engines.dispatched_kernels(edgeai, formats)
    return kerns, {kk.kernel for kk in kerns}, notes


def main(argv=None) -> int:
    args = parse_args(argv)
    edgeai = membw.import_edgeai()
    threads = [int(t) for t in args.threads.split(",")]
    ms = [int(m) for m in args.m.split(",")]
    shapes = parse_shapes(args.shapes) if args.shapes else (QUICK_SHAPES if args.quick else SHAPES)
    bad = [f"{n}x{k}" for n, k in shapes if n < 1 or k < 32 or k % 32]
    if bad:
        raise SystemExit(f"shapes {', '.join(bad)}: K must be a positive multiple of 32 (the block size)")
    min_time = args.min_time or (0.1 if args.quick else 0.4)
    eng = set(args.engines.split(","))
    unknown_eng = eng - {"edgeai", "numpy", "ort"}
    if unknown_eng:
        raise SystemExit(f"unknown engine(s) {', '.join(sorted(unknown_eng))}; known: edgeai, numpy, ort")
    missing = _missing_modules(eng)
    all_formats = engines.weight_formats(edgeai)
    formats = args.formats.split(",") if args.formats else all_formats
    unknown = [f for f in formats if f not in all_formats]
    if unknown:
        raise SystemExit(f"unknown weight format(s) {', '.join(unknown)}; known: {', '.join(all_formats)}")

    notes: List[str] = [f"{e}: {why}" for e, why in missing.items()]
    eng -= set(missing)
    kerns, primary, sel_notes = select_kernels(edgeai, args.isa, formats)
    notes += sel_notes

    prof = membw.measure_machine(threads, quick=args.quick)
    ort_kinds = ["nbits4_acc4", "dqmm8"] if args.quick else list(ort_matmul.ORT_KINDS)

    rows: List[Row] = []
    t_start = time.perf_counter()
    bw_samples = [dict(prof.bandwidth_gbs)]
    gemv_blocks = []   # ((n, k), index of the bandwidth sample taken right before the block)
    shape_notes = set()
    for (n, k) in shapes:
        w = harness.random_weights(n, k)
        for m in ms:
            x = harness.random_activations(m, k)
            cold = m == 1

            def copies_for(nbytes):
                return harness.cold_copies(nbytes, prof.llc_bytes) if cold else 1

            _progress(f"{n}x{k} M={m}: ", t_start)
            if cold:
                # sample the bandwidth right before (and, via the next sample, after) each cold GEMV
                # block: on a shared machine the block is judged against the bandwidth of its moment
                bw_samples.append(membw.measure_bandwidth(threads, passes=3)[0])
                gemv_blocks.append(((n, k), len(bw_samples) - 1))
            if "edgeai" in eng:
                for kern in kerns:
                    bs = edgeai.FORMATS[kern.fmt].block_size
                    if k % bs:
                        # e.g. K-quants (256-element blocks) at K=576, as GGUF files fall back there too
                        shape_notes.add(f"{kern.fmt} at {n}x{k}: K is not a multiple of its block size {bs}")
                        continue
                    nbytes = edgeai.FORMATS[kern.fmt].row_nbytes(k) * n
                    _progress(f"{kern.fmt}{'@' + kern.isa if kern.forced else ''} ")
                    rows += measure_edgeai(kern, w, x, m, threads, copies_for(nbytes), min_time)
            if "numpy" in eng:
                _progress("numpy ")
                rows += measure_numpy(w, x, m, threads, copies_for(w.nbytes), min_time)
            if "ort" in eng:
                for kind in ort_kinds:
                    _progress(f"{kind} ")
                    rows += measure_ort(kind, w, x, m, threads, copies_for(ort_matmul.weight_nbytes(kind, n, k)),
                                        min_time)
            _progress("\n")
        del w
        gc.collect()

    # the machine is shared: measure the ceilings again at the end; the int8 peak is the higher of
    # the two readings and each GEMV block is judged against the bandwidth sampled around it, so a
    # busy moment cannot flatter the kernels' fraction of them
    bw_samples.append(membw.measure_bandwidth(threads, passes=3 if args.quick else 5)[0])
    prof.bandwidth_gbs = {t: max(b[t] for b in bw_samples) for t in threads}
    # each GEMV block: the higher of the samples just before and just after it
    block_bw = {nk: {t: max(bw_samples[i][t], bw_samples[i + 1][t]) for t in threads} for nk, i in gemv_blocks}
    peaks_end, _ = membw.measure_int8_peaks(seconds=0.1 if args.quick else 0.3)
    peaks_start = dict(prof.peak_gops)
    prof.peak_gops = {isa: max(g, peaks_end.get(isa, 0.0)) for isa, g in peaks_start.items()}
    print_header(edgeai, prof, args)
    print(f"bandwidth sampled {len(bw_samples)} times (start, before each GEMV block, end): "
          + ", ".join(f"{t} thr {min(b[t] for b in bw_samples):.1f}..{max(b[t] for b in bw_samples):.1f} GB/s"
                      for t in threads)
          + "; each GEMV block's %BW uses the higher of the samples taken just before and just after it")
    print("int8 peak measured at start / end, the higher is used: "
          + ", ".join(f"{isa} {peaks_start[isa]:.0f}/{peaks_end.get(isa, 0):.0f}" for isa in peaks_start))
    print()
    for note in notes + sorted(shape_notes):
        print(f"skipped {note}")
    if notes or shape_notes:
        print()
    for (n, k) in shapes:
        for m in ms:
            for t in threads:
                print_block(rows, prof, n, k, m, t, block_bw.get((n, k), prof.bandwidth_gbs).get(t))

    verdicts = targets.evaluate(rows, prof, primary, block_bw)
    print(targets.format_verdicts(verdicts, args.isa if args.isa != "all" else None))
    if args.json:
        write_json(args.json, rows, prof, verdicts, block_bw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
