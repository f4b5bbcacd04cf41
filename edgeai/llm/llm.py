"""``edgeai.LLM``: load a small language model and talk to it.

    llm = edgeai.LLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")   # or edgeai.LLM("model.gguf")
    print(llm.chat([{"role": "user", "content": "What is the capital of France?"}]))
    for piece in llm.generate("Once upon a time", max_tokens=50, stream=True):
        print(piece, end="", flush=True)
"""
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from ..errors import ContextLengthError, ModelFileError
from . import chat_template
from .config import ModelConfig, config_from_gguf
from .gguf import GGUFFile
from .model import KVCache, forward
from .sampling import Sampler, SamplingParams
from .tokenizer import StreamDecoder, Tokenizer, from_gguf_metadata
from .weights import load_weights

DEFAULT_N_CTX = 4096
# KV cache positions allocated up front; it doubles as the context fills (see KVCache)
_KV_START = 256
_KV_DTYPES = {"f16": np.float16, "float16": np.float16, "f32": np.float32, "float32": np.float32}


class GenerationStats:
    """Timings of the last generation: prompt tokens, generated tokens, seconds for each phase."""

    def __init__(self):
        self.prompt_tokens = 0
        self.cached_tokens = 0
        self.generated_tokens = 0
        self.prefill_s = 0.0
        self.decode_s = 0.0
        self.finish_reason = ""

    @property
    def decode_tok_s(self) -> float:
        return self.generated_tokens / self.decode_s if self.decode_s > 0 else 0.0

    @property
    def prefill_tok_s(self) -> float:
        n = self.prompt_tokens - self.cached_tokens
        return n / self.prefill_s if self.prefill_s > 0 else 0.0

    def __repr__(self):
        return (f"GenerationStats(prompt={self.prompt_tokens}, cached={self.cached_tokens}, "
                f"generated={self.generated_tokens}, prefill={self.prefill_tok_s:.1f} tok/s, "
                f"decode={self.decode_tok_s:.1f} tok/s, finish={self.finish_reason!r})")


class LLM:
    """A language model loaded from a GGUF file: tokenizer, chat template, weights, KV cache.

    Args:
        path: a GGUF v2/v3 file (llama, qwen2, gemma3 or phi3 architecture).
        n_ctx: context length to allocate (default: the model's, at most 4096).
        threads: kernel threads (default: the global count, ``EDGEAI_NUM_THREADS``).
        kv_dtype: ``"f16"`` (default) or ``"f32"`` KV cache.
        chat_template: override the template from the file.
        use_c: run the decode step in C (default); False runs the numpy forward pass only.
    Raises:
        FileNotFoundError, ModelFileError (corrupt/truncated file), UnsupportedArchitectureError.
    """

    def __init__(self, path: Union[str, os.PathLike], *, n_ctx: Optional[int] = None, threads: Optional[int] = None,
                 kv_dtype: str = "f16", chat_template: Optional[str] = None, use_c: bool = True):
        self.path = Path(path)
        self.gguf = GGUFFile(self.path)
        meta = self.gguf.metadata
        self.config: ModelConfig = config_from_gguf(meta, str(self.path))
        self.tokenizer: Tokenizer = from_gguf_metadata(meta, str(self.path))
        self.weights = load_weights(self.gguf, self.config)
        self.chat_template = chat_template or meta.get("tokenizer.chat_template")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive integer or None, not {threads!r}")
        self.threads = threads
        if kv_dtype not in _KV_DTYPES:
            raise ValueError(f"kv_dtype must be one of {sorted(_KV_DTYPES)}, not {kv_dtype!r}")
        self.n_ctx = int(n_ctx or min(self.config.context_length, DEFAULT_N_CTX))
        if self.n_ctx < 1:
            raise ValueError(f"n_ctx must be positive, got {n_ctx}")
        self.cache = KVCache(self.config, self.n_ctx, _KV_DTYPES[kv_dtype], capacity=_KV_START)
        self._cached_ids: List[int] = []   # the tokens whose keys/values are in the cache
        self._last_prompt = None           # (ids, logits of the last one) of the last prefill
        self._fast = None
        if use_c:
            from .fast import FastDecoder
            self._fast = FastDecoder.create(self.config, self.weights, self.cache)
        self.stats = GenerationStats()

    @classmethod
    def from_pretrained(cls, id_or_path: Union[str, os.PathLike], *, quant: str = "q8_0", threads: Optional[int] = None,
                        revision: Optional[str] = None, cache_dir: Optional[Union[str, os.PathLike]] = None,
                        local_files_only: bool = False, token: Optional[Union[str, bool]] = None,
                        n_ctx: Optional[int] = None, progress: bool = False, **kwargs) -> "LLM":
        """Load a GGUF file, a Hugging Face model directory, or a hub id.

        A Hugging Face checkpoint (config.json + *.safetensors + tokenizer.json) is quantized once to
        ``quant`` and stored as a GGUF in the edgeai cache; later loads map that file directly.

        Args:
            id_or_path: ``"model.gguf"``, a directory, ``"org/name"`` (hub), or ``"org/name/file.gguf"``.
            quant: ``"q8_0"``, ``"q4_0"``, ``"q4_K"`` or ``"f16"`` (HF checkpoints only).
            threads: kernel threads.
            revision, cache_dir, local_files_only, token: passed to huggingface_hub.
            n_ctx: context length to allocate.
            progress: show tqdm progress bars (download, quantization).
        Returns:
            an LLM.
        """
        from .hf import resolve_gguf
        gguf_path = resolve_gguf(id_or_path, quant=quant, revision=revision, cache_dir=cache_dir,
                                 local_files_only=local_files_only, token=token, progress=progress)
        return cls(gguf_path, n_ctx=n_ctx, threads=threads, **kwargs)

    # ---- tokens ---------------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_bos: Optional[bool] = None, special: bool = True) -> List[int]:
        """Token ids of ``text`` (special tokens written in the text are recognised if ``special``)."""
        return self.tokenizer.encode(text, add_bos=add_bos, special=special)

    def detokenize(self, ids: Sequence[int], *, skip_special: bool = False) -> str:
        """Text of token ids."""
        return self.tokenizer.decode(ids, skip_special=skip_special)

    def apply_chat_template(self, messages, *, add_generation_prompt: bool = True, **kwargs) -> str:
        """The prompt text of a chat, rendered with the model's template (transformers' semantics)."""
        return chat_template.render(self.chat_template, messages, add_generation_prompt=add_generation_prompt,
                                    bos_token=self.tokenizer.bos_token, eos_token=self.tokenizer.eos_token, **kwargs)

    # ---- forward ----------------------------------------------------------------------------------

    def _check_ids(self, ids) -> np.ndarray:
        a = np.asarray(ids)
        if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iu":
            raise ValueError("token ids must be a non-empty 1-D sequence of ints")
        if a.min() < 0 or a.max() >= self.config.vocab_size:
            raise ValueError(f"token id out of range [0, {self.config.vocab_size})")
        return a.astype(np.int64)

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """Logits of every position for a token sequence (a fresh context; the chat cache is kept).

        Returns:
            float32 (len(ids), vocab).
        Raises:
            ContextLengthError: more tokens than ``n_ctx``.
        """
        a = self._check_ids(ids)
        if a.size > self.n_ctx:
            raise ContextLengthError(f"{a.size} tokens do not fit the context of {self.n_ctx}")
        cache = KVCache(self.config, a.size, self.cache.k.dtype)
        return forward(self.config, self.weights, a, cache, all_logits=True, threads=self.threads)

    def _eval(self, ids: np.ndarray) -> np.ndarray:
        """Append ids to the cached context; returns the logits (vocab,) of the last one."""
        if self.cache.reserve(self.cache.pos + len(ids)) and self._fast is not None:
            # the C decoder holds the cache arrays: give it the grown ones
            from .fast import FastDecoder
            self._fast = FastDecoder(self.config, self.weights, self.cache)
        if len(ids) == 1 and self._fast is not None:
            out = self._fast.step(int(ids[0]), self.cache.pos, self.threads)
            self.cache.pos += 1
        else:
            out = forward(self.config, self.weights, ids, self.cache, threads=self.threads)[-1]
        self._cached_ids.extend(int(i) for i in ids)
        return out

    def _prefill(self, ids: List[int]) -> np.ndarray:
        # the very prompt of the last prefill, still in the cache: its logits were kept, so a repeated
        # prompt continues bit for bit as before (same seed, same text)
        last = self._last_prompt
        if last is not None and last[0] == ids and self._cached_ids[:len(ids)] == ids:
            self.cache.pos = len(ids)
            del self._cached_ids[len(ids):]
            self.stats.cached_tokens = len(ids)
            return last[1].copy()
        # else reuse the longest common prefix with what the cache holds (a chat re-sends its history;
        # the new part runs as its own batch, so low-order bits may differ from a cold start)
        common = 0
        for a, b in zip(self._cached_ids, ids):
            if a != b:
                break
            common += 1
        common = min(common, len(ids) - 1)  # the last token must run to give logits
        self.cache.pos = common
        del self._cached_ids[common:]
        self.stats.cached_tokens = common
        out = self._eval(np.asarray(ids[common:], dtype=np.int64))
        self._last_prompt = (list(ids), out.copy())
        return out

    def reset(self) -> None:
        """Forget the cached context."""
        self.cache.pos = 0
        self._cached_ids = []
        self._last_prompt = None

    # ---- generation -------------------------------------------------------------------------------

    def generate(self, prompt: Union[str, Sequence[int]], max_tokens: int = 256, *, temperature: float = 0.8,
                 top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05, repetition_penalty: float = 1.0,
                 seed: Optional[int] = None, stop: Optional[Union[str, Sequence[str]]] = None,
                 stream: bool = False, add_bos: Optional[bool] = None) -> Union[str, Iterator[str]]:
        """Continue a prompt.

        Args:
            prompt: text (special tokens in it are recognised) or token ids.
            max_tokens: at most this many new tokens (fewer if the context fills up).
            temperature: 0 for greedy decoding.
            top_k, top_p, min_p, repetition_penalty: see :class:`SamplingParams`.
            seed: same seed, same text.
            stop: string(s) that end the generation; the text before the first one is returned.
            stream: return an iterator of text pieces (whole UTF-8 characters) as they decode.
            add_bos: prepend BOS (default: the model's setting).
        Returns:
            the generated text, or an iterator of pieces if ``stream``.
        Raises:
            ContextLengthError: the prompt does not leave room for one new token.
        """
        params = SamplingParams(temperature, top_k, top_p, min_p, repetition_penalty, seed)
        if isinstance(prompt, str):
            ids = self.tokenize(prompt, add_bos=add_bos)
        else:
            ids = [int(i) for i in self._check_ids(prompt)]
        if not ids:
            raise ValueError("empty prompt: nothing to condition on (pass add_bos=True or some text)")
        if len(ids) >= self.n_ctx:
            raise ContextLengthError(f"the prompt has {len(ids)} tokens; the context holds {self.n_ctx} "
                                     f"(n_ctx), leaving no room to generate")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
            raise ValueError(f"max_tokens must be a non-negative int, not {max_tokens!r}")
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        if any(not isinstance(s, str) or not s for s in stops):
            raise ValueError("stop must be a non-empty string or a list of them")
        it = self._generate(ids, max_tokens, params, stops)
        return it if stream else "".join(it)

    def _generate(self, ids: List[int], max_tokens: int, params: SamplingParams, stops: List[str]) -> Iterator[str]:
        st = self.stats = GenerationStats()
        st.prompt_tokens = len(ids)
        sampler = Sampler(params)
        dec = StreamDecoder(self.tokenizer)
        hold = max((len(s) for s in stops), default=1) - 1  # chars that may still become a stop string
        text, emitted = "", 0
        t0 = time.perf_counter()
        logits = self._prefill(ids)
        st.prefill_s = time.perf_counter() - t0
        context = list(ids)
        t1 = time.perf_counter()
        budget = min(max_tokens, self.n_ctx - len(ids))
        st.finish_reason = "length"
        for n in range(budget):
            tok = sampler(logits, context)
            if tok in self.tokenizer.eos_ids:
                st.finish_reason = "stop"
                break
            context.append(tok)
            st.generated_tokens += 1
            text += dec.push(tok)
            if stops:
                hit = min((i for i in (text.find(s, max(0, emitted - hold)) for s in stops) if i >= 0), default=-1)
                if hit >= 0:
                    if hit > emitted:
                        yield text[emitted:hit]
                    st.finish_reason = "stop"
                    st.decode_s = time.perf_counter() - t1
                    return
            safe = len(text) - hold if stops else len(text)
            if safe > emitted:
                yield text[emitted:safe]
                emitted = safe
            if n + 1 < budget:
                logits = self._eval(np.asarray([tok], dtype=np.int64))
        text += dec.flush()
        st.decode_s = time.perf_counter() - t1
        if len(text) > emitted:
            yield text[emitted:]

    def chat(self, messages: List[Dict[str, Any]], max_tokens: int = 256, **kwargs) -> Union[str, Iterator[str]]:
        """Answer a chat: render the messages with the model's template and generate the reply.

        Args:
            messages: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.
            max_tokens, **kwargs: as for :meth:`generate` (``stream=True`` to stream).
        Returns:
            the assistant's reply (or an iterator of pieces).
        """
        prompt = self.apply_chat_template(messages, add_generation_prompt=True)
        # the template writes BOS itself where the model wants it
        return self.generate(prompt, max_tokens, add_bos=False, **kwargs)

    # ---- introspection ------------------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        """A summary: architecture, sizes, formats, file, context, KV cache bytes."""
        c = self.config
        fmts: Dict[str, int] = {}
        for t in self.gguf.tensors.values():
            from ..formats import _BY_ID
            name = _BY_ID[t.type_id].name
            fmts[name] = fmts.get(name, 0) + 1
        return {
            "path": str(self.path), "name": self.gguf.get("general.name", self.path.stem), "arch": c.arch,
            "layers": c.n_layer, "d_model": c.d_model, "heads": c.n_head, "kv_heads": c.n_kv_head,
            "head_dim": c.head_dim, "ff": c.d_ff, "vocab": c.vocab_size, "context_length": c.context_length,
            "n_ctx": self.n_ctx, "file_bytes": self.path.stat().st_size, "kv_cache_bytes": self.cache.nbytes,
            "kv_dtype": str(self.cache.k.dtype), "tensor_formats": fmts, "tokenizer": self.gguf.get("tokenizer.ggml.model"),
            "decode": "C" if self._fast is not None else "numpy",
        }

    def __repr__(self):
        c = self.config
        return f"LLM({self.path.name!r}, arch={c.arch}, layers={c.n_layer}, d={c.d_model}, n_ctx={self.n_ctx})"
