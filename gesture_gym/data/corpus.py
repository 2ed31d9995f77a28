"""Corpora: the embedded procedural ones (generated lazily, cached on disk) and real data sets.

``load_corpus("speech-gesture", split="train")`` returns a lazy sequence of Clips: clip i is
generated the first time it is read and written to the cache, so a first ``gym.make`` touches
one clip, not the whole corpus. ``"<format>:<path>"`` names a real data set instead.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from gesture_gym.audio import FEATURES_VERSION, extract_features
from gesture_gym.cache import cache_dir
from gesture_gym.data.clip import Clip
from gesture_gym.data.lazy import LazyClips
from gesture_gym.data.procedural.base import ProceduralGenerator

SPLITS = ("train", "val", "test", "unseen")


def procedural_generator(name: str) -> ProceduralGenerator:
    """The generator of an embedded corpus, by name."""
    if name == "speech-gesture":
        from gesture_gym.data.procedural.speech_gesture import SpeechGestureGenerator

        return SpeechGestureGenerator()
    if name == "music-dance":
        from gesture_gym.data.procedural.music_dance import MusicDanceGenerator

        return MusicDanceGenerator()
    raise KeyError(
        f"unknown corpus {name!r}: the embedded corpora are 'speech-gesture' and 'music-dance'; "
        "a real data set is named '<format>:<path>' (formats: beat2, aistpp, bvh, pats, folder)"
    )


class ProceduralCorpus(LazyClips):
    """One split of an embedded corpus; clips are generated on first access and cached on disk."""

    def __init__(self, name: str, split: str = "train", seed: int = 0, n_clips: int | None = None):
        self.generator = procedural_generator(name)
        if split not in self.generator.split_sizes:
            raise KeyError(f"corpus {name!r} has no split {split!r}; splits: {SPLITS}")
        self.name, self.split, self.seed = name, split, int(seed)
        size = self.generator.split_sizes[split]
        n = size if n_clips is None else min(int(n_clips), size)
        # keyed by generator and feature versions, so a change to either never reads stale clips
        version = f"v{self.generator.version}-{FEATURES_VERSION}"
        self.folder = cache_dir("corpora", f"{name}-{version}-seed{self.seed}", split)
        super().__init__(f"{name}/{split}", range(n))

    @property
    def fps(self) -> float:
        return float(self.generator.fps)

    @property
    def skeleton(self):
        return self.generator.skeleton

    def clip_name(self, i: int) -> str:
        return f"{self.items[i]:05d}"

    def index_of(self, clip_id: str) -> int:
        """Index of a clip id, its last part ("00003") or a bare index given as a string ("3")."""
        name = clip_id.removeprefix(f"{self.label}/")
        return super().index_of(f"{int(name):05d}" if name.isdigit() else clip_id)

    def path(self, i: int) -> Path:
        return self.folder / f"{self.clip_name(i)}.npz"

    def make(self, i: int) -> Clip:
        """Generate clip i (audio, motion, features) without touching the cache."""
        g = self.generator
        out = g.generate(self.seed, self.split, self.items[i])
        clip_id = self.clip_id(i)
        features = extract_features(
            out.audio, g.sample_rate, g.fps, kind=g.audio_kind, n_frames=out.motion.shape[0],
            source=clip_id,
        )  # fmt: skip
        return Clip(
            id=clip_id,
            split=self.split,
            fps=float(g.fps),
            skeleton=g.skeleton,
            motion=out.motion,
            audio=out.audio,
            sample_rate=g.sample_rate,
            features=features,
            beats=np.asarray(out.beats, dtype=np.float64),
            words=out.words,
            annotations=out.annotations,
        )

    def summary(self) -> dict[str, Any]:
        """Counts and durations of this split (reads or generates every clip)."""
        clips = list(self)
        key = "speaker" if self.generator.audio_kind == "speech" else "genre"
        labels = Counter(
            str(seg.get("label"))
            for c in clips
            for seg in c.annotations.get("gestures", c.annotations.get("moves", []))
        )
        summary: dict[str, Any] = {
            "corpus": self.name,
            "split": self.split,
            "clips": len(clips),
            "hours": sum(c.duration for c in clips) / 3600.0,
            "fps": self.fps,
            "sample_rate": self.generator.sample_rate,
            "skeleton": f"{self.skeleton.name} ({self.skeleton.n_joints} joints)",
            key + "s": dict(sorted(Counter(str(c.annotations.get(key)) for c in clips).items())),
            "labels": dict(labels.most_common()),
        }
        if self.generator.audio_kind == "speech":
            summary["words"] = sum(len(c.words) for c in clips)
        return summary


def load_corpus(
    name: str, split: str = "train", *, seed: int = 0, n_clips: int | None = None,
    fps: float | None = None,
) -> LazyClips:  # fmt: skip
    """Clips of an embedded corpus ("speech-gesture", "music-dance") or a data set ("beat2:/path").

    Args:
        name: corpus name, or "<format>:<path>" for a real data set.
        split: "train", "val", "test" or "unseen" (held-out speakers or genres).
        seed: corpus seed; the same (seed, split, index) always gives the same clip.
        n_clips: only the first n clips of the split.
        fps: for real data sets, the motion frame rate to resample to.
    """
    if ":" in name:
        from gesture_gym.data.readers import READERS

        fmt, _, path = name.partition(":")
        if fmt not in READERS:
            raise KeyError(
                f"unknown data set format {fmt!r} in {name!r}; formats: {sorted(READERS)}"
            )
        clips = READERS[fmt](Path(os.path.expanduser(path)), split, fps=fps)
        return clips if n_clips is None else clips[:n_clips]
    return ProceduralCorpus(name, split, seed, n_clips)
