"""Choosing the next token from logits: greedy, temperature, top-k, top-p, min-p, repetition penalty.

The order is llama.cpp's and transformers': penalties on raw logits, then the filters on the
temperature-scaled distribution, then one draw from a seeded generator (same seed, same text).
"""
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass
class SamplingParams:
    """How to pick tokens.

    Attributes:
        temperature: 0 means greedy (argmax); higher flattens the distribution.
        top_k: keep the k most likely tokens (0: all).
        top_p: keep the smallest set whose probability reaches p (1.0: all).
        min_p: drop tokens below min_p x the top probability (0: none).
        repetition_penalty: > 1 discourages tokens already in the context (1.0: off): a positive
            logit is divided by it, a negative one multiplied.
        seed: seed of the random generator (None: fresh entropy).
    """

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repetition_penalty: float = 1.0
    seed: Optional[int] = None

    def __post_init__(self):
        if not self.temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if int(self.top_k) < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not 0.0 <= self.min_p <= 1.0:
            raise ValueError(f"min_p must be in [0, 1], got {self.min_p}")
        if not self.repetition_penalty > 0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")


class Sampler:
    """Stateful sampler: one random generator per generation."""

    def __init__(self, params: SamplingParams):
        self.p = params
        self._rng = None

    @property
    def rng(self) -> "np.random.Generator":
        # made on first use: greedy decoding never draws, and importing numpy.random (~30 ms) would
        # otherwise be part of the first prompt's time to first token
        if self._rng is None:
            self._rng = np.random.default_rng(self.p.seed)
        return self._rng

    def __call__(self, logits: np.ndarray, context: Sequence[int] = ()) -> int:
        """Pick a token.

        Args:
            logits: (vocab,) float32 scores of the next token.
            context: token ids so far (for the repetition penalty).
        Returns:
            the token id.
        """
        p = self.p
        # float64 only where arithmetic follows: greedy picks the same token from the float32 scores
        # (the widening is exact), and skips a 49k-element conversion per decoded token
        z = np.asarray(logits).reshape(-1)
        if p.repetition_penalty != 1.0 and len(context):
            z = z.astype(np.float64)   # a copy: the caller's logits stay as they are
            seen = np.unique(np.asarray(context, dtype=np.int64))
            seen = seen[(seen >= 0) & (seen < z.size)]
            vals = z[seen]
            z[seen] = np.where(vals > 0, vals / p.repetition_penalty, vals * p.repetition_penalty)
        if p.temperature == 0:
            return int(np.argmax(z))
        z = np.asarray(z, dtype=np.float64) / p.temperature
        idx = np.arange(z.size)
        if p.top_k and p.top_k < z.size:
            idx = np.argpartition(-z, p.top_k - 1)[:p.top_k]
        # sort the survivors by probability, most likely first
        idx = idx[np.argsort(-z[idx], kind="stable")]
        zz = z[idx] - z[idx[0]]
        probs = np.exp(zz)
        probs /= probs.sum()
        keep = probs.size
        if p.top_p < 1.0:
            keep = min(keep, int(np.searchsorted(np.cumsum(probs), p.top_p) + 1))
        if p.min_p > 0.0:
            keep = min(keep, max(1, int(np.count_nonzero(probs >= p.min_p * probs[0]))))
        probs = probs[:keep] / probs[:keep].sum()
        return int(idx[self.rng.choice(keep, p=probs)])
