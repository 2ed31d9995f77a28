"""Features of audio files, cached on disk by the hash of the file's bytes and the parameters."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from gesture_gym.audio.features import FEATURES_VERSION, AudioFeatures, extract_features
from gesture_gym.audio.io import AudioError, load_audio
from gesture_gym.cache import atomic_write, cache_dir, content_hash


def features_for_file(
    path: str | Path, fps: float, kind: str, n_frames: int | None = None
) -> AudioFeatures:
    """``extract_features`` of an audio file, read from cache_dir("features") after the first call.

    The key covers the file's bytes (not its name or mtime), fps, kind, n_frames and
    FEATURES_VERSION, so renamed copies share an entry and edited files or new feature code miss.
    An unreadable cache entry is recomputed and replaced.

    Raises:
        AudioError: the file is missing or is not usable audio.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AudioError(f"{path}: cannot read file ({e.strerror or e})") from e
    key = content_hash(
        data, f"fps={float(fps)!r} kind={kind} n_frames={n_frames}", FEATURES_VERSION
    )
    entry = cache_dir("features") / f"{key}.npz"
    if entry.exists():
        try:
            with np.load(entry, allow_pickle=False) as arrays:
                return AudioFeatures.from_arrays({name: arrays[name] for name in arrays.files})
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # torn or stale entry: recompute below
    audio, sample_rate = load_audio(path)
    features = extract_features(
        audio, sample_rate, fps, kind=kind, n_frames=n_frames, source=str(path)
    )
    atomic_write(entry, lambda tmp: np.savez(tmp, **features.to_arrays()))
    return features
