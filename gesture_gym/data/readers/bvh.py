"""BVH motion capture (Trinity/GENEA, BEAT v1, Mixamo...) with the audio beside each file.

A data set is a folder of ``<name>.bvh`` files, each with ``<name>.wav`` (or .flac/.ogg/.mp3)
beside it; splits are subfolders (``train/``, ``val/``...) or the "splits" table of an optional
``dataset.json``, which may also set ``"kind"`` ("speech" or "music") and ``"mapping"``
(gesture-skeleton joint -> BVH joint name).

The hierarchy gives joint names, offsets and channels; each joint's rotation channels are
applied in the order the file declares them (``Zrotation Xrotation Yrotation`` means
R = Rz Rx Ry), in degrees. Position channels replace the joint's offset on those axes. End Sites
become joints named ``<parent>_end``. The upper body is retargeted to the gesture skeleton by
joint name: ``BVH_TO_UPPER_BODY`` lists the names tried for each joint (case, ``_``, spaces and a
``namespace:`` prefix ignored); a mapping overrides it. Files are assumed y-up (as BVH usually
is); units do not matter since retargeting keeps only bone directions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from gesture_gym.data.clip import Clip
from gesture_gym.data.readers.common import (
    ClipSource,
    ConvertedDataset,
    DatasetError,
    build_clip,
    find_audio,
    read_json,
    require_dir,
    split_files,
    target_fps,
)
from gesture_gym.motion.rotations import euler_to_matrix
from gesture_gym.motion.skeleton import UPPER_BODY, Skeleton

FORMAT = "bvh"
CONFIG = "dataset.json"

# Gesture-skeleton joint -> BVH joint names to try, first found wins (a name is used only once,
# so "LeftShoulder" is the collar in Mixamo's LeftShoulder/LeftArm naming and the shoulder in
# the LeftCollar/LeftShoulder/LeftElbow naming).
BVH_TO_UPPER_BODY: dict[str, tuple[str, ...]] = {
    "pelvis": ("Hips", "Hip", "Pelvis", "Root"),
    "spine1": ("Spine", "Spine0", "LowerBack", "Abdomen"),
    "spine2": ("Spine1", "Chest", "UpperBack"),
    "spine3": ("Spine3", "Spine2", "UpperChest", "Chest2", "Chest", "Thorax"),
    "neck": ("Neck", "Neck1", "LowerNeck"),
    "head": ("Head",),
    **{
        f"{side}_{joint}": tuple(n.format(S=side.capitalize(), s=side[0]) for n in names)
        for side in ("left", "right")
        for joint, names in {
            "collar": ("{S}Collar", "{S}Clavicle", "{s}Collar", "{S}Shoulder"),
            "shoulder": ("{S}Arm", "{S}UpArm", "{S}UpperArm", "{s}Shldr", "{S}Shoulder"),
            "elbow": ("{S}ForeArm", "{S}LowArm", "{S}LowerArm", "{S}Elbow", "{s}ForeArm"),
            "wrist": ("{S}Wrist", "{S}Hand", "{s}Hand"),
            "hand": (
                "{S}HandMiddle1",
                "{S}HandIndex1",
                "{S}InHandMiddle",
                "{S}Hand",
                "{S}Hand_end",
                "{S}Wrist_end",
            ),
        }.items()
    },
}


@dataclass(frozen=True)
class BVH:
    """A parsed BVH file: the rest skeleton, every joint's channels and the frames."""

    skeleton: Skeleton
    channels: tuple[tuple[str, ...], ...]  # per joint, e.g. ("Xposition", ..., "Yrotation")
    frame_time: float
    frames: np.ndarray  # (T, total channels)

    @property
    def fps(self) -> float:
        """1 / frame time, snapped to a whole rate within 0.1% (frame times are printed rounded)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps

    def positions(self) -> np.ndarray:
        """(T, J, 3) global joint positions (the file's units) by forward kinematics."""
        n_frames, n_joints = self.frames.shape[0], self.skeleton.n_joints
        local_t = np.broadcast_to(self.skeleton.offsets, (n_frames, n_joints, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (n_frames, n_joints, 3, 3)).copy()
        column = 0
        for j, chans in enumerate(self.channels):
            values = self.frames[:, column : column + len(chans)]
            column += len(chans)
            rot = [k for k, c in enumerate(chans) if c.lower().endswith("rotation")]
            for k, c in enumerate(chans):
                if c.lower().endswith("position"):
                    local_t[:, j, "xyz".index(c[0].lower())] = values[:, k]
            if rot:
                order = "".join(chans[k][0].lower() for k in rot)
                local_r[:, j] = euler_to_matrix(np.radians(values[:, rot]), order)
        glob = np.empty_like(local_r)
        pos = np.empty((n_frames, n_joints, 3))
        glob[:, 0], pos[:, 0] = local_r[:, 0], local_t[:, 0]
        for j in range(1, n_joints):  # a loop over joints; frames are vectorised
            p = self.skeleton.parents[j]
            glob[:, j] = glob[:, p] @ local_r[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", glob[:, p], local_t[:, j])
        return pos


_CHANNEL = re.compile(r"^[XYZ](position|rotation)$", re.IGNORECASE)


def read_bvh(path: Path) -> BVH:
    """Parse a BVH file; any malformed, truncated or inconsistent part raises DatasetError."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: BVH file not found") from None
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not a text BVH file ({e})") from None
    head, sep, motion = text.partition("MOTION")
    if not sep:
        raise DatasetError(f"{path}: no MOTION section (truncated or not a BVH file)")
    tokens = head.split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise DatasetError(f"{path}: does not start with HIERARCHY")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    stack: list[int] = []
    i = 1

    def fail(what: str) -> DatasetError:
        return DatasetError(f"{path}: malformed hierarchy near token {i} ({what})")

    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT") or tok == "End":
            if tok == "End":
                if i + 1 >= len(tokens) or tokens[i + 1] != "Site" or not stack:
                    raise fail("'End' must be 'End Site' inside a joint")
                base = f"{names[stack[-1]]}_end"
                name, k = base, 1
                while name in names:
                    name, k = f"{base}{k}", k + 1
            else:
                if i + 1 >= len(tokens):
                    raise fail(f"{tok} without a name")
                name = tokens[i + 1]
                if (
                    (tok == "ROOT") != (not names)
                    or (tok == "JOINT" and not stack)
                    or name in names
                ):
                    raise fail(f"unexpected or duplicate joint {name!r}")
            if i + 2 >= len(tokens) or tokens[i + 2] != "{":
                raise fail(f"joint {name!r} is not followed by '{{'")
            parents.append(stack[-1] if stack else -1)
            names.append(name)
            offsets.append([0.0, 0.0, 0.0])
            channels.append(())
            stack.append(len(names) - 1)
            i += 3
        elif tok == "OFFSET":
            try:
                offsets[stack[-1]] = [float(v) for v in tokens[i + 1 : i + 4]]
            except (ValueError, IndexError):
                raise fail("OFFSET needs three numbers") from None
            if len(offsets[stack[-1]]) != 3:
                raise fail("OFFSET needs three numbers")
            i += 4
        elif tok == "CHANNELS":
            try:
                n = int(tokens[i + 1])
            except (ValueError, IndexError):
                raise fail("CHANNELS needs a count") from None
            chans = tuple(tokens[i + 2 : i + 2 + n])
            if not stack or len(chans) != n or not all(_CHANNEL.match(c) for c in chans):
                raise fail(f"bad channel list {chans}")
            channels[stack[-1]] = chans
            i += 2 + n
        elif tok == "}":
            if not stack:
                raise fail("unbalanced '}'")
            stack.pop()
            i += 1
        else:
            raise fail(f"unexpected {tok!r}")
    if stack or not names:
        raise DatasetError(f"{path}: hierarchy is truncated (unclosed joint or no joints)")

    frames_match = re.search(r"Frames:\s*(\d+)", motion)
    time_match = re.search(r"Frame Time:\s*([-+0-9.eE]+)", motion)
    if not frames_match or not time_match:
        raise DatasetError(f"{path}: MOTION section lacks 'Frames:' or 'Frame Time:'")
    n_frames, frame_time = int(frames_match[1]), float(time_match[1])
    if n_frames < 2 or not frame_time > 0:
        raise DatasetError(f"{path}: needs at least 2 frames and a positive frame time")
    body = motion[time_match.end() :]
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError as e:
        raise DatasetError(f"{path}: non-numeric value in the frames ({e})") from None
    width = sum(len(c) for c in channels)
    if values.size < n_frames * width:
        raise DatasetError(
            f"{path}: truncated: header declares {n_frames} frames of {width} channels but only "
            f"{values.size // max(width, 1)} full frames are present"
        )
    if values.size > n_frames * width:
        raise DatasetError(f"{path}: more values than {n_frames} frames of {width} channels")
    if not np.all(np.isfinite(values)):
        raise DatasetError(f"{path}: frames contain NaN or infinite values")
    skeleton = Skeleton(Path(path).stem, tuple(names), tuple(parents), np.array(offsets))
    return BVH(skeleton, tuple(channels), frame_time, values.reshape(n_frames, width))


def _key(name: str) -> str:
    return re.sub(r"[\s_]", "", name.rsplit(":", 1)[-1]).lower()


def upper_body_mapping(
    skeleton: Skeleton, mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Gesture-skeleton joint -> BVH joint: ``mapping`` first, then ``BVH_TO_UPPER_BODY``."""
    by_key = {_key(n): n for n in skeleton.joint_names}
    out = dict(mapping or {})
    used = set(out.values())
    for target, candidates in BVH_TO_UPPER_BODY.items():
        if target in out:
            continue
        found = next(
            (by_key[k] for c in candidates if (k := _key(c)) in by_key and by_key[k] not in used),
            None,
        )
        if found is not None:
            out[target] = found
            used.add(found)
    return out


def read_bvh_dataset(
    path: Path, split: str, *, fps: float | None = None, mapping: Mapping[str, str] | None = None
) -> ConvertedDataset:
    """The clips of one split of a folder of BVH files with audio beside them.

    Args:
        path: the folder (see the module docstring).
        split: a subfolder name, a split of dataset.json's table, "train" or "all".
        fps: motion frame rate of the clips; default each file's own rate, rounded.
        mapping: gesture-skeleton joint -> BVH joint name, over dataset.json's and the defaults.
    """
    root = require_dir(path, "BVH folder")
    config_path = root / CONFIG
    config = read_json(config_path) if config_path.is_file() else {}
    kind = config.get("kind", "speech")
    if kind not in ("speech", "music"):
        raise DatasetError(f"{config_path}: \"kind\" must be 'speech' or 'music', got {kind!r}")
    merged = {**config.get("mapping", {}), **(mapping or {})}
    sources = []
    for bvh in split_files(root, split, (".bvh",), config_path):
        audio = find_audio(bvh.parent, bvh.stem)
        if audio is None:
            raise FileNotFoundError(f"{bvh}: no audio beside it ({bvh.stem}.wav/.flac/.ogg/.mp3)")
        sources.append(ClipSource(bvh.stem, (bvh, audio)))
    convert = partial(_convert, split=split, fps=fps, kind=kind, mapping=merged)
    params = f"fps={fps};kind={kind};mapping={sorted(merged.items())}"
    return ConvertedDataset(FORMAT, split, sources, convert, params=params)


def _convert(
    source: ClipSource, *, split: str, fps: float | None, kind: str, mapping: Mapping[str, str]
) -> Clip:
    bvh = read_bvh(source.files[0])
    return build_clip(
        source,
        fmt=FORMAT,
        split=split,
        motion=bvh.positions(),
        motion_fps=bvh.fps,
        fps=target_fps(fps, bvh.fps, source.files[0]),
        skeleton=UPPER_BODY,
        kind=kind,
        retarget_from=bvh.skeleton,
        mapping=upper_body_mapping(bvh.skeleton, mapping),
    )
