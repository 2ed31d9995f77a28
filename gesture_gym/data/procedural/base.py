"""What a procedural corpus generator produces and promises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gesture_gym.data.clip import Word
from gesture_gym.motion.skeleton import Skeleton


@dataclass(frozen=True, eq=False)
class GeneratedClip:
    """A generator's raw output; the corpus layer adds audio features and caching.

    audio: (S,) float32 mono at the generator's sample_rate, quantised to 16 bit (k / 32768), so
        a cached int16 copy is exact. motion: (T, J, 3) float32 with T = S / (sample_rate / fps).
    """

    audio: np.ndarray
    motion: np.ndarray
    beats: np.ndarray
    words: tuple[Word, ...] = ()
    annotations: Mapping[str, Any] = field(default_factory=dict)


SPLIT_CODES = {"train": 0, "val": 1, "test": 2, "unseen": 3}


def clip_rng(
    seed: int, split: str, index: int, split_sizes: Mapping[str, int]
) -> np.random.Generator:
    """The one random generator a clip is drawn from, after checking the arguments."""
    if split not in SPLIT_CODES:
        raise ValueError(f"split must be one of {list(SPLIT_CODES)}, got {split!r}")
    if not 0 <= index < split_sizes[split]:
        last = split_sizes[split] - 1
        raise ValueError(f"index must be in 0..{last} for split {split!r}, got {index}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng([seed, SPLIT_CODES[split], index])


class ProceduralGenerator(Protocol):
    """A deterministic generator: the same (seed, split, index) gives the same clip, byte for byte."""

    name: str  # corpus name, e.g. "speech-gesture"
    version: str  # bump whenever the output changes (it keys the on-disk cache)
    fps: int
    sample_rate: int  # an integer multiple of fps, so features align exactly with frames
    skeleton: Skeleton
    clip_seconds: float
    split_sizes: Mapping[str, int]  # clips per split: train, val, test, unseen
    audio_kind: str  # "speech" or "music": which audio features apply

    def generate(self, seed: int, split: str, index: int) -> GeneratedClip: ...
