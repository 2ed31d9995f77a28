"""SMPL-X body and hand joint positions without the licensed model file, and retargeting by name.

SMPL-X poses are 55 axis-angle rotations (165 numbers a frame) in the order of ``SMPLX_JOINTS``:
the 22 body joints of SMPL, jaw, two eyes, then 15 joints per hand. Joint positions follow by
forward kinematics over SMPL-X's tree from rest offsets. By default the offsets are the neutral
model's mean shape (betas = 0), shipped as data in ``assets/skeletons/smplx_neutral.json`` with
its provenance; that file has the body and hand joints but not the face joints, whose rotations
move nothing else. A user with the official model file (``SMPLX_NEUTRAL.npz``) can get the exact
55-joint skeleton of any body shape with ``skeleton_from_model`` (which reads SMPL model files
too, for SMPL-24 data such as AIST++).

Retargeting maps a source skeleton onto one of the project's skeletons by joint name, keeping each
bone's direction and giving it the target's length, so data sets with other proportions or units
(a BVH in centimetres) land on the same bone lengths as everything else.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gesture_gym.motion.skeleton import Skeleton

_HANDS = tuple(
    f"{side}_{finger}{k}"
    for side in ("left", "right")
    for finger in ("index", "middle", "pinky", "ring", "thumb")
    for k in (1, 2, 3)
)
SMPLX_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye", "right_eye", *_HANDS,
)  # fmt: skip
# Jaw and eyes hang off the head (15); each finger is a chain of three off its wrist (20, 21).
SMPLX_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    *(
        parent
        for wrist, first in ((20, 25), (21, 40))
        for base in range(first, first + 15, 3)
        for parent in (wrist, base, base + 1)
    ),
)  # fmt: skip
N_SMPLX = len(SMPLX_JOINTS)  # 55
N_SHAPE_BETAS = 300  # SMPL-X shapedirs: 300 shape components, then the expression components

MEAN_SHAPE_FILE = (
    Path(__file__).resolve().parent.parent / "assets" / "skeletons" / "smplx_neutral.json"
)

# The gesture skeleton's joints are SMPL names; its "hand" is the base of the middle finger.
SMPLX_TO_UPPER_BODY: dict[str, str] = {"left_hand": "left_middle1", "right_hand": "right_middle1"}


def _parts(names: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """Body (the 22 SMPL joints, always first) and each hand's finger joints."""
    hand = {
        s: tuple(i for i, n in enumerate(names) if n in _HANDS and n.startswith(s))
        for s in ("left", "right")
    }
    return {"body": tuple(range(22)), "left_hand": hand["left"], "right_hand": hand["right"]}


def _load_mean_shape(path: Path = MEAN_SHAPE_FILE) -> Skeleton:
    data = json.loads(path.read_text())
    names = tuple(data["joint_names"])
    expected = tuple(n for n in SMPLX_JOINTS if n not in ("jaw", "left_eye", "right_eye"))
    if names != expected:
        raise ValueError(f"{path}: joint names are not SMPL-X's body and hand joints in order")
    return Skeleton(
        data["name"], names, tuple(data["parents"]), np.array(data["offsets"]), _parts(names)
    )


SMPLX_NEUTRAL = _load_mean_shape()


def skeleton_from_model(
    model_path: str | Path, betas: np.ndarray | None = None, tree: Skeleton | None = None
) -> Skeleton:
    """The exact skeleton of a body shape from an official model file: SMPL-X, or SMPL.

    Joint rest positions are the model's joint regressor applied to its shaped template,
    ``J = J_regressor @ (v_template + shapedirs[..., :n] @ betas[:n])``, as in the model itself.

    Args:
        model_path: an ``.npz`` with ``J_regressor`` (J, V), ``v_template`` (V, 3),
            ``shapedirs`` (V, 3, B) and ``kintree_table`` (2, J).
        betas: shape coefficients (a data set's per-subject betas); None or fewer than B are
            padded with zeros (the mean shape).
        tree: the joint names, parents, parts and name the file must match: default SMPL-X's 55
            joints; ``SMPL24`` for an SMPL model file.
    """
    if tree is None:
        name, names, tree_parents, parts = (
            "smplx",
            SMPLX_JOINTS,
            SMPLX_PARENTS,
            _parts(SMPLX_JOINTS),
        )
    else:
        name, names, tree_parents, parts = tree.name, tree.joint_names, tree.parents, tree.parts
    path, n_joints = Path(model_path), len(names)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {name} model file not found")
    keys = ("J_regressor", "v_template", "shapedirs", "kintree_table")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in keys if k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{path}: not a readable {name} model npz ({e})") from None
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(f"{path}: {name} model file lacks {', '.join(missing)}")
    reg, template, shapedirs = (arrays[k].astype(np.float64) for k in keys[:3])
    kintree = arrays["kintree_table"]
    n_vertices = template.shape[0]
    if (
        template.shape != (n_vertices, 3)
        or reg.shape != (n_joints, n_vertices)
        or shapedirs.ndim != 3
        or shapedirs.shape[:2] != (n_vertices, 3)
        or kintree.shape != (2, n_joints)
    ):
        raise ValueError(
            f"{path}: unexpected shapes J_regressor {reg.shape}, v_template {template.shape}, "
            f"shapedirs {shapedirs.shape}, kintree_table {kintree.shape} ({name} has "
            f"{n_joints} joints)"
        )
    parents = tuple(-1 if j == 0 else int(p) for j, p in enumerate(kintree[0]))
    if parents != tuple(tree_parents):
        raise ValueError(f"{path}: kintree_table is not {name}'s joint tree")
    n_shape = min(shapedirs.shape[2], N_SHAPE_BETAS)
    coeffs = np.zeros(n_shape)
    if betas is not None:
        b = np.asarray(betas, np.float64).ravel()[:n_shape]
        coeffs[: b.size] = b
    joints = reg @ (template + shapedirs[:, :, :n_shape] @ coeffs)
    offsets = joints.copy()
    offsets[1:] -= joints[list(parents[1:])]
    return Skeleton(name, names, parents, offsets, parts)


def smplx_joint_positions(
    poses: np.ndarray, trans: np.ndarray | None = None, skeleton: Skeleton = SMPLX_NEUTRAL
) -> np.ndarray:
    """SMPL-X axis-angle poses -> (T, J, 3) joint positions of ``skeleton``'s joints.

    Args:
        poses: (T, 165) or (T, 55, 3) axis-angle rotations in ``SMPLX_JOINTS`` order (the first
            is the global orientation).
        trans: (T, 3) translation (SMPL-X's ``transl``); the pelvis is at its rest position plus
            ``trans``, as in the model.
        skeleton: ``SMPLX_NEUTRAL`` (mean shape) or a skeleton from ``skeleton_from_model``.
    """
    p = np.asarray(poses, np.float64)
    if p.ndim == 2 and p.shape[1] == 3 * N_SMPLX:
        p = p.reshape(p.shape[0], N_SMPLX, 3)
    if p.ndim != 3 or p.shape[1:] != (N_SMPLX, 3):
        raise ValueError(f"SMPL-X poses must be (T, 165) or (T, 55, 3), got {np.shape(poses)}")
    rows = [SMPLX_JOINTS.index(n) for n in skeleton.joint_names]
    root = np.broadcast_to(skeleton.offsets[0], (p.shape[0], 3))
    if trans is not None:
        t = np.asarray(trans, np.float64)
        if t.shape != (p.shape[0], 3):
            raise ValueError(
                f"SMPL-X trans must be ({p.shape[0]}, 3) like the poses, got {t.shape}"
            )
        root = root + t
    return skeleton.forward_kinematics(p[:, rows], root, axis_angle=True)


def retarget(
    positions: np.ndarray,
    source: Skeleton,
    target: Skeleton,
    mapping: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Joint positions on ``source`` -> positions on ``target``, matching joints by name.

    Each target bone points where the source bone between the mapped joints points, with the
    target's rest length; the root follows the source root, scaled by the ratio of the two
    skeletons' total mapped bone length (so units and body size carry over consistently).

    Args:
        positions: (T, J_source, 3).
        mapping: target joint name -> source joint name; unlisted target joints map to the
            source joint of the same name.

    Raises:
        KeyError: a target joint has no source joint (the message lists what is missing).
        ValueError: two mapped source joints coincide in the source's rest pose.
    """
    pos = np.asarray(positions, np.float64)
    if pos.ndim != 3 or pos.shape[1:] != (source.n_joints, 3):
        raise ValueError(
            f"positions of shape {pos.shape} do not match skeleton {source.name!r} "
            f"({source.n_joints} joints)"
        )
    mapping = dict(mapping or {})
    names = [mapping.get(n, n) for n in target.joint_names]
    missing = [
        f"{t} <- {s}"
        for t, s in zip(target.joint_names, names, strict=True)
        if s not in source.joint_names
    ]
    if missing:
        raise KeyError(
            f"cannot retarget {source.name!r} to {target.name!r}: no source joint for "
            f"{', '.join(missing)}; pass a mapping (target joint -> source joint)"
        )
    idx = [source.index(n) for n in names]
    parents = np.array(target.parents[1:])
    rest = source.rest_pose()[idx]
    src_lengths = np.linalg.norm(rest[1:] - rest[parents], axis=-1)
    if np.any(src_lengths < 1e-6):
        j = int(np.argmin(src_lengths)) + 1
        raise ValueError(
            f"cannot retarget {source.name!r} to {target.name!r}: source joints {names[j]!r} and "
            f"{names[target.parents[j]]!r} coincide in the rest pose, so bone "
            f"{target.joint_names[j]!r} has no direction; map it to another joint"
        )
    lengths = target.bone_lengths()
    scale = lengths.sum() / src_lengths.sum()
    src = pos[:, idx]
    out = np.empty(src.shape)
    out[:, 0] = src[:, 0] * scale
    for j in range(1, target.n_joints):  # a loop over joints; frames are vectorised
        p = target.parents[j]
        d = src[:, j] - src[:, p]
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        out[:, j] = out[:, p] + lengths[j - 1] * d / np.maximum(norm, 1e-12)
    return out
