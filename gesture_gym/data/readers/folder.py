"""A plain folder: audio files with joint-position motion beside them and a small JSON.

    dataset.json       {"fps": 30, "skeleton": "upper_body"}  (a skeleton the project knows), or
                       {"fps": 30, "joints": [...], "parents": [...], "offsets": [[x, y, z]...]}
                       (a skeleton of your own; without "offsets" each clip's first frame is its
                       rest pose). Optional: "kind" ("speech" or "music", default speech),
                       "target" (a known skeleton to retarget to by joint name) with "mapping"
                       (target joint -> your joint), "splits" (split -> clip names).
    <name>.wav         audio (.wav, .flac, .ogg or .mp3)
    <name>.npy         (T, J, 3) joint positions in metres, y up, at "fps"
                       (or <name>.npz holding one array, or an array named "motion")

Splits are subfolders (``train/``...) or the "splits" table; without either every clip is in
"train".
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from gesture_gym.data.clip import Clip
from gesture_gym.data.readers.common import (
    AUDIO_SUFFIXES,
    ClipSource,
    ConvertedDataset,
    DatasetError,
    build_clip,
    read_json,
    require_dir,
    split_files,
    target_fps,
)
from gesture_gym.motion.skeleton import Skeleton, get_skeleton

FORMAT = "folder"
CONFIG = "dataset.json"


def read_folder(path: Path, split: str, *, fps: float | None = None) -> ConvertedDataset:
    """The clips of one split of a plain folder data set (see the module docstring).

    Args:
        path: the folder with dataset.json.
        split: a subfolder name, a split of the "splits" table, "train" or "all".
        fps: motion frame rate of the clips; default the folder's "fps".
    """
    root = require_dir(path, "data set folder")
    config_path = root / CONFIG
    if not config_path.is_file():
        raise FileNotFoundError(
            f"{config_path}: not found; a folder data set declares its joints and fps there, "
            'e.g. {"fps": 30, "skeleton": "upper_body"}'
        )
    config = read_json(config_path)
    native_fps, kind = config.get("fps"), config.get("kind", "speech")
    if not isinstance(native_fps, int | float) or isinstance(native_fps, bool) or native_fps <= 0:
        raise DatasetError(f'{config_path}: "fps" must be a positive number, got {native_fps!r}')
    if kind not in ("speech", "music"):
        raise DatasetError(f"{config_path}: \"kind\" must be 'speech' or 'music', got {kind!r}")
    _skeleton(config, config_path, None)  # fail now on a bad skeleton declaration
    target = _known_skeleton(config["target"], config_path) if "target" in config else None
    sources = []
    for audio in split_files(root, split, AUDIO_SUFFIXES, config_path):
        motion = next((m for s in (".npy", ".npz") if (m := audio.with_suffix(s)).is_file()), None)
        if motion is None:
            raise FileNotFoundError(f"{audio}: no motion beside it ({audio.stem}.npy or .npz)")
        sources.append(ClipSource(audio.stem, (motion, audio, config_path)))
    convert = partial(
        _convert, split=split, fps=fps, config=config, config_path=config_path, target=target
    )
    return ConvertedDataset(FORMAT, split, sources, convert, params=f"fps={fps}")


def _skeleton(config: Mapping[str, Any], source: Path, first_frame: np.ndarray | None) -> Skeleton:
    """The declared skeleton; a custom one without offsets takes them from ``first_frame``."""
    if "skeleton" in config:
        return _known_skeleton(config["skeleton"], source)
    joints, parents = config.get("joints"), config.get("parents")
    if not isinstance(joints, list) or not isinstance(parents, list):
        raise DatasetError(
            f'{source}: declare "skeleton" (a known name) or "joints" and "parents" lists'
        )
    if "offsets" in config:
        offsets = np.asarray(config["offsets"], np.float64)
    elif first_frame is None:
        offsets = np.zeros((len(joints), 3))
    else:
        rest = np.asarray(first_frame, np.float64)
        offsets = rest - np.where(np.array(parents)[:, None] >= 0, rest[np.maximum(parents, 0)], 0)
    try:
        return Skeleton(source.parent.name, tuple(joints), tuple(int(p) for p in parents), offsets)
    except (ValueError, TypeError, IndexError) as e:
        raise DatasetError(f"{source}: bad skeleton declaration ({e})") from None


def _known_skeleton(name: Any, source: Path) -> Skeleton:
    try:
        return get_skeleton(str(name))
    except KeyError as e:
        raise DatasetError(f"{source}: {e.args[0]}") from None


def read_motion(path: Path) -> np.ndarray:
    """(T, J, 3) positions from a .npy, or a .npz with one array or an array named "motion"."""
    try:
        if path.suffix == ".npy":
            motion = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as z:
                names = z.files
                motion = (
                    z["motion"] if "motion" in names else z[names[0]] if len(names) == 1 else None
                )
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DatasetError(f"{path}: not a readable numpy file ({e})") from None
    if motion is None:
        raise DatasetError(f"{path}: holds {names}; name the motion array 'motion'")
    if motion.ndim != 3 or motion.shape[2] != 3 or motion.shape[0] < 2:
        raise DatasetError(f"{path}: motion must be (T >= 2, J, 3) positions, got {motion.shape}")
    if not np.issubdtype(motion.dtype, np.number):
        raise DatasetError(f"{path}: motion must be numbers, got dtype {motion.dtype}")
    return motion.astype(np.float64)


def _convert(
    source: ClipSource,
    *,
    split: str,
    fps: float | None,
    config: Mapping[str, Any],
    config_path: Path,
    target: Skeleton | None,
) -> Clip:
    motion = read_motion(source.files[0])
    skeleton = _skeleton(config, config_path, motion[0])
    if motion.shape[1] != skeleton.n_joints:
        raise DatasetError(
            f"{source.files[0]}: {motion.shape[1]} joints, but {config_path} declares "
            f"{skeleton.n_joints} ({skeleton.name})"
        )
    native_fps = float(config["fps"])
    return build_clip(
        source,
        fmt=FORMAT,
        split=split,
        motion=motion,
        motion_fps=native_fps,
        fps=target_fps(fps, native_fps, config_path),
        skeleton=skeleton if target is None else target,
        kind=config.get("kind", "speech"),
        retarget_from=None if target is None else skeleton,
        mapping=config.get("mapping"),
    )
