"""Corpora: the embedded procedural ones (generated lazily, cached on disk) and real data sets.

``load_corpus("speech-gesture", split="train")`` returns a lazy sequence of Clips: clip i is
generated the first time it is read and written to the cache, so a first ``gym.make`` touches
one clip, not the whole corpus. ``"<format>:<path>"`` names a real data set instead.
"""

from __future__ import annotations

import os
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, overload

import numpy as np

from gesture_gym.audio import FEATURES_VERSION, extract_features
from gesture_gym.cache import cache_dir
from gesture_gym.data.clip import Clip
from gesture_gym.data.clip_io import ClipFileError, load_clip, save_clip
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


class ProceduralCorpus(Sequence[Clip]):
    """One split of an embedded corpus; clips are made on first access and cached on disk."""

    _MEMORY_CLIPS = 16  # recently read clips kept in memory (an env re-reads its clips often)

    def __init__(self, name: str, split: str = "train", seed: int = 0, n_clips: int | None = None):
        self.generator = procedural_generator(name)
        if split not in self.generator.split_sizes:
            raise KeyError(f"corpus {name!r} has no split {split!r}; splits: {SPLITS}")
        self.name, self.split, self.seed = name, split, int(seed)
        size = self.generator.split_sizes[split]
        self._n = size if n_clips is None else min(int(n_clips), size)
        # keyed by generator and feature versions, so a change to either never reads stale clips
        version = f"v{self.generator.version}-{FEATURES_VERSION}"
        self.folder = cache_dir("corpora", f"{name}-{version}-seed{self.seed}", split)
        self._memory: OrderedDict[int, Clip] = OrderedDict()

    @property
    def fps(self) -> float:
        return float(self.generator.fps)

    @property
    def skeleton(self):
        return self.generator.skeleton

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Clip: ...
    @overload
    def __getitem__(self, i: slice) -> list[Clip]: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(f"{self.name}/{self.split} has {self._n} clips; index {i}")
        i %= self._n
        clip = self._memory.pop(i, None) or self._read_or_make(i)
        self._memory[i] = clip
        if len(self._memory) > self._MEMORY_CLIPS:
            self._memory.popitem(last=False)
        return clip

    def __iter__(self) -> Iterator[Clip]:
        return (self[i] for i in range(self._n))

    def clip_id(self, i: int) -> str:
        return f"{self.name}/{self.split}/{i:05d}"

    def index_of(self, clip_id: str) -> int:
        """Index of a clip id (or of a bare index given as a string)."""
        text = clip_id.rsplit("/", 1)[-1]
        if not text.isdigit() or not 0 <= int(text) < self._n:
            raise KeyError(f"{self.name}/{self.split} has no clip {clip_id!r} (0..{self._n - 1})")
        return int(text)

    def path(self, i: int) -> Path:
        return self.folder / f"{i:05d}.npz"

    def _read_or_make(self, i: int) -> Clip:
        path = self.path(i)
        if path.exists():
            try:
                return load_clip(path)
            except ClipFileError:
                pass  # a torn or stale cache entry is rebuilt below
        clip = self.make(i)
        save_clip(path, clip)
        return clip

    def make(self, i: int) -> Clip:
        """Generate clip i (audio, motion, features) without touching the cache."""
        g = self.generator
        out = g.generate(self.seed, self.split, i)
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

    def missing(self) -> list[int]:
        return [i for i in range(self._n) if not self.path(i).exists()]

    def build(self, workers: int = 1, progress: bool = True) -> int:
        """Generate and cache every missing clip; returns how many were made."""
        from tqdm import tqdm

        todo = self.missing()
        bar = tqdm(total=len(todo), desc=f"{self.name}/{self.split}", disable=not progress)
        if workers <= 1 or len(todo) < 4:
            for i in todo:
                save_clip(self.path(i), self.make(i))
                bar.update()
        else:
            with ProcessPoolExecutor(workers) as pool:
                for _ in pool.map(
                    _build_one, [(self.name, self.split, self.seed, i) for i in todo]
                ):
                    bar.update()
        bar.close()
        return len(todo)

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


def _build_one(args: tuple[str, str, int, int]) -> None:
    name, split, seed, i = args
    corpus = ProceduralCorpus(name, split, seed)
    save_clip(corpus.path(i), corpus.make(i))


def load_corpus(
    name: str, split: str = "train", *, seed: int = 0, n_clips: int | None = None,
    fps: float | None = None,
) -> Sequence[Clip]:  # fmt: skip
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
