"""Kinematic trees (joint names, parents, rest offsets, body-part groups) and forward kinematics.

Conventions: positions in metres, y up, the body faces +z and its left is +x (SMPL's frame).
Motion arrays are (T, J, 3) joint positions at a stated fps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gesture_gym.motion.rotations import axis_angle_to_matrix


@dataclass(frozen=True, eq=False)
class Skeleton:
    """A kinematic tree. Joints are ordered so that every parent comes before its children."""

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray  # (J, 3) offsets from the parent; the root's is its rest position
    parts: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        offsets = np.array(self.offsets, dtype=np.float64)
        n = len(self.joint_names)
        if len(self.parents) != n or offsets.shape != (n, 3):
            raise ValueError(
                f"skeleton {self.name!r}: {n} joint names, {len(self.parents)} parents, "
                f"offsets of shape {offsets.shape} (expected ({n}, 3))"
            )
        if len(set(self.joint_names)) != n:
            raise ValueError(f"skeleton {self.name!r}: duplicate joint names")
        if self.parents[0] != -1 or any(not (-1 < p < j) for j, p in enumerate(self.parents) if j):
            raise ValueError(
                f"skeleton {self.name!r}: the root must come first and parents before children"
            )
        for part, idx in self.parts.items():
            if not idx or any(not 0 <= i < n for i in idx):
                raise ValueError(
                    f"skeleton {self.name!r}: part {part!r} has joint indices outside 0..{n - 1}"
                )
        offsets.setflags(write=False)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(
            self, "parts", {k: tuple(int(i) for i in v) for k, v in self.parts.items()}
        )

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    def index(self, joint: str) -> int:
        try:
            return self.joint_names.index(joint)
        except ValueError:
            raise KeyError(f"skeleton {self.name!r} has no joint {joint!r}") from None

    def bone_lengths(self) -> np.ndarray:
        """(J-1,) rest lengths of the bones to every non-root joint."""
        return np.linalg.norm(self.offsets[1:], axis=-1)

    def rest_pose(self) -> np.ndarray:
        """(J, 3) joint positions with identity rotations."""
        pos = self.offsets.copy()
        for j, p in enumerate(self.parents):
            if p >= 0:
                pos[j] += pos[p]
        return pos

    def forward_kinematics(
        self,
        rotations: np.ndarray,
        root_translation: np.ndarray | None = None,
        *,
        axis_angle: bool = False,
    ) -> np.ndarray:
        """Local joint rotations -> global joint positions.

        Args:
            rotations: (..., J, 3, 3) local rotation matrices, or (..., J, 3) axis-angle with
                ``axis_angle=True``. Leading axes (frames, batch) are processed at once.
            root_translation: (..., 3) root position; defaults to the root's rest offset.

        Returns:
            (..., J, 3) float64 positions: pos[j] = pos[parent] + R_global[parent] @ offset[j].
        """
        rot = axis_angle_to_matrix(rotations) if axis_angle else np.asarray(rotations, np.float64)
        if rot.shape[-3:] != (self.n_joints, 3, 3):
            raise ValueError(
                f"skeleton {self.name!r} has {self.n_joints} joints; rotations have shape {rot.shape}"
            )
        lead = rot.shape[:-3]
        root = self.offsets[0] if root_translation is None else np.asarray(root_translation)
        glob = np.empty(rot.shape)
        pos = np.empty(lead + (self.n_joints, 3))
        glob[..., 0, :, :] = rot[..., 0, :, :]
        pos[..., 0, :] = np.broadcast_to(root, lead + (3,))
        for j in range(1, self.n_joints):  # a loop over joints; frames are vectorised
            p = self.parents[j]
            glob[..., j, :, :] = glob[..., p, :, :] @ rot[..., j, :, :]
            pos[..., j, :] = pos[..., p, :] + glob[..., p, :, :] @ self.offsets[j]
        return pos

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "joint_names": list(self.joint_names),
            "parents": list(self.parents),
            "offsets": self.offsets.tolist(),
            "parts": {k: list(v) for k, v in self.parts.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Skeleton:
        return cls(
            name=str(d["name"]),
            joint_names=tuple(d["joint_names"]),
            parents=tuple(int(p) for p in d["parents"]),
            offsets=np.asarray(d["offsets"], dtype=np.float64),
            parts={k: tuple(v) for k, v in d.get("parts", {}).items()},
        )

    def subset(self, name: str, joints: list[str] | tuple[str, ...]) -> Skeleton:
        """A skeleton of some joints of this one; a dropped joint's offset is folded into its child."""
        keep = [self.index(j) for j in joints]
        if keep != sorted(keep) or keep[0] != 0:
            raise ValueError("subset joints must keep this skeleton's order and start at its root")
        rest = self.rest_pose()
        parents, offsets = [-1], [self.offsets[0]]
        for j in keep[1:]:
            p = self.parents[j]
            while p not in keep:
                p = self.parents[p]
            parents.append(keep.index(p))
            offsets.append(rest[j] - rest[p])
        parts = {
            k: tuple(keep.index(i) for i in v if i in keep)
            for k, v in self.parts.items()
            if any(i in keep for i in v)
        }
        return Skeleton(name, tuple(joints), tuple(parents), np.array(offsets), parts)


# SMPL's 24-joint tree with the mean-shape (neutral) rest offsets that public dance code uses
# in place of the licensed body model (REFERENCE.md, "SMPL joint positions without the body model").
SMPL24_JOINTS = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
SMPL24_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
SMPL24_OFFSETS = np.array([
    [0.0, 0.0, 0.0],
    [0.05858135, -0.08228004, -0.01766408],
    [-0.06030973, -0.09051332, -0.01354254],
    [0.00443945, 0.12440352, -0.03838522],
    [0.04345142, -0.38646945, 0.008037],
    [-0.04325663, -0.38368791, -0.00484304],
    [0.00448844, 0.1379564, 0.02682033],
    [-0.01479032, -0.42687458, -0.037428],
    [0.01905555, -0.4200455, -0.03456167],
    [-0.00226458, 0.05603239, 0.00285505],
    [0.04105436, -0.06028581, 0.12204243],
    [-0.03483987, -0.06210566, 0.13032329],
    [-0.0133902, 0.21163553, -0.03346758],
    [0.07170245, 0.11399969, -0.01889817],
    [-0.08295366, 0.11247234, -0.02370739],
    [0.01011321, 0.08893734, 0.05040987],
    [0.12292141, 0.04520509, -0.019046],
    [-0.11322832, 0.04685326, -0.00847207],
    [0.2553319, -0.01564902, -0.02294649],
    [-0.26012748, -0.01436928, -0.03126873],
    [0.26570925, 0.01269811, -0.00737473],
    [-0.26910836, 0.00679372, -0.00602676],
    [0.08669055, -0.01063603, -0.01559429],
    [-0.0887537, -0.00865157, -0.01010708],
])  # fmt: skip

# Bailando's split of SMPL-24 into an upper-body and a lower-body codebook (REFERENCE.md).
SMPL24_UPPER = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)
SMPL24_LOWER = (0, 1, 2, 4, 5, 7, 8, 10, 11)

SMPL24 = Skeleton(
    name="smpl24",
    joint_names=SMPL24_JOINTS,
    parents=SMPL24_PARENTS,
    offsets=SMPL24_OFFSETS,
    parts={"upper": SMPL24_UPPER, "lower": SMPL24_LOWER, "full": tuple(range(24))},
)

# The co-speech skeleton: SMPL's upper body (16 joints, as RACER's upper-body motion), so SMPL-X
# and BVH upper bodies retarget to it by joint name.
UPPER_BODY = SMPL24.subset(
    "upper_body",
    (
        "pelvis", "spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
        "right_wrist", "left_hand", "right_hand",
    ),
)  # fmt: skip
UPPER_BODY = Skeleton(
    UPPER_BODY.name,
    UPPER_BODY.joint_names,
    UPPER_BODY.parents,
    UPPER_BODY.offsets,
    parts={
        "upper": tuple(range(16)),
        "torso": (0, 1, 2, 3, 4, 7),
        "left_arm": (5, 8, 10, 12, 14),
        "right_arm": (6, 9, 11, 13, 15),
    },
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (SMPL24, UPPER_BODY)}


def get_skeleton(name: str) -> Skeleton:
    try:
        return SKELETONS[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; known: {sorted(SKELETONS)}") from None
