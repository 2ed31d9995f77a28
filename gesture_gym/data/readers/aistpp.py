"""AIST++ (google/aistplusplus_api): SMPL dance motion at 60 fps with the AIST Dance DB music.

Layout of the annotation folder:

    motions/<seq>.pkl                dict: smpl_poses (N, 72) axis-angle, smpl_trans (N, 3),
                                     smpl_scaling (1,) (trans is in the units of the scaling)
    splits/crossmodal_{train,val,test}.txt   sequence names, one a line
    ignore_list.txt (or splits/ignore_list.txt)  sequences with bad motion, skipped
    wavs/<music>.wav (or music/, audio/, the folder itself)   the music

The music of ``gWA_sFM_cAll_d27_mWA2_ch21`` is ``mWA2.wav`` (the 5th field). Joint positions are
SMPL-24 forward kinematics of the poses with the mean-shape offsets and root ``trans / scaling``;
with an official SMPL model file, its regressed joints (the pelvis at its rest position plus
``trans / scaling``, as the model places it), as the AIST++ metric references compute them.

The pickles are read by ``safe_load_pickle``: an unpickler that admits only numpy arrays, numpy
scalars and plain containers, so a pickle that tries to run code is refused before it can.
"""

from __future__ import annotations

import builtins
import codecs
import io
import pickle
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from gesture_gym.data.clip import Clip
from gesture_gym.data.readers.common import (
    ClipSource,
    ConvertedDataset,
    DatasetError,
    build_clip,
    find_audio,
    model_file,
    require_dir,
    target_fps,
)
from gesture_gym.motion.skeleton import SMPL24, Skeleton
from gesture_gym.motion.smplx import skeleton_from_model

try:  # numpy >= 2 moved the pickling helpers to numpy._core; old pickles name numpy.core
    from numpy._core.multiarray import _reconstruct, scalar
    from numpy._core.numeric import _frombuffer
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar
    from numpy.core.numeric import _frombuffer

FORMAT = "aistpp"
SMPL_MODEL_ENV = "GESTURE_GYM_SMPL_MODEL"
FPS = 60.0
SPLITS = ("train", "val", "test")
MUSIC_FOLDERS = ("wavs", "music", "audio", ".")


class UnsafePickleError(DatasetError):
    """A pickle asked for something other than numpy arrays and plain containers."""


_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,  # how protocol 2 stores bytes
    **{
        (m, "_reconstruct"): _reconstruct
        for m in ("numpy.core.multiarray", "numpy._core.multiarray")
    },
    **{(m, "scalar"): scalar for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "_frombuffer"): _frombuffer for m in ("numpy.core.numeric", "numpy._core.numeric")},
    **{
        (m, name): getattr(builtins, name)
        for m in ("builtins", "__builtin__")
        for name in ("dict", "list", "tuple", "set", "frozenset", "bytearray", "complex")
    },
}


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, source: Path):
        super().__init__(io.BytesIO(data))
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refused to unpickle: it asks for {module}.{name}, and only numpy "
                "arrays, numpy scalars and plain containers are allowed (a pickle that names "
                "anything else can run code)"
            ) from None


def safe_load_pickle(path: Path) -> Any:
    """Unpickle ``path`` admitting only numpy arrays, numpy scalars and plain containers."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    try:
        return _SafeUnpickler(data, Path(path)).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as e:
        raise DatasetError(
            f"{path}: truncated or corrupt pickle ({type(e).__name__}: {e})"
        ) from None


def read_aistpp(
    path: Path, split: str, *, fps: float | None = None, smpl_model: Path | None = None
) -> ConvertedDataset:
    """The sequences of one cross-modal split of AIST++ (see the module docstring).

    Args:
        path: the AIST++ annotation folder (with motions/ and splits/).
        split: "train", "val", "test" or "all" (every sequence in motions/).
        fps: motion frame rate of the clips; default 60.
        smpl_model: an official SMPL model ``.npz`` (the references use SMPL's male model);
            default $GESTURE_GYM_SMPL_MODEL, else the shipped mean-shape ``SMPL24``.
    """
    root = require_dir(path, "AIST++ folder")
    model = model_file(smpl_model, SMPL_MODEL_ENV, "SMPL")
    motions = require_dir(root / "motions", "AIST++ motions folder")
    if split == "all":
        names = sorted(p.stem for p in motions.glob("*.pkl"))
    elif split in SPLITS:
        names = _read_list(root / "splits" / f"crossmodal_{split}.txt")
    else:
        raise KeyError(f"AIST++ has no split {split!r}; splits: {SPLITS} or 'all'")
    ignore_file = next(
        (p for p in (root / "ignore_list.txt", root / "splits" / "ignore_list.txt") if p.is_file()),
        None,
    )
    ignored = set(_read_list(ignore_file)) if ignore_file else set()
    sources = []
    for name in names:
        if name in ignored:
            continue
        music = music_name(name)
        audio = next(
            (a for d in MUSIC_FOLDERS if (a := find_audio(root / d, music)) is not None), None
        )
        if audio is None:
            raise FileNotFoundError(
                f"{root}: music {music!r} of sequence {name!r} not found in "
                f"{', '.join(f'{d}/' for d in MUSIC_FOLDERS)}"
            )
        files = (motions / f"{name}.pkl", audio) + ((model,) if model else ())
        sources.append(ClipSource(name, files))
    skeleton = SMPL24 if model is None else skeleton_from_model(model, tree=SMPL24)
    convert = partial(_convert, split=split, fps=fps, skeleton=skeleton)
    return ConvertedDataset(FORMAT, split, sources, convert, params=f"fps={fps}")


def music_name(sequence: str) -> str:
    """The music of a sequence: the 5th underscore-separated field (``m...``)."""
    fields = sequence.split("_")
    if len(fields) < 5 or not fields[4].startswith("m"):
        raise DatasetError(f"AIST++ sequence name {sequence!r} has no music field (5th, m...)")
    return fields[4]


def _read_list(path: Path) -> list[str]:
    try:
        return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None


def read_motion(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(poses (N, 24, 3), root translation (N, 3) in metres) of one AIST++ motion pickle."""
    data = safe_load_pickle(path)
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a dict, got {type(data).__name__}")
    missing = [k for k in ("smpl_poses", "smpl_trans", "smpl_scaling") if k not in data]
    if missing:
        raise DatasetError(f"{path}: missing {', '.join(missing)} (keys: {sorted(data)})")
    arrays = {k: np.asarray(data[k]) for k in ("smpl_poses", "smpl_trans", "smpl_scaling")}
    for key, arr in arrays.items():
        if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
            raise DatasetError(f"{path}: {key} must be finite numbers")
    poses, trans, scaling = arrays["smpl_poses"], arrays["smpl_trans"], arrays["smpl_scaling"]
    if poses.ndim != 2 or poses.shape[1] != 72 or poses.shape[0] < 2:
        raise DatasetError(f"{path}: smpl_poses must be (N >= 2, 72), got {poses.shape}")
    if trans.shape != (poses.shape[0], 3):
        raise DatasetError(f"{path}: smpl_trans must be ({poses.shape[0]}, 3), got {trans.shape}")
    if scaling.size != 1 or float(scaling.ravel()[0]) <= 0:
        raise DatasetError(f"{path}: smpl_scaling must be one positive number, got {scaling!r}")
    return poses.reshape(-1, 24, 3), trans / float(scaling.ravel()[0])


def _convert(source: ClipSource, *, split: str, fps: float | None, skeleton: Skeleton) -> Clip:
    poses, root = read_motion(source.files[0])
    return build_clip(
        source,
        fmt=FORMAT,
        split=split,
        motion=skeleton.forward_kinematics(poses, root + skeleton.offsets[0], axis_angle=True),
        motion_fps=FPS,
        fps=target_fps(fps, FPS, source.files[0]),
        skeleton=skeleton,
        kind="music",
        annotations={"music": music_name(source.name), "genre": source.name.split("_")[0][1:]},
    )
