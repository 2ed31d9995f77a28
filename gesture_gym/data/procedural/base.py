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
