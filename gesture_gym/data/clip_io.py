"""Clips to and from npz files (the on-disk cache format for generated and converted clips).

Audio is stored as 16-bit PCM (exact for the procedural corpora, which quantise to 16 bit, and
the precision of the source wav files); everything else is stored as it is.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from gesture_gym.audio.features import AudioFeatures
from gesture_gym.cache import atomic_write
from gesture_gym.data.clip import Clip, Word
from gesture_gym.motion.skeleton import Skeleton

FORMAT_VERSION = 1


class ClipFileError(ValueError):
    """A cached or converted clip file is unreadable; the message names the file."""


def _split_annotations(annotations: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    plain, arrays = {}, {}
    for key, value in annotations.items():
        if isinstance(value, np.ndarray):
            arrays[f"ann/{key}"] = value
        else:
            plain[key] = value
    return plain, arrays


def save_clip(path: Path, clip: Clip) -> None:
    """Write ``clip`` to ``path`` (npz, atomically)."""
    plain, ann_arrays = _split_annotations(dict(clip.annotations))
    meta = {
        "format": FORMAT_VERSION,
        "id": clip.id,
        "split": clip.split,
        "fps": clip.fps,
        "sample_rate": clip.sample_rate,
        "skeleton": clip.skeleton.to_dict(),
        "words": [[w.text, w.start, w.end] for w in clip.words],
        "annotations": plain,
    }
    audio = np.clip(np.round(np.asarray(clip.audio) * 32768.0), -32768, 32767).astype(np.int16)
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        "audio": audio,
        "beats": np.asarray(clip.beats, dtype=np.float64),
        **{f"feat/{k}": v for k, v in clip.features.to_arrays().items()},
        **{f"tok/{k}": v for k, v in clip.tokens.items()},
        **ann_arrays,
    }
    if clip.motion is not None:
        arrays["motion"] = np.asarray(clip.motion, dtype=np.float32)
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays))


def load_clip(path: Path) -> Clip:
    """Read a clip written by save_clip."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ClipFileError(f"{path}: not a readable clip file ({e})") from None
    try:
        meta = json.loads(data.pop("meta").tobytes())
        if meta.get("format") != FORMAT_VERSION:
            raise ClipFileError(
                f"{path}: clip format {meta.get('format')}, expected {FORMAT_VERSION}"
            )
        features = AudioFeatures.from_arrays(
            {k[5:]: v for k, v in data.items() if k.startswith("feat/")}
        )
        annotations = dict(meta["annotations"])
        annotations.update({k[4:]: v for k, v in data.items() if k.startswith("ann/")})
        return Clip(
            id=meta["id"],
            split=meta["split"],
            fps=meta["fps"],
            skeleton=Skeleton.from_dict(meta["skeleton"]),
            motion=data.get("motion"),
            audio=data["audio"].astype(np.float32) / np.float32(32768.0),
            sample_rate=int(meta["sample_rate"]),
            features=features,
            beats=data["beats"],
            words=tuple(Word(t, s, e) for t, s, e in meta["words"]),
            annotations=annotations,
            tokens={k[4:]: v for k, v in data.items() if k.startswith("tok/")},
        )
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ClipFileError(
            f"{path}: clip file is missing or has a malformed entry ({e})"
        ) from None
