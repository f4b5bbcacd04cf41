"""Text-to-image for the Stable Diffusion ONNX layout, on ONNX Runtime with edgeai's quantized ops.

Layout (as exported by diffusers / optimum and shipped in "onnx" repos)::

    model_index.json
    tokenizer/        vocab.json + merges.txt (CLIP BPE) or tokenizer.json
    text_encoder/     model.onnx   input_ids[B, 77] -> last_hidden_state[B, 77, D]
    unet/             model.onnx   sample[B, 4, h, w], timestep, encoder_hidden_states -> out_sample
    vae_decoder/      model.onnx   latent_sample[B, 4, h, w] -> sample[B, 3, 8h, 8w]
    scheduler/        scheduler_config.json (optional: Stable Diffusion's schedule is the default)

One image: tokenize -> text encoder -> (for guidance > 1, the negative prompt too) -> latents
``randn * init_noise_sigma`` -> per step: UNet on [uncond; cond], ``eps = u + g * (c - u)``,
scheduler step -> VAE decode of ``latents / scaling_factor`` (tiled when asked or over budget).
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from ..errors import ModelFileError, ModelNotFoundError, ShapeError
from .clip_tokenizer import CLIPTokenizer
from .image import Image, to_uint8
from .schedulers import Scheduler, make_scheduler

COMPONENTS = ("text_encoder", "unet", "vae_decoder")
_ALLOW = ["model_index.json", "tokenizer/*", "text_encoder/*", "unet/*", "vae_decoder/*", "scheduler/*"]
# repos that ship PyTorch weights beside the ONNX files (stabilityai/sdxl-turbo: 15 GB of them in unet/)
_IGNORE = ["*.safetensors", "*.bin", "*.ckpt", "*.pt", "*.pth", "*.msgpack", "*.h5"]


@dataclass
class DiffusionOutput:
    """Result of a :class:`DiffusionPipeline` call.

    Attributes:
        images: one uint8 RGB :class:`Image` ``[H, W, 3]`` per prompt (``.save("x.png")``).
        array: float32 ``[B, H, W, 3]`` in 0..1 (before rounding to uint8).
        latents: the final latents ``[B, 4, H/8, W/8]``.
        seeds: the seed of each image.
    """

    images: List[Image]
    array: np.ndarray
    latents: np.ndarray
    seeds: List[int]


def resolve(id_or_path: Union[str, Path], *, revision: Optional[str] = None, cache_dir=None,
            local_files_only: bool = False, token=None) -> Path:
    """A local directory, or a hub repo id downloaded (ONNX files only) through huggingface_hub.

    Raises:
        ModelNotFoundError: not a directory and the hub cannot provide it.
    """
    p = Path(id_or_path).expanduser()
    if p.is_dir():
        return p
    if p.exists() or str(id_or_path).startswith((".", "/", "~")):
        raise ModelNotFoundError(f"{id_or_path}: no such directory")
    try:
        from huggingface_hub import snapshot_download
        return Path(snapshot_download(str(id_or_path), revision=revision, cache_dir=cache_dir,
                                      local_files_only=local_files_only, token=token, allow_patterns=_ALLOW,
                                      ignore_patterns=_IGNORE))
    except Exception as exc:  # offline, unknown repo, gated, ...
        raise ModelNotFoundError(f"cannot get {id_or_path!r} from the Hugging Face hub "
                                 f"({type(exc).__name__}: {exc})") from exc


def check_layout(root: Path) -> None:
    """Raise ModelFileError naming what is missing or wrong in an SD ONNX folder (files, and the UNet's inputs)."""
    if not (root / "model_index.json").is_file():
        raise ModelFileError(f"{root} is not a Stable Diffusion pipeline folder: no model_index.json")
    if (root / "unet").is_dir() and not (root / "unet" / "model.onnx").is_file() and \
            any((root / "unet").glob("diffusion_pytorch_model*")):
        raise ModelFileError(f"{root} holds PyTorch weights (unet/diffusion_pytorch_model.*), not the ONNX layout; "
                             "export it to ONNX first (e.g. optimum-cli export onnx)")
    for c in COMPONENTS:
        if not (root / c / "model.onnx").is_file():
            raise ModelFileError(f"{root}: missing component {c}/model.onnx")
    tok = root / "tokenizer"
    if not ((tok / "tokenizer.json").is_file() or ((tok / "vocab.json").is_file() and (tok / "merges.txt").is_file())):
        raise ModelFileError(f"{root}: missing component tokenizer/ (vocab.json + merges.txt or tokenizer.json)")
    # the UNet's graph inputs (no external data read), before anything is quantized: SDXL UNets also
    # take text_embeds / time_ids, LCM-distilled ones timestep_cond;
    # unchecked, they fail inside ONNX Runtime with its own message
    import onnx
    unet = root / "unet" / "model.onnx"
    g = onnx.load(str(unet), load_external_data=False).graph
    inits = {t.name for t in g.initializer}
    inputs = {i.name: i.type.tensor_type.elem_type for i in g.input if i.name not in inits}
    need = {"sample", "timestep", "encoder_hidden_states"}
    if not need <= set(inputs):
        raise ModelFileError(f"{unet}: UNet inputs {sorted(inputs)}, expected sample, timestep, encoder_hidden_states")
    extra = sorted(set(inputs) - need)
    if extra:
        raise ModelFileError(f"{unet}: the UNet takes inputs {extra} besides sample, timestep and "
                             "encoder_hidden_states (an SDXL or LCM-distilled UNet?); this pipeline runs SD 1.x / 2.x "
                             "style UNets only")
    if inputs["sample"] not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
        raise ModelFileError(f"{unet}: the UNet's sample input is "
                             f"{onnx.TensorProto.DataType.Name(inputs['sample']).lower()}, not float32 or float16; "
                             "this pipeline runs float32 and float16 ONNX exports")


class DiffusionPipeline:
    """Stable Diffusion (ONNX layout) text-to-image, float32 or with edgeai-quantized UNet/text encoder.

    Float16 exports (the usual form of SD-Turbo on the hub) run in float32: each float16 component
    is converted once into a cached float32 copy, or quantized straight from its float16 weights.

    Build with :meth:`from_pretrained`; call with a prompt to get a :class:`DiffusionOutput`.
    """

    def __init__(self, root: Path, *, quant: Optional[str] = None, threads: Optional[int] = None,
                 scheduler: str = "euler", quant_components: Sequence[str] = ("unet", "text_encoder"),
                 cache_dir: Optional[Path] = None):
        from ..onnx import InferenceSession
        from ._cache import check_quant, quantized_model, runnable_model
        root = Path(root)
        check_layout(root)
        fmt = check_quant(quant)
        self.root, self.quant, self.threads = root, fmt, threads
        self.tokenizer = CLIPTokenizer(root / "tokenizer")
        self.paths = {}
        for c in COMPONENTS:
            path = root / c / "model.onnx"
            if fmt and c in quant_components:
                path = quantized_model(path, fmt, cache_dir)  # float16 sources come out float32 too
            else:  # float16: ONNX Runtime's CPU provider lacks float16 kernels for most ops
                path = runnable_model(path, cache_dir)
            self.paths[c] = path
        self.sessions = {c: InferenceSession(p, threads=threads) for c, p in self.paths.items()}
        sc = root / "scheduler" / "scheduler_config.json"
        self.scheduler_config = json.loads(sc.read_text()) if sc.is_file() else {}
        vc = root / "vae_decoder" / "config.json"
        self.vae_scaling = float(json.loads(vc.read_text()).get("scaling_factor", 0.18215)) if vc.is_file() else 0.18215
        self.scheduler_name = scheduler
        make_scheduler(scheduler, self.scheduler_config)  # fail early on a bad name
        self._vae_channels = _max_conv_channels(self.paths["vae_decoder"])
        uc = root / "unet" / "config.json"
        blocks = json.loads(uc.read_text()).get("block_out_channels") if uc.is_file() else None
        # pixels per latent (8) x 2 per downsampling (every down block but the last); without a
        # config, SD's 4 blocks
        self._down_blocks = len(blocks) if isinstance(blocks, list) and blocks else 4
        self.size_multiple = 8 * 2 ** (self._down_blocks - 1)

    @classmethod
    def from_pretrained(cls, id_or_path: Union[str, Path], *, quant: Optional[str] = None,
                        revision: Optional[str] = None, cache_dir=None, local_files_only: bool = False,
                        token=None, threads: Optional[int] = None, scheduler: str = "euler") -> "DiffusionPipeline":
        """Load a pipeline from a local folder or a hub repo in the SD ONNX layout.

        Args:
            id_or_path: directory, or hub repo id (fetched with huggingface_hub, ONNX parts only).
            quant: None (float32; float16 components converted to a cached float32 copy),
                ``"q8_0"``, ``"q4_0"`` or ``"q4_K"``: the UNet and text encoder are quantized once and cached.
            revision, cache_dir, local_files_only, token: passed to huggingface_hub; the quantized
                copies go under ``cache_dir`` too when it is given (as ``LLM.from_pretrained``'s
                converted GGUFs do), else under edgeai's cache.
            threads: threads for ONNX Runtime and edgeai's kernels.
            scheduler: default sampler (euler, euler_a, ddim, lcm, turbo).
        Returns:
            A ready pipeline.
        Raises:
            ModelNotFoundError: neither a folder nor fetchable. ModelFileError: wrong layout or a
            missing component. FormatError: unknown ``quant``.
        """
        root = resolve(id_or_path, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only,
                       token=token)
        return cls(root, quant=quant, threads=threads, scheduler=scheduler,
                   cache_dir=Path(cache_dir) if cache_dir else None)

    # ---- pieces -------------------------------------------------------------------------------------------

    def encode_prompt(self, prompts: Sequence[str]) -> np.ndarray:
        """Text encoder hidden states ``[B, 77, D]`` for a list of prompts."""
        sess = self.sessions["text_encoder"]
        ids = self.tokenizer(list(prompts))
        inp = sess.get_inputs()[0]
        ids = ids.astype(np.int32 if "int32" in inp.type else np.int64)
        return sess.run(None, {inp.name: ids})[0].astype(np.float32)

    def unet(self, sample: np.ndarray, t: float, hidden: np.ndarray) -> np.ndarray:
        """One UNet call: ``sample[N, 4, h, w]`` at timestep ``t`` -> noise prediction ``[N, 4, h, w]``."""
        sess = self.sessions["unet"]
        tin = next(i for i in sess.get_inputs() if i.name == "timestep")
        dtype = np.int64 if "int64" in tin.type else (np.float16 if "float16" in tin.type else np.float32)
        shape = tin.shape
        if len(shape) == 0:
            ts = np.asarray(t, dtype=dtype)
        elif isinstance(shape[0], int) and shape[0] == 1:
            ts = np.asarray([t], dtype=dtype)
        else:
            ts = np.full(sample.shape[0], t, dtype=dtype)
        return sess.run(None, {"sample": sample, "timestep": ts, "encoder_hidden_states": hidden})[0]

    def decode(self, latents: np.ndarray, *, tile: Optional[int] = None, overlap: Optional[int] = None) -> np.ndarray:
        """VAE decode ``latents[B, 4, h, w]`` (already divided by the scaling factor) -> ``[B, 3, 8h, 8w]``.

        Args:
            tile: latent tile size for tiled decoding (None: whole image at once). Tiles overlap by
                ``overlap`` latent pixels and are blended with linear ramps, so peak memory follows
                the tile, not the image (GroupNorm sees one tile at a time, so results differ
                slightly from an untiled decode).
            overlap: latent pixels shared by neighbouring tiles (default: a quarter of the tile, at most 8).
        """
        sess = self.sessions["vae_decoder"]
        name = sess.input_names[0]
        b, _, h, w = latents.shape
        if tile is None or (h <= tile and w <= tile):
            return sess.run(None, {name: np.ascontiguousarray(latents, np.float32)})[0]
        if overlap is None:
            overlap = max(1, min(8, tile // 4))
        if tile < 2 * overlap + 1:
            raise ValueError(f"tile ({tile}) must exceed twice the overlap ({overlap})")
        step = tile - overlap
        out = np.zeros((b, 3, 8 * h, 8 * w), np.float32)
        weight = np.zeros((1, 1, 8 * h, 8 * w), np.float32)
        for y0 in _starts(h, tile, step):
            for x0 in _starts(w, tile, step):
                th, tw = min(tile, h - y0), min(tile, w - x0)
                part = sess.run(None, {name: np.ascontiguousarray(latents[:, :, y0:y0 + th, x0:x0 + tw], np.float32)})[0]
                ramp = _ramp(8 * th, 8 * overlap, y0 > 0, y0 + th < h)[:, None] * \
                    _ramp(8 * tw, 8 * overlap, x0 > 0, x0 + tw < w)[None, :]
                out[:, :, 8 * y0:8 * (y0 + th), 8 * x0:8 * (x0 + tw)] += part * ramp
                weight[:, :, 8 * y0:8 * (y0 + th), 8 * x0:8 * (x0 + tw)] += ramp
        return out / weight

    def decode_bytes_estimate(self, height: int, width: int, batch: int = 1) -> int:
        """Rough peak activation bytes of an untiled VAE decode: a few float32 maps of the widest layer."""
        return 4 * batch * height * width * self._vae_channels * 3

    def vae_tile_for(self, height: int, width: int, batch: int = 1, max_memory_mb: Optional[float] = None
                     ) -> Optional[int]:
        """The latent tile size a decode under ``max_memory_mb`` uses (None: untiled fits, or no budget).

        Args:
            height, width: image pixels; batch: images decoded at once.
            max_memory_mb: budget for the decode's activations (by :meth:`decode_bytes_estimate`).
        Returns:
            None, or 64, 32 or 16 latent pixels (the largest whose estimate fits; 16 at the least).
        """
        if max_memory_mb is None or self.decode_bytes_estimate(height, width, batch) <= max_memory_mb * 2 ** 20:
            return None
        tile = 64
        while tile > 16 and self.decode_bytes_estimate(8 * tile, 8 * tile, batch) > max_memory_mb * 2 ** 20:
            tile //= 2
        return tile

    # ---- the call -----------------------------------------------------------------------------------------

    def __call__(self, prompt: Union[str, Sequence[str]], *, negative_prompt: Union[str, Sequence[str], None] = None,
                 height: int = 512, width: int = 512, steps: int = 20, guidance_scale: float = 7.5,
                 scheduler: Optional[str] = None, seed: Union[int, Sequence[int], None] = None,
                 latents: Optional[np.ndarray] = None, callback: Optional[Callable[[int, float, np.ndarray], None]] = None,
                 progress: bool = True, vae_tile: Optional[int] = None,
                 max_memory_mb: Optional[float] = None) -> DiffusionOutput:
        """Generate one image per prompt.

        Args:
            prompt: a prompt or a list (the batch).
            negative_prompt: what to steer away from (used when guidance_scale > 1); default "".
            height, width: pixels, multiples of 8.
            steps: sampler steps (turbo: 1 is the point).
            guidance_scale: classifier-free guidance weight; <= 1 runs the UNet on the prompt only.
                The turbo sampler forces 0 (SD-Turbo is trained without guidance).
            scheduler: euler, euler_a, ddim, lcm or turbo (default: the pipeline's).
            seed: int (image i uses seed + i), one per prompt, or None (fresh).
            latents: explicit initial noise ``[B, 4, height/8, width/8]`` (before init_noise_sigma).
            callback: ``callback(step, timestep, latents)`` after each step (previews).
            progress: tqdm bar over steps.
            vae_tile: latent tile size for a tiled VAE decode (64 = 512 px tiles).
            max_memory_mb: decode tiled (64-latent tiles, smaller if needed) when an untiled decode
                would need more than this.
        Returns:
            :class:`DiffusionOutput`.
        Raises:
            ValueError: size not a multiple of 8, bad steps, seeds or latents of the wrong shape.
        """
        from tqdm.auto import tqdm
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if not prompts:
            raise ValueError("no prompt given")
        b = len(prompts)
        if height % 8 or width % 8 or height <= 0 or width <= 0:
            raise ValueError(f"height and width must be positive multiples of 8, got {height}x{width}")
        if height % self.size_multiple or width % self.size_multiple:
            # the UNet halves the latents once per down block and concatenates the skips on the way
            # up: an odd latent size fails inside ONNX Runtime with a Concat shape error
            raise ValueError(f"height and width must be multiples of {self.size_multiple} for this UNet "
                             f"({self._down_blocks} down blocks), got {height}x{width}")
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if not np.isfinite(guidance_scale):
            raise ValueError(f"guidance_scale must be finite, got {guidance_scale!r}")
        sched: Scheduler = make_scheduler(scheduler or self.scheduler_name, self.scheduler_config)
        if sched.name == "turbo":
            guidance_scale = 0.0
        sched.set_timesteps(int(steps))
        cfg = guidance_scale > 1.0
        hidden = self.encode_prompt(prompts)
        if cfg:
            neg = negative_prompt if negative_prompt is not None else ""
            negs = [neg] * b if isinstance(neg, str) else list(neg)
            if len(negs) != b:
                raise ValueError(f"{len(negs)} negative prompts for {b} prompts")
            hidden = np.concatenate([self.encode_prompt(negs), hidden])
        from .terrain import _seeds
        seeds = _seeds(seed, b)
        rngs = [np.random.default_rng(s) for s in seeds]

        def noise(shape):
            return np.stack([r.standard_normal(shape[1:]) for r in rngs]).astype(np.float32)

        lshape = (b, 4, height // 8, width // 8)
        if latents is None:
            latents = noise(lshape)
        else:
            latents = np.asarray(latents, np.float32)
            if latents.shape != lshape:
                raise ShapeError(f"latents must have shape {lshape}, got {latents.shape}")
            if not np.all(np.isfinite(latents)):
                raise ValueError("latents hold NaN or Inf values")
        x = latents * np.float32(sched.init_noise_sigma)
        for i in tqdm(range(len(sched.timesteps)), desc="diffusion", disable=not progress, leave=False,
                      mininterval=0):
            t = sched.timesteps[i]
            xin = sched.scale_model_input(x, i)
            if cfg:
                eps = self.unet(np.concatenate([xin, xin]), t, hidden)
                uncond, cond = eps[:b], eps[b:]
                eps = uncond + np.float32(guidance_scale) * (cond - uncond)
            else:
                eps = self.unet(xin, t, hidden)
            x = sched.step(eps, i, x, noise)
            if callback is not None:
                callback(i, float(t), x)
        tile = vae_tile if vae_tile is not None else self.vae_tile_for(height, width, b, max_memory_mb)
        img = self.decode(x / np.float32(self.vae_scaling), tile=tile)
        arr = np.clip(img / 2 + 0.5, 0.0, 1.0).transpose(0, 2, 3, 1).astype(np.float32)
        images = [Image(to_uint8(a, 0.0, 1.0)) for a in arr]
        return DiffusionOutput(images, arr, x, seeds)


def _starts(n: int, tile: int, step: int) -> List[int]:
    s = list(range(0, max(n - tile, 0) + 1, step))
    if s[-1] + tile < n:
        s.append(n - tile)
    return s


def _ramp(n: int, overlap: int, rise: bool, fall: bool) -> np.ndarray:
    """Blend weights along one axis of a tile: linear ramps over the overlaps it shares."""
    r = np.ones(n, np.float32)
    k = min(overlap, n)
    edge = (np.arange(k, dtype=np.float32) + 0.5) / k
    if rise:
        r[:k] = np.minimum(r[:k], edge)
    if fall:
        r[n - k:] = np.minimum(r[n - k:], edge[::-1])
    return r


def _max_conv_channels(path: Path) -> int:
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    init = {t.name: t for t in m.graph.initializer}
    best = 128
    for n in m.graph.node:
        if n.op_type == "Conv" and len(n.input) > 1 and n.input[1] in init:
            best = max(best, int(init[n.input[1]].dims[0]))
    return best
