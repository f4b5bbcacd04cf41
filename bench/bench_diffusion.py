"""Diffusion speed and memory: float32 ONNX Runtime vs ONNX Runtime's own int8 / 4-bit vs edgeai q8_0 / q4_0.

    python bench/bench_diffusion.py [--threads 1 2] [--runs 3] [--skip-sd] [--h2h-rounds 7]

Models: the real terrain consistency UNet (one denoising step = one image) and a tiny random-weight
Stable Diffusion pipeline in the ONNX layout (built with diffusers + torch.onnx on first use, cached
under $EDGEAI_CACHE/bench/tiny_sd; 64x64, 4 Euler steps, guidance 7.5; its s/step is the median time
between step callbacks, without the text encoder and the VAE decode). Every (model, variant,
threads) runs in its own process, so the peak RSS column is that configuration's alone. PSNR is
against float32 ONNX Runtime on the same fixed input. Times are the fastest of --runs calls after a warm-up call;
"cpu s/img" is the CPU time of that process over all its threads (on a loaded machine the 1-thread CPU
time is the steadier number). Nothing here is asserted: the machine is shared.

The table's "vs f32" compares processes run minutes apart; on a shared machine whose speed drifts
within minutes that ratio moves by 0.1-0.3 between runs. So the terrain model also gets a
head-to-head section: one process per thread count holds the float32, ONNX Runtime int8 and edgeai
q8_0 / q4_0 sessions and times them in turn, --h2h-rounds rounds; each variant's ratio to float32 is the
median over the rounds of that round's ratio, and the issue's speed target is judged on it.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "diffusion"))

VARIANTS = ["ort-f32", "ort-int8", "ort-4bit", "edgeai-q8_0", "edgeai-q4_0"]


def cache_dir() -> Path:
    from edgeai import _env
    d = _env.CACHE_DIR / "bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


def ort_quantized(src: Path, kind: str) -> Path:
    """ONNX Runtime's own quantization of one model file, cached beside the bench cache."""
    out = cache_dir() / "ort" / f"{src.parent.name}-{src.stem}.{kind}.onnx"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.onnx")
    if kind == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8)
    else:  # MatMulNBits: 4-bit blocks of 32, MatMul nodes only
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
        q = MatMulNBitsQuantizer(onnx.load(str(src)), block_size=32, is_symmetric=True)
        q.process()
        q.model.save_model_to_file(str(tmp))
    os.replace(tmp, out)
    return out


def peak_rss_mb() -> float:
    """This process's peak resident set so far, MB (each variant runs in its own process)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def weight_bytes(path: Path) -> int:
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(path))
    return sum(numpy_helper.to_array(t).nbytes for t in m.graph.initializer)


def count_ops(path: Path, ops) -> int:
    import onnx
    return sum(n.op_type in ops for n in onnx.load(str(path), load_external_data=False).graph.node)


def best_of(runs: int, fn) -> tuple:
    """(wall, cpu) seconds of the fastest of ``runs`` timed calls: on a shared machine the minimum is
    the least disturbed. cpu is the process's CPU time over all its threads (at 1 thread it barely
    moves when other processes take the cores)."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return (best, best_cpu) if runs > 0 else (0.0, 0.0)


# ---- one configuration, in a child process --------------------------------------------------------------------

def terrain_path(variant: str) -> Path:
    """The terrain UNet file a variant runs: the float32 original, ORT's quantization or edgeai's."""
    from edgeai.diffusion._cache import quantized_model
    from edgeai.pypi_models import fetch_pypi_file
    src = fetch_pypi_file("terrain-consistency-unet")
    if variant == "ort-f32":
        return src
    if variant.startswith("ort-"):
        return ort_quantized(src, variant[4:])
    return quantized_model(src, variant[7:], cache_dir())


def terrain_feeds() -> dict:
    """One fixed input: noise at sigma_max, difficulty 40."""
    rng = np.random.default_rng(0)
    return {"noisy": (rng.standard_normal((1, 1, 128, 128)) * 80).astype(np.float32),
            "sigma": np.array([80.0], np.float32), "difficulty": np.array([40.0], np.float32)}


def run_terrain(variant: str, threads: int, runs: int) -> dict:
    from edgeai.onnx import InferenceSession
    path = terrain_path(variant)
    if variant == "ort-4bit" and count_ops(path, {"MatMulNBits"}) == 0:
        return {"note": "MatMulNBits quantizes MatMul only; this model's weights are in Conv/Gemm"}
    feeds = terrain_feeds()
    sess = InferenceSession(path, threads=threads)
    y = sess.run(None, feeds)[0]
    dt, cpu = best_of(runs, lambda: sess.run(None, feeds))
    rss = peak_rss_mb()  # before weight_bytes, whose onnx.load is not the pipeline's memory
    return {"s_image": dt, "s_step": dt, "cpu_image": cpu, "rss_mb": rss, "weights": weight_bytes(path), "out": y}


def run_sd(variant: str, threads: int, runs: int) -> dict:
    import shutil
    from edgeai.diffusion.sd import DiffusionPipeline
    base = cache_dir() / "tiny_sd"
    if not (base / "model_index.json").is_file():
        from tiny_sd import build
        build(base)
    quant, root = None, base
    if variant.startswith("edgeai-"):
        quant = variant[7:]
    elif variant != "ort-f32":
        root = cache_dir() / f"tiny_sd.{variant}"
        if not (root / "model_index.json").is_file():
            shutil.copytree(base, root, ignore=shutil.ignore_patterns("torch"))
            for c in ("unet", "text_encoder"):
                q = ort_quantized(base / c / "model.onnx", variant[4:])
                shutil.copy(q, root / c / "model.onnx")
    pipe = DiffusionPipeline.from_pretrained(root, quant=quant, threads=threads, cache_dir=cache_dir())
    kw = dict(height=64, width=64, steps=4, guidance_scale=7.5, seed=0, progress=False)
    y = pipe("a photo of a cat", **kw).array
    dt, cpu = best_of(runs, lambda: pipe("a photo of a cat", **kw))

    def step_time() -> float:
        # a step is the time between two step callbacks: UNet on [uncond; cond] + the sampler update,
        # without the text encoder (before step 0) and the VAE decode (after step 3) that s/image holds
        stamps = []
        pipe("a photo of a cat", **kw, callback=lambda i, t, x: stamps.append(time.perf_counter()))
        return float(np.median(np.diff(stamps)))
    s_step = min(step_time() for _ in range(max(1, min(runs, 3))))
    rss = peak_rss_mb()  # before weight_bytes, whose onnx.load is not the pipeline's memory
    wb = sum(weight_bytes(p) for p in pipe.paths.values())
    return {"s_image": dt, "s_step": s_step, "cpu_image": cpu, "rss_mb": rss, "weights": wb, "out": y}


H2H_VARIANTS = ["ort-f32", "ort-int8", "edgeai-q8_0", "edgeai-q4_0"]


def child_h2h(threads: int, runs: int) -> None:
    """Terrain UNet: every H2H variant's session in this one process, timed in turn, ``runs`` rounds."""
    from edgeai.onnx import InferenceSession
    feeds = terrain_feeds()
    sessions = {v: InferenceSession(terrain_path(v), threads=threads) for v in H2H_VARIANTS}
    for s in sessions.values():
        s.run(None, feeds)
    times = {v: [] for v in H2H_VARIANTS}
    for k in range(runs):
        # the starting variant rotates, so none always follows the same one (whose weights fill the caches)
        for v in H2H_VARIANTS[k % 4:] + H2H_VARIANTS[:k % 4]:
            time.sleep(0.05)  # ORT's idle workers may still spin after the previous session's call
            t = time.perf_counter()
            sessions[v].run(None, feeds)
            times[v].append(time.perf_counter() - t)
    print(json.dumps(times))


def child(model: str, variant: str, threads: int, runs: int, out_npy: str) -> None:
    import edgeai
    from edgeai.errors import FormatError
    edgeai.set_num_threads(threads)
    try:
        r = (run_terrain if model == "terrain" else run_sd)(variant, threads, runs)
    except FormatError as exc:  # e.g. no q4_0 quantize kernel in this build yet
        r = {"note": str(exc)}
    if "out" in r:
        np.save(out_npy, r.pop("out"))
    r.setdefault("rss_mb", peak_rss_mb())
    print(json.dumps(r))


# ---- the table ---------------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-sd", action="store_true")
    ap.add_argument("--variants", nargs="+", default=VARIANTS)
    ap.add_argument("--child", nargs=5, metavar=("MODEL", "VARIANT", "THREADS", "RUNS", "NPY"), help=argparse.SUPPRESS)
    ap.add_argument("--h2h-rounds", type=int, default=7,
                    help="rounds of the terrain head-to-head section (0: skip the section)")
    ap.add_argument("--child-h2h", nargs=2, metavar=("THREADS", "RUNS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.h2h_rounds < 0:
        ap.error("--h2h-rounds must be >= 0")
    if a.child_h2h:
        child_h2h(int(a.child_h2h[0]), int(a.child_h2h[1]))
        return
    if a.child:
        m, v, t, r, npy = a.child
        child(m, v, int(t), int(r), npy)
        return
    import tempfile
    from edgeai import cpu_info
    info = cpu_info()
    print(f"# edgeai diffusion bench: {info['arch']}, best ISA {info['best_isa']}, "
          f"q8_0 gemm {info['kernels']['q8_0'].get('gemm')}")
    models = ["terrain"] + ([] if a.skip_sd else ["tiny-sd"])
    hdr = f"{'model':8} {'variant':12} {'thr':>3} {'s/image':>9} {'s/step':>9} {'vs f32':>7} {'cpu s/img':>9} " \
          f"{'cpu vs f32':>10} {'PSNR dB':>8} {'weights MB':>10} {'peak RSS MB':>11}"
    print(hdr)
    print("-" * len(hdr))
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            for threads in a.threads:
                ref_t, ref_cpu, ref_y = None, None, None
                for v in a.variants:
                    npy = os.path.join(tmp, f"{model}-{v}-{threads}.npy")
                    # first a run that only builds what is missing (tiny pipeline, quantized files),
                    # so the measured process pays for loading alone
                    subprocess.run([sys.executable, __file__, "--child", model, v, str(threads), "0", npy],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    proc = subprocess.run([sys.executable, __file__, "--child", model, v, str(threads), str(a.runs), npy],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    if proc.returncode != 0:
                        print(f"{model:8} {v:12} {threads:>3}  failed: {proc.stderr.strip().splitlines()[-1:]}")
                        continue
                    r = json.loads(proc.stdout.strip().splitlines()[-1])
                    if "note" in r:
                        print(f"{model:8} {v:12} {threads:>3}  n/a: {r['note']}")
                        continue
                    y = np.load(npy)
                    if v == "ort-f32":
                        ref_t, ref_cpu, ref_y = r["s_image"], r["cpu_image"], y
                    ratio = f"{r['s_image'] / ref_t:.2f}x" if ref_t else "-"
                    cpu_ratio = f"{r['cpu_image'] / ref_cpu:.2f}x" if ref_cpu else "-"
                    p = "-"
                    if ref_y is not None and v != "ort-f32":
                        mse = float(np.mean((ref_y.astype(np.float64) - y) ** 2))
                        rng = float(ref_y.max() - ref_y.min())
                        p = f"{10 * np.log10(rng * rng / mse):.1f}" if mse > 0 else "inf"
                    print(f"{model:8} {v:12} {threads:>3} {r['s_image']:9.4f} {r['s_step']:9.4f} {ratio:>7} "
                          f"{r['cpu_image']:9.4f} {cpu_ratio:>10} {p:>8} "
                          f"{r['weights'] / 2**20:10.2f} {r['rss_mb']:11.0f}", flush=True)
    if a.h2h_rounds > 0:
        head_to_head(a.threads, a.h2h_rounds)


def head_to_head(threads_list, runs: int) -> None:
    """The terrain variants timed in turn in one process per thread count (see the module docstring)."""
    print(f"\n== terrain head to head: one process per thread count, variants in turn, {runs} rounds ==")
    print(f"{'variant':12} {'thr':>3} {'best s':>8} {'median s':>9} {'vs f32 (median of rounds)':>26}  rounds")
    verdicts = []
    for threads in threads_list:
        proc = subprocess.run([sys.executable, __file__, "--child-h2h", str(threads), str(runs)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
            print(f"head to head, {threads} thr: failed: {last}")
            continue
        times = json.loads(proc.stdout.strip().splitlines()[-1])
        f32 = times["ort-f32"]
        for v, ts in times.items():
            per_round = [t / f for t, f in zip(ts, f32)]
            x = float(np.median(per_round))
            print(f"{v:12} {threads:>3} {min(ts):8.4f} {float(np.median(ts)):9.4f} {x:25.2f}x  "
                  + ", ".join(f"{r:.2f}" for r in per_round))
            if v == "edgeai-q8_0":
                q8 = ts
                verdicts.append((threads, x, float(np.median([t / i for t, i in zip(q8, times["ort-int8"])]))))
    print("\n== target (issue 5, speed): edgeai q8_0 at least as fast as float32 ONNX Runtime and faster than "
          "ONNX Runtime's int8 ==")
    if not verdicts:
        print("  [n/a    ] no head-to-head process finished (see the failures above)")
    for threads, x_f32, x_int8 in verdicts:
        print(f"  [{'MET    ' if x_f32 <= 1.0 else 'NOT MET'}] {threads} thr: q8_0 time / f32 time {x_f32:.2f}")
        print(f"  [{'MET    ' if x_int8 < 1.0 else 'NOT MET'}] {threads} thr: q8_0 time / ORT int8 time {x_int8:.2f}")


if __name__ == "__main__":
    main()
