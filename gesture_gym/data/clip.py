"""The Clip: one piece of audio with its motion, features and annotations, shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gesture_gym.audio.features import AudioFeatures
from gesture_gym.motion.skeleton import Skeleton


@dataclass(frozen=True)
class Word:
    """A word of the transcript with its timing in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, eq=False)
class Clip:
    """Audio, aligned audio features and (optionally) ground-truth motion.

    Attributes:
        id: unique within its corpus, e.g. ``"speech-gesture/train/00012"``.
        split: "train", "val", "test" or "unseen" (or a reader's own split name).
        fps: motion frame rate; ``features`` has one row per motion frame.
        skeleton: the kinematic tree of ``motion``.
        motion: (T, J, 3) float32 joint positions in metres (y up), or None for audio-only clips.
        audio: (S,) float32 mono waveform at ``sample_rate``.
        features: audio features aligned to the T motion frames.
        beats: (B,) float seconds: music beats, or stressed-syllable times for speech.
        words: the transcript with word timings (speech only).
        annotations: the generator's or data set's own labels (stress times, gesture or move
            segments, speaker, genre, tempo...), enough to compute an oracle reward.
        tokens: motion token sequences per tokenizer name, filled in by the tokenizer layer.
    """

    id: str
    split: str
    fps: float
    skeleton: Skeleton
    motion: np.ndarray | None
    audio: np.ndarray
    sample_rate: int
    features: AudioFeatures
    beats: np.ndarray
    words: tuple[Word, ...] = ()
    annotations: Mapping[str, Any] = field(default_factory=dict)
    tokens: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.motion is not None:
            m = self.motion
            if m.ndim != 3 or m.shape[1:] != (self.skeleton.n_joints, 3):
                raise ValueError(
                    f"clip {self.id}: motion of shape {m.shape} does not match skeleton "
                    f"{self.skeleton.name!r} ({self.skeleton.n_joints} joints)"
                )
            if m.shape[0] != self.features.n_frames:
                raise ValueError(
                    f"clip {self.id}: {m.shape[0]} motion frames but {self.features.n_frames} "
                    "audio feature frames"
                )
            if not np.all(np.isfinite(m)):
                raise ValueError(f"clip {self.id}: motion contains NaN or infinite values")

    @property
    def n_frames(self) -> int:
        return self.features.n_frames

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps
