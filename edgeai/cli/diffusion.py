"""``edgeai image`` (Stable Diffusion ONNX text-to-image) and ``edgeai terrain`` (terrain heightmaps)."""
import sys
from pathlib import Path

# SD-Turbo as a plain float16 ONNX export in the diffusers layout (vocab.json + merges.txt tokenizer),
# made for ONNX Runtime Web; edgeai runs it in float32 or quantized. Not onnxruntime/sd-turbo:
# that one is fused for the CUDA provider and, by its model card, cannot run on the CPU.
DEFAULT_SD_MODEL = "schmuell/sd-turbo-ort-web"


def add_parsers(sub) -> None:
    p = sub.add_parser("image", help="generate an image from a prompt (Stable Diffusion, ONNX layout)")
    p.add_argument("prompt")
    p.add_argument("-o", "--output", default="image.png", help="PNG to write (batch: name-0.png, name-1.png, ...)")
    p.add_argument("-m", "--model", default=None,
                   help=f"hub repo id or local folder in the SD ONNX layout (default: $EDGEAI_SD_MODEL or "
                        f"{DEFAULT_SD_MODEL}, an SD-Turbo export: 1 step, turbo sampler, no guidance)")
    p.add_argument("--steps", type=int, default=None, help="sampler steps (default 20; 1 for the default model)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--guidance", type=float, default=7.5, help="classifier-free guidance scale (turbo: ignored)")
    p.add_argument("--negative", default=None, help="negative prompt")
    p.add_argument("--scheduler", default=None, choices=["euler", "euler_a", "ddim", "lcm", "turbo"],
                   help="sampler (default euler; turbo for the default model)")
    p.add_argument("--size", default="512x512", help="WIDTHxHEIGHT, multiples of 8")
    p.add_argument("--batch", type=_positive_int, default=1)
    p.add_argument("--quant", default=None, help="q8_0, q4_0 or q4_K (UNet and text encoder)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--vae-tile", type=int, default=None, help="latent tile size for a tiled VAE decode")
    p.add_argument("--max-memory-mb", type=float, default=None, help="decode tiled above this memory estimate")
    p.add_argument("--local-files-only", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_image)

    t = sub.add_parser("terrain", help="generate 128x128 terrain heightmaps (16-bit PNG)")
    t.add_argument("--difficulty", type=float, default=50.0, help="1..100")
    t.add_argument("-o", "--output", default="terrain.png")
    t.add_argument("--steps", type=int, default=1, help="consistency steps (1: one-step)")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--batch", type=_positive_int, default=1)
    t.add_argument("--quant", default=None, help="q8_0, q4_0 or q4_K")
    t.add_argument("--model", default=None, help="terrain ONNX file (default: the pinned PyPI copy)")
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=run_terrain)


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse turns the ValueError into a usage error, exit 2)."""
    v = int(text)
    if v < 1:
        raise ValueError(text)
    return v


def _outputs(path: str, n: int):
    p = Path(path)
    if n == 1:
        return [p]
    return [p.with_name(f"{p.stem}-{i}{p.suffix or '.png'}") for i in range(n)]


def _size(text: str):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must be WIDTHxHEIGHT, got {text!r}") from None
    return w, h


def _clear_errors(fn):
    """Bad arguments (ValueError) end as one line on stderr and exit code 2, like typed errors."""
    def run(args) -> int:
        try:
            return fn(args)
        except ValueError as exc:
            print(f"edgeai: error: {exc}", file=sys.stderr)
            return 2
    return run


@_clear_errors
def run_image(args) -> int:
    from .. import _env
    from ..diffusion.sd import DiffusionPipeline
    model = args.model or _env.SD_MODEL or DEFAULT_SD_MODEL
    turbo_default = model == DEFAULT_SD_MODEL
    if args.scheduler is None:
        args.scheduler = "turbo" if turbo_default else "euler"
    if args.steps is None:
        args.steps = 1 if args.scheduler == "turbo" else 20
    w, h = _size(args.size)
    pipe = DiffusionPipeline.from_pretrained(model, quant=args.quant, threads=args.threads,
                                             local_files_only=args.local_files_only, scheduler=args.scheduler)
    out = pipe([args.prompt] * args.batch, negative_prompt=args.negative, height=h, width=w, steps=args.steps,
               guidance_scale=args.guidance, seed=args.seed, progress=not args.quiet, vae_tile=args.vae_tile,
               max_memory_mb=args.max_memory_mb)
    for img, path, seed in zip(out.images, _outputs(args.output, args.batch), out.seeds):
        img.save(path)
        print(f"{path}  (seed {seed})")
    return 0


@_clear_errors
def run_terrain(args) -> int:
    from ..diffusion.terrain import TerrainPipeline
    pipe = TerrainPipeline.from_pretrained(args.model, quant=args.quant, threads=args.threads)
    out = pipe(args.difficulty, batch_size=args.batch, steps=args.steps, seed=args.seed, progress=not args.quiet)
    for img, path, seed in zip(out.images, _outputs(args.output, args.batch), out.seeds):
        img.save(path)
        print(f"{path}  (seed {seed})")
    return 0
