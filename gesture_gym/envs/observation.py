"""Observations: their layout, normalisation statistics and the per-clip arrays they are cut from.

Everything an observation needs is computed once per clip (:class:`EpisodeData`: normalised audio
rows padded for the window, word ids, beat frames, ground-truth tokens), so a step only slices.

Flat layout (``ObservationSpec.slices``), for the step that decodes frames [t*fpt, (t+1)*fpt):

- ``audio``: audio feature rows of frames [t*fpt - past, (t+1)*fpt + future), each row the
  ``AudioFeatures.matrix()`` columns (``AudioFeatures.layout()``), z-scored per column with
  statistics of the training split and clipped to [-10, 10]; frames outside the clip repeat its
  first or last row.
- ``tokens``: the codebook vectors of the last H tokens (oldest first; before the episode's
  start the first token repeats), z-scored per column over the codebook and clipped to
  [-10, 10]; for several body parts the parts' vectors are concatenated per token.
- ``progress``: tokens decoded so far / tokens in the episode, in [0, 1].
- ``text`` (speech, optional): multi-hot over ``WORD_BUCKETS`` hashed word ids of the words
  spoken in the audio window (bucket 0, "no word", is always 0).

The Dict mode gives ``audio`` as (A, D), ``tokens`` as raw ids (H * P,), ``progress`` (1,) and,
with text, ``words``: the hashed word id of every frame of the audio window.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from gesture_gym.audio import FEATURES_VERSION
from gesture_gym.cache import atomic_write, cache_dir, content_hash
from gesture_gym.data.clip import Clip, Word

STATS_VERSION = "obs-stats-1"  # bump when the statistics change meaning (keys the disk cache)
STATS_CLIPS = 48  # evenly spaced training clips the statistics are computed over
WORD_BUCKETS = 256  # hashed word ids 1..255; 0 = no word
CLIP = 10.0  # z-scores are clipped to [-CLIP, CLIP] (as SB3's VecNormalize), so the Box is finite


def word_id(text: str) -> int:
    """A stable hashed id in [1, WORD_BUCKETS) for a word (case-insensitive)."""
    return 1 + zlib.crc32(text.lower().encode()) % (WORD_BUCKETS - 1)


def frame_words(words: Sequence[Word], n_frames: int, fps: float) -> np.ndarray:
    """(n_frames,) int64 hashed id of the word spoken at each frame (0 where none)."""
    ids = np.zeros(n_frames, dtype=np.int64)
    for w in words:
        start, end = int(np.floor(w.start * fps)), int(np.ceil(w.end * fps))
        ids[max(start, 0) : min(end, n_frames)] = word_id(w.text)
    return ids


@dataclass(frozen=True, eq=False)
class FeatureStats:
    """Per-column mean and standard deviation of ``AudioFeatures.matrix()`` over training clips."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of_clips(cls, clips: Sequence[Clip]) -> FeatureStats:
        """Statistics over up to STATS_CLIPS evenly spaced clips (std floored, so no division by 0)."""
        if len(clips) == 0:
            raise ValueError("cannot compute observation statistics of an empty corpus")
        picks = np.unique(np.linspace(0, len(clips) - 1, min(STATS_CLIPS, len(clips))).astype(int))
        rows = np.concatenate([clips[int(i)].features.matrix() for i in picks]).astype(np.float64)
        std = rows.std(axis=0)
        std[std < 1e-6] = 1.0
        return cls(rows.mean(axis=0).astype(np.float32), std.astype(np.float32))

    @classmethod
    def cached(cls, key: str, clips: Sequence[Clip]) -> FeatureStats:
        """``of_clips`` read from cache_dir("obs_stats") after the first computation for ``key``."""
        path = cache_dir("obs_stats") / f"{content_hash(STATS_VERSION, FEATURES_VERSION, key)}.npz"
        if path.exists():
            try:
                with np.load(path) as f:
                    return cls(f["mean"], f["std"])
            except (OSError, ValueError, KeyError):
                pass  # a torn entry is recomputed
        stats = cls.of_clips(clips)
        atomic_write(path, lambda tmp: np.savez(tmp, mean=stats.mean, std=stats.std))
        return stats

    def normalise(self, rows: np.ndarray) -> np.ndarray:
        """z-scores of (T, D) rows, clipped to [-CLIP, CLIP]."""
        return np.clip((rows - self.mean) / self.std, -CLIP, CLIP).astype(np.float32)


def normalised_codebooks(codebooks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each part's (K, C) code vectors z-scored per column over its codebook (clipped)."""
    out = []
    for c in codebooks:
        std = c.std(axis=0)
        std[std < 1e-6] = 1.0
        out.append(np.clip((c - c.mean(axis=0)) / std, -CLIP, CLIP).astype(np.float32))
    return out


@dataclass(frozen=True)
class ObservationSpec:
    """The observation's layout and space.

    Attributes:
        mode: "flat" (one float32 Box) or "dict" (raw token ids, for sequence models).
        past, future: audio context in frames before and after the step's own frames.
        frames_per_token: frames decoded per step.
        audio_dim: columns of an audio row (``AudioFeatures.matrix()``).
        history: H, the number of past tokens observed.
        code_dims: code vector width of each body part's codebook.
        sizes: codebook size of each body part.
        text: whether word ids are observed.
    """

    mode: str
    past: int
    future: int
    frames_per_token: int
    audio_dim: int
    history: int
    code_dims: tuple[int, ...]
    sizes: tuple[int, ...]
    text: bool

    def __post_init__(self) -> None:
        if self.mode not in ("flat", "dict"):
            raise ValueError(f"observation_mode must be 'flat' or 'dict', got {self.mode!r}")
        if self.past < 0 or self.future < 0:
            raise ValueError(
                f"audio_context must be two frame counts >= 0, got ({self.past}, {self.future})"
            )
        if self.history < 1:
            raise ValueError(f"history must be >= 1 token, got {self.history}")

    @property
    def audio_frames(self) -> int:
        """A: frames in the audio window."""
        return self.past + self.frames_per_token + self.future

    def slices(self) -> dict[str, slice]:
        """Name -> slice of the flat observation."""
        widths = {
            "audio": self.audio_frames * self.audio_dim,
            "tokens": self.history * sum(self.code_dims),
            "progress": 1,
        }
        if self.text:
            widths["text"] = WORD_BUCKETS
        out, start = {}, 0
        for name, width in widths.items():
            out[name] = slice(start, start + width)
            start += width
        return out

    @property
    def size(self) -> int:
        return next(reversed(self.slices().values())).stop

    def space(self) -> spaces.Space:
        if self.mode == "flat":
            low = np.full(self.size, -CLIP, np.float32)
            high = np.full(self.size, CLIP, np.float32)
            for name in ("progress", "text"):
                if name in self.slices():
                    low[self.slices()[name]], high[self.slices()[name]] = 0.0, 1.0
            return spaces.Box(low, high, dtype=np.float32)
        d: dict[str, spaces.Space] = {
            "audio": spaces.Box(-CLIP, CLIP, (self.audio_frames, self.audio_dim), np.float32),
            "tokens": spaces.MultiDiscrete(np.tile(np.array(self.sizes, np.int64), self.history)),
            "progress": spaces.Box(0.0, 1.0, (1,), np.float32),
        }
        if self.text:
            d["words"] = spaces.MultiDiscrete(np.full(self.audio_frames, WORD_BUCKETS, np.int64))
        return spaces.Dict(d)


@dataclass(frozen=True, eq=False)
class EpisodeData:
    """What an episode on one clip needs, precomputed once per clip.

    Frame arrays marked "padded" start ``past`` frames before the clip (edge rows repeat), so the
    audio window of the step after t tokens is rows [t * fpt, t * fpt + A).

    Attributes:
        clip_id: the clip's id (the audio file's path for user audio).
        clip_index: the clip's index in the env's corpus, None for user audio.
        n_steps: tokens in the episode (the first is given, the agent picks the rest).
        fps: frame rate.
        audio: (n_steps * fpt + A, D) normalised audio rows, padded.
        words: (n_steps * fpt + A,) hashed word ids, padded; None without text.
        audio_raw: (n_steps * fpt, D) raw audio rows (what reward models read).
        onset: (n_steps * fpt,) raw onset strength (the rendered audio strip).
        beat_frames: (n_steps * fpt,) bool, an audio beat falls in the frame.
        beat_times: audio beat times in seconds within the episode.
        ground_truth: (n_steps * fpt, J, 3) positions of the decoded joints, None for user audio.
        tokens: ground-truth tokens (n_steps,) or (n_steps, P); None for user audio.
        first_token: the episode's given first token, () or (P,).
    """

    clip_id: str
    clip_index: int | None
    n_steps: int
    fps: float
    audio: np.ndarray
    words: np.ndarray | None
    audio_raw: np.ndarray
    onset: np.ndarray
    beat_frames: np.ndarray
    beat_times: np.ndarray
    ground_truth: np.ndarray | None
    tokens: np.ndarray | None
    first_token: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.beat_frames.shape[0])

    @property
    def nbytes(self) -> int:
        arrays = (self.audio, self.words, self.audio_raw, self.onset, self.beat_frames,
                  self.ground_truth, self.tokens)  # fmt: skip
        return sum(a.nbytes for a in arrays if a is not None)

    @property
    def has_ground_truth(self) -> bool:
        return self.ground_truth is not None


def episode_data(
    clip: Clip,
    clip_index: int | None,
    spec: ObservationSpec,
    stats: FeatureStats,
    *,
    joints: Sequence[int],
    tokens: np.ndarray | None,
    first_token: np.ndarray,
    clip_length: int | None,
    onset_column: slice,
) -> EpisodeData:
    """Precompute an episode's arrays from a clip (ground truth from ``clip.motion`` if any)."""
    fpt = spec.frames_per_token
    n_steps = clip.n_frames // fpt
    if tokens is not None:
        n_steps = min(n_steps, len(tokens))
    if clip_length is not None:
        n_steps = min(n_steps, clip_length)
    if n_steps < 2:
        raise ValueError(
            f"clip {clip.id}: {clip.n_frames} frames make {clip.n_frames // fpt} tokens of {fpt} "
            "frames; an episode needs at least 2 (the given first token and one action)"
        )
    n = n_steps * fpt
    raw = clip.features.matrix()
    if raw.shape[1] != spec.audio_dim:
        raise ValueError(
            f"clip {clip.id}: {raw.shape[1]} audio feature columns, the env observes "
            f"{spec.audio_dim} (speech and music features differ: use the matching env)"
        )
    rows = np.clip(np.arange(-spec.past, n + fpt + spec.future), 0, clip.n_frames - 1)
    words = None
    if spec.text:
        words = frame_words(clip.words, clip.n_frames, clip.fps)[rows]
    beat_times = np.asarray(clip.beats, dtype=np.float64)
    beat_times = beat_times[(beat_times >= 0) & (beat_times < n / clip.fps)]
    beat_frames = np.zeros(n, dtype=bool)
    beat_frames[np.minimum(np.round(beat_times * clip.fps).astype(np.int64), n - 1)] = True
    ground_truth = None
    if clip.motion is not None:
        ground_truth = np.ascontiguousarray(clip.motion[:n][:, list(joints)], dtype=np.float32)
    return EpisodeData(
        clip_id=clip.id,
        clip_index=clip_index,
        n_steps=n_steps,
        fps=float(clip.fps),
        audio=stats.normalise(raw[rows]),
        words=words,
        audio_raw=np.ascontiguousarray(raw[:n]),
        onset=np.ascontiguousarray(raw[:n, onset_column.start]),
        beat_frames=beat_frames,
        beat_times=beat_times,
        ground_truth=ground_truth,
        tokens=None if tokens is None else tokens[:n_steps],
        first_token=np.asarray(first_token if tokens is None else tokens[0], dtype=np.int64),
    )
