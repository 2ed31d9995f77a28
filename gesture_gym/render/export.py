"""Export generated motion as BVH (animation tools, GENEA/BEAT) and npz (numpy users).

Motion here is joint positions. Both formats also carry per-joint rotations, found by aligning
each joint's rest bones to its posed bones: a joint with one child gets the smallest rotation that
turns the rest bone (carried by its parent's rotation) onto the posed bone; a joint with several
children (the pelvis, the upper spine) gets the best-fit rotation of all its bones (Kabsch). Twist
about a single bone is not observable from positions and is left at zero. Forward kinematics of
the rotations with the exported offsets gives back the positions wherever bone lengths are
constant over the motion.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gesture_gym.cache import atomic_write
from gesture_gym.motion.rotations import matrix_to_axis_angle
from gesture_gym.motion.skeleton import Skeleton

BVH_SCALE = 100.0  # BVH offsets and root positions in centimetres, as GENEA and BEAT files


def _check_motion(motion: np.ndarray, skeleton: Skeleton, path: Path) -> np.ndarray:
    m = np.asarray(motion, dtype=np.float64)
    if m.ndim != 3 or m.shape[1:] != (skeleton.n_joints, 3) or len(m) == 0:
        raise ValueError(
            f"export to {path}: motion must be (T, {skeleton.n_joints}, 3) for skeleton "
            f"{skeleton.name!r}; got {m.shape}"
        )
    if not np.all(np.isfinite(m)):
        raise ValueError(f"export to {path}: motion contains NaN or infinite values")
    return m


def _children(skeleton: Skeleton) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in skeleton.parents]
    for j, p in enumerate(skeleton.parents):
        if p >= 0:
            kids[p].append(j)
    return kids


def _shortest_arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotations taking directions a onto directions b."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    # opposite directions: half a turn about any axis perpendicular to a
    other = np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    perp = np.cross(a, other)
    perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
    opposite = c < -1 + 1e-9
    x, y, z = np.moveaxis(v, -1, 0)
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(v.shape + (3,))
    arc = np.eye(3) + k + k @ k / np.where(opposite, 1.0, 1.0 + c)[..., None, None]
    flip = 2.0 * perp[..., :, None] * perp[..., None, :] - np.eye(3)
    return np.where(opposite[..., None, None], flip, arc)


def _kabsch(rest: np.ndarray, posed: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations R minimising sum_k |R rest_k - posed_k|^2 over bones k (axis -2)."""
    h = np.swapaxes(rest, -1, -2) @ posed  # (..., 3, 3) = sum_k rest_k posed_k^T
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.ones(d.shape + (3,))
    fix[..., 2] = d
    return np.swapaxes(vt, -1, -2) @ (fix[..., :, None] * np.swapaxes(u, -1, -2))


def positions_to_rotations(motion: np.ndarray, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) positions -> (T, J, 3, 3) local rotations and (J, 3) offsets.

    The offsets are the skeleton's rest directions with the motion's mean bone lengths, so
    ``skeleton``-shaped forward kinematics with them and ``root_translation=motion[:, 0]``
    reproduces ``motion`` when its bone lengths are constant.
    """
    m = np.asarray(motion, dtype=np.float64)
    parents = np.array(skeleton.parents)
    rest = skeleton.offsets.copy()
    lengths = np.linalg.norm(m[:, 1:] - m[:, parents[1:]], axis=-1).mean(axis=0)
    rest_len = np.linalg.norm(rest[1:], axis=-1, keepdims=True)
    offsets = rest.copy()
    offsets[0] = 0.0
    offsets[1:] = np.where(rest_len > 1e-9, rest[1:] / np.maximum(rest_len, 1e-12), 0.0)
    offsets[1:] *= lengths[:, None]
    t, n = m.shape[:2]
    glob = np.empty((t, n, 3, 3))
    for j, kids in enumerate(_children(skeleton)):  # parents come first; frames are vectorised
        parent_rot = glob[:, parents[j]] if j else np.broadcast_to(np.eye(3), (t, 3, 3))
        bones = m[:, kids] - m[:, j : j + 1]  # (T, K, 3)
        usable = [k for k, c in enumerate(kids) if np.linalg.norm(offsets[c]) > 1e-9]
        if len(usable) == 1:
            carried = parent_rot @ offsets[kids[usable[0]]]
            glob[:, j] = _shortest_arc(carried, bones[:, usable[0]]) @ parent_rot
        elif usable:
            glob[:, j] = _kabsch(offsets[[kids[k] for k in usable]][None], bones[:, usable])
        else:
            glob[:, j] = parent_rot
    local = glob.copy()
    local[:, 1:] = np.swapaxes(glob[:, parents[1:]], -1, -2) @ glob[:, 1:]
    return local, offsets


def export_npz(
    path: str | Path,
    motion: np.ndarray,
    fps: float,
    skeleton: Skeleton,
    tokens: np.ndarray | None = None,
) -> Path:
    """Write motion as an npz any numpy user can read (``np.load``, no pickles).

    Keys: ``positions`` (T, J, 3) float32 metres; ``poses`` (T, J*3) local axis-angle rotations
    and ``trans`` (T, 3) root positions (the AMASS/EMAGE layout; for SMPL-24 the joint order is
    SMPL's); ``offsets`` (J, 3) the bone offsets the rotations go with; ``fps``; ``joint_names``;
    ``parents``; ``skeleton`` (JSON of Skeleton.to_dict); ``tokens`` when given.
    """
    path = Path(path)
    m = _check_motion(motion, skeleton, path)
    local, offsets = positions_to_rotations(m, skeleton)
    arrays = {
        "positions": m.astype(np.float32),
        "poses": matrix_to_axis_angle(local).reshape(len(m), -1).astype(np.float32),
        "trans": m[:, 0].astype(np.float32),
        "offsets": offsets.astype(np.float32),
        "fps": np.float64(fps),
        "joint_names": np.array(skeleton.joint_names),
        "parents": np.array(skeleton.parents, dtype=np.int64),
        "skeleton": np.array(json.dumps(skeleton.to_dict())),
    }
    if tokens is not None:
        arrays["tokens"] = np.asarray(tokens, dtype=np.int64)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    atomic_write(path, write)
    return path


def export_bvh(path: str | Path, motion: np.ndarray, skeleton: Skeleton, fps: float) -> Path:
    """Write motion as BVH: the skeleton's hierarchy in centimetres, ZXY Euler rotations.

    The root has six channels (X/Y/Z position, then Z/X/Y rotation), every other joint three;
    each leaf ends in an End Site 5 cm along its rest bone.
    """
    from scipy.spatial.transform import Rotation

    path = Path(path)
    m = _check_motion(motion, skeleton, path)
    if not fps > 0:
        raise ValueError(f"export to {path}: fps must be positive, got {fps}")
    local, offsets = positions_to_rotations(m, skeleton)
    t, n = local.shape[:2]
    # intrinsic Z, X, Y: R = Rz Rx Ry, the order of the channels below
    euler = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_euler("ZXY", degrees=True)
    kids = _children(skeleton)
    lines: list[str] = []
    order: list[int] = []  # joints in the order the hierarchy lists them (depth first)

    def joint(j: int, depth: int) -> None:
        order.append(j)
        pad = "  " * depth
        kind = "ROOT" if j == 0 else "JOINT"
        off = offsets[j] * BVH_SCALE
        lines.append(f"{pad}{kind} {skeleton.joint_names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}")
        rot = "Zrotation Xrotation Yrotation"
        lines.append(
            f"{pad}  CHANNELS 6 Xposition Yposition Zposition {rot}" if j == 0
            else f"{pad}  CHANNELS 3 {rot}"
        )  # fmt: skip
        for c in kids[j]:
            joint(c, depth + 1)
        if not kids[j]:
            rest = skeleton.offsets[j]
            end = rest / max(np.linalg.norm(rest), 1e-9) * 5.0
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    lines.append("HIERARCHY")
    joint(0, 0)
    channels = np.concatenate(
        [m[:, 0] * BVH_SCALE, euler.reshape(t, n, 3)[:, order].reshape(t, -1)], axis=1
    )
    lines += ["MOTION", f"Frames: {t}", f"Frame Time: {1.0 / fps:.8f}"]

    def write(tmp: Path) -> None:
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
            np.savetxt(f, channels, fmt="%.6f")

    atomic_write(path, write)
    return path
