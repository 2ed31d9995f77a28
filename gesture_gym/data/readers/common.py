"""What every reader shares: the converted-clip cache, resampling, trimming and clip assembly.

A reader lists its clips cheaply (names and the files each one reads) and hands a conversion
function to ``ConvertedDataset``. Clip i is converted the first time it is read and written to
the cache under a key made of the reader and audio-feature versions, the reader's parameters and
the path, size and modification time of every source file, so a changed file is converted again
and an unchanged data set opens from the cache.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gesture_gym.audio.features import FEATURES_VERSION, extract_features
from gesture_gym.audio.io import load_audio
from gesture_gym.cache import cache_dir, content_hash
from gesture_gym.data.clip import Clip, Word
from gesture_gym.data.lazy import LazyClips
from gesture_gym.motion.skeleton import Skeleton
from gesture_gym.motion.smplx import retarget

READER_VERSION = "readers-1"  # bump whenever a reader's output changes (keys the cache)
LENGTH_TOLERANCE = 0.5  # seconds: audio and motion lengths further apart than this are warned about
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class DatasetError(ValueError):
    """A data set file is missing a part, malformed or inconsistent; the message names the file."""


class LengthMismatchWarning(UserWarning):
    """Audio and motion of a clip differ in length by more than ``LENGTH_TOLERANCE`` seconds."""


@dataclass(frozen=True)
class ClipSource:
    """One clip of a data set before conversion: its name and every file the conversion reads.

    ``files`` starts with the motion file and then, when the clip has one, its audio file.
    """

    name: str
    files: tuple[Path, ...]


class ConvertedDataset(LazyClips):
    """The clips of one split of a data set, converted on first access and cached on disk.

    Args:
        fmt: the format name ("beat2", ...), the first part of every clip id.
        split: the split these clips belong to.
        sources: the clips, in a fixed order (``items``).
        convert: source -> Clip (reads the files, no caching).
        params: everything else the conversion depends on (target fps, model files...).
    """

    def __init__(
        self,
        fmt: str,
        split: str,
        sources: Sequence[ClipSource],
        convert: Callable[[ClipSource], Clip],
        params: str = "",
    ):
        self.format, self.split, self.params = fmt, split, params
        self._convert = convert
        self.folder = cache_dir("datasets", fmt)
        super().__init__(f"{fmt}/{split}", tuple(sources))

    def clip_name(self, i: int) -> str:
        return self.items[i].name

    def make(self, i: int) -> Clip:
        """Convert clip i from its files, without touching the cache."""
        return self._convert(self.items[i])

    def path(self, i: int) -> Path:
        """Cache file of clip i, named by the content hash of its sources and parameters."""
        source = self.items[i]
        stamps = []
        for f in source.files:
            try:
                st = f.stat()
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"{f}: file not found (needed by clip {source.name!r})"
                ) from None
            stamps.append(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}")
        key = content_hash(
            READER_VERSION, FEATURES_VERSION, self.label, self.params, source.name, *stamps
        )
        return self.folder / f"{key}.npz"


def clip_id(fmt: str, split: str, name: str) -> str:
    return f"{fmt}/{split}/{name}"


def require_dir(path: Path, what: str) -> Path:
    """``path`` if it is a folder, else a FileNotFoundError naming it and what it should hold."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: {what} not found (expected a folder)")
    return path


def find_audio(folder: Path, stem: str) -> Path | None:
    """The audio file named ``stem`` in ``folder`` (any of ``AUDIO_SUFFIXES``), or None."""
    for suffix in AUDIO_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def model_file(path: str | Path | None, env: str, what: str) -> Path | None:
    """An official body-model file: ``path``, else the one $``env`` names, else None."""
    chosen = path or os.environ.get(env)
    if not chosen:
        return None
    if not Path(chosen).is_file():
        raise FileNotFoundError(f"{chosen}: {what} model file not found (from ${env} or argument)")
    return Path(chosen)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def select_split(
    names: Sequence[str], split: str, table: Mapping[str, Sequence[str]] | None, source: Path
) -> list[str]:
    """The names in ``split``: from a split table (split -> names) when there is one.

    Without a table every clip is in "train" (and "all"); other splits need a table.
    """
    if split == "all":
        return list(names)
    if table is None:
        if split == "train":
            return list(names)
        raise KeyError(
            f"{source}: no split table, so every clip is in 'train'; add a \"splits\" entry "
            f"(split -> clip names) to ask for {split!r}"
        )
    if split not in table:
        raise KeyError(f"{source}: no split {split!r}; splits: {sorted(table)}")
    known = set(names)
    unknown = [n for n in table[split] if n not in known]
    if unknown:
        raise DatasetError(
            f"{source}: split {split!r} lists clips that are not in the data set: "
            f"{', '.join(map(str, unknown[:5]))}{' ...' if len(unknown) > 5 else ''}"
        )
    return [str(n) for n in table[split]]


def split_files(root: Path, split: str, suffixes: tuple[str, ...], config_path: Path) -> list[Path]:
    """The files (by suffix) of ``split`` in a folder data set, sorted by name.

    A split is a subfolder ``root/<split>/`` when there is one; otherwise the "splits" table
    (split -> names without suffix) of the JSON at ``config_path``, or every file for "train".
    """
    if (root / split).is_dir():
        root = root / split
        split = "all"
    files = {p.stem: p for p in sorted(root.iterdir()) if p.suffix.lower() in suffixes}
    table = read_json(config_path).get("splits") if config_path.is_file() else None
    if table is not None and not isinstance(table, dict):
        raise DatasetError(f'{config_path}: "splits" must map split names to lists of names')
    return [files[n] for n in select_split(sorted(files), split, table, config_path)]


def target_fps(fps: float | None, native_fps: float, source: Path) -> int:
    """The frame rate clips are produced at: ``fps`` if given, else the native rate rounded."""
    if fps is None:
        if not np.isfinite(native_fps) or native_fps <= 0:
            raise DatasetError(f"{source}: invalid frame rate {native_fps!r}")
        return max(1, round(native_fps))
    if fps <= 0 or int(fps) != fps:
        raise ValueError(f"fps must be a positive whole number, got {fps!r}")
    return int(fps)


def resample_motion(motion: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """(T, ...) frames at ``src_fps`` -> frames at ``dst_fps`` by linear interpolation in time.

    Output frame k is the motion at time k / dst_fps, for every k whose time lies within the
    source clip ([0, (T - 1) / src_fps]).
    """
    m = np.asarray(motion)
    if src_fps == dst_fps or m.shape[0] < 2:
        return m
    n = int(np.floor((m.shape[0] - 1) * dst_fps / src_fps + 1e-9)) + 1
    t = np.arange(n) * (src_fps / dst_fps)
    i0 = np.minimum(np.floor(t).astype(np.int64), m.shape[0] - 2)
    w = (t - i0).reshape((n,) + (1,) * (m.ndim - 1))
    return (1.0 - w) * m[i0] + w * m[i0 + 1]


def trim_to_common_length(
    motion: np.ndarray, audio: np.ndarray, sample_rate: int, fps: int, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Cut motion and audio to their common duration (whole frames).

    Warns (``LengthMismatchWarning``) when the two differ by more than ``LENGTH_TOLERANCE``
    seconds: a sign of a wrong frame rate or of audio and motion from different takes.
    """
    motion_s, audio_s = motion.shape[0] / fps, audio.size / sample_rate
    if abs(motion_s - audio_s) > LENGTH_TOLERANCE:
        warnings.warn(
            f"{source}: motion lasts {motion_s:.2f} s but audio {audio_s:.2f} s (more than "
            f"{LENGTH_TOLERANCE} s apart); both are cut to the shorter",
            LengthMismatchWarning,
            stacklevel=3,
        )
    n = min(motion.shape[0], audio.size * fps // sample_rate)
    if n < 1:
        raise DatasetError(f"{source}: audio and motion have no frame in common")
    return motion[:n], audio[: round(n * sample_rate / fps)]


def build_clip(
    source: ClipSource,
    *,
    fmt: str,
    split: str,
    motion: np.ndarray,
    motion_fps: float,
    fps: int,
    skeleton: Skeleton,
    kind: str,
    retarget_from: Skeleton | None = None,
    mapping: Mapping[str, str] | None = None,
    words: Sequence[Word] = (),
    annotations: Mapping[str, Any] | None = None,
) -> Clip:
    """The Clip of ``source``: its motion at ``fps`` on ``skeleton``, with its audio and features.

    ``motion`` (T, J, 3) at ``motion_fps`` is resampled to ``fps``, then, when it is on another
    skeleton (``retarget_from``), retargeted to ``skeleton`` by joint name (``mapping``: target
    joint -> source joint); in that order, so interpolated frames keep the target's bone
    lengths. Audio and motion are trimmed to a common length. Beats are the audio onsets for
    speech and the tracked beats for music. Errors name the source's files.
    """
    motion_file, audio_file = source.files[:2]
    m = np.asarray(motion, np.float64)
    if not np.all(np.isfinite(m)):
        raise DatasetError(f"{motion_file}: motion contains NaN or infinite values")
    m = resample_motion(m, motion_fps, fps)
    if retarget_from is not None:
        try:
            m = retarget(m, retarget_from, skeleton, mapping)
        except (KeyError, ValueError) as e:
            raise DatasetError(f"{motion_file}: {e.args[0]}") from None
    audio, sr = load_audio(audio_file)
    m, audio = trim_to_common_length(m, audio, sr, fps, f"{motion_file} and {audio_file.name}")
    features = extract_features(
        audio, sr, fps, kind=kind, n_frames=m.shape[0], source=str(audio_file)
    )
    duration = m.shape[0] / fps
    return Clip(
        id=clip_id(fmt, split, source.name),
        split=split,
        fps=float(fps),
        skeleton=skeleton,
        motion=m.astype(np.float32),
        audio=audio,
        sample_rate=sr,
        features=features,
        beats=features.onsets if kind == "speech" else features.beats,
        words=tuple(w for w in words if w.start < duration),
        annotations=dict(annotations or {}),
    )
