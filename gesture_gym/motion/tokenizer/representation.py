"""What a tokenizer sees of a motion: its part's joints relative to the root, and root motion.

Per frame, the features of a part are the root-relative positions of its non-root joints (3 each),
in the body frame (the pelvis's facing rotated to +z) when ``canonical_yaw``. Root channels
follow, by the ``root`` mode:

- "none": nothing; decoded motion is root-relative (placed at the data's mean root position).
- "position": the root's world position (3), for speakers who stand in place: decoded motion
  stays where they stand and never drifts.
- "trajectory": root velocity in the body frame (x, z; m/s), yaw rate (rad/s) and root height
  (m), as Bailando's lower-body codebook carries the root (SynTalker's "lower_trans");
  integrating them on decode makes decoded dances travel and turn, and facing the body frame to
  +z means a codebook spends no codes on the direction a dancer happens to face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from gesture_gym.motion.skeleton import Skeleton

ROOT_MODES = {"none": 0, "position": 3, "trajectory": 4}  # mode -> root channels


def rotate_y(points: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) points about +y by ``angle`` (...,) radians, broadcast over trailing axes."""
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    return np.stack([c * x + s * z, y, c * z - s * x], axis=-1)


def facing_yaw(motion: np.ndarray, left_hip: int, right_hip: int) -> np.ndarray:
    """(T, J, 3) -> (T,) yaw of the pelvis: forward = across-hips x up, 0 when facing +z."""
    across = motion[:, left_hip] - motion[:, right_hip]
    return np.arctan2(-across[:, 2], across[:, 0])


def wrap_angle(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


@dataclass(frozen=True, eq=False)
class MotionRepresentation:
    """Motion (T, J, 3) of ``skeleton`` <-> per-frame features (T, C) of one body part."""

    skeleton: Skeleton
    part: str
    fps: float
    canonical_yaw: bool
    root: str = "none"
    joints: tuple[int, ...] = field(init=False)
    body_joints: tuple[int, ...] = field(init=False)  # the part's joints minus the root

    def __post_init__(self) -> None:
        sk = self.skeleton
        if self.part not in sk.parts:
            raise KeyError(
                f"skeleton {sk.name!r} has no part {self.part!r}; parts: {sorted(sk.parts)}"
            )
        joints = sk.parts[self.part]
        if self.root not in ROOT_MODES:
            raise ValueError(f"root mode {self.root!r}: expected one of {sorted(ROOT_MODES)}")
        if (self.root == "trajectory") != (self.canonical_yaw and self.root != "none"):
            raise ValueError(
                f"root mode {self.root!r} with canonical_yaw={self.canonical_yaw}: a body-frame "
                "part carries a 'trajectory' or 'none', a world-frame one a 'position' or 'none'"
            )
        if self.root != "none" and 0 not in joints:
            raise ValueError(f"root mode {self.root!r} needs the root joint in part {self.part!r}")
        if self.canonical_yaw and not {"left_hip", "right_hip"} <= set(sk.joint_names):
            raise ValueError(
                f"canonical_yaw needs joints 'left_hip' and 'right_hip' to find the facing; "
                f"skeleton {sk.name!r} has none"
            )
        object.__setattr__(self, "joints", tuple(joints))
        object.__setattr__(self, "body_joints", tuple(j for j in joints if j != 0))

    @property
    def channels(self) -> int:
        return 3 * len(self.body_joints) + ROOT_MODES[self.root]

    def check_motion(self, motion: np.ndarray, what: str = "motion") -> np.ndarray:
        """Return ``motion`` as float64 (T, J, 3), or raise naming ``what`` and the problem."""
        m = np.asarray(motion)
        sk = self.skeleton
        if m.ndim != 3 or m.shape[1:] != (sk.n_joints, 3):
            raise ValueError(
                f"{what}: shape {m.shape}, expected (T, {sk.n_joints}, 3) for skeleton "
                f"{sk.name!r} ({sk.n_joints} joints)"
            )
        if not np.all(np.isfinite(m)):
            bad = np.unique(np.nonzero(~np.isfinite(m))[0])
            raise ValueError(
                f"{what}: NaN or infinite positions in {bad.size} frames (first {bad[0]})"
            )
        return m.astype(np.float64)

    def yaw(self, motion: np.ndarray) -> np.ndarray:
        sk = self.skeleton
        return facing_yaw(motion, sk.index("left_hip"), sk.index("right_hip"))

    def features(self, motion: np.ndarray, what: str = "motion") -> np.ndarray:
        """(T, J, 3) positions -> (T, C) float32 features (unnormalised)."""
        m = self.check_motion(motion, what)
        root = m[:, 0]
        body = m[:, self.body_joints] - root[:, None]
        if self.canonical_yaw:
            yaw = self.yaw(m)
            body = rotate_y(body, -yaw[:, None])
        parts = [body.reshape(len(m), -1)]
        if self.root == "position":
            parts.append(root)
        if self.root == "trajectory":
            step = np.diff(root, axis=0, prepend=root[:1])
            vel = rotate_y(step, -yaw) * self.fps
            turn = wrap_angle(np.diff(yaw, prepend=yaw[:1])) * self.fps
            ch = np.stack([vel[:, 0], vel[:, 2], turn, root[:, 1]], axis=-1)
            if len(ch) > 1:
                ch[0, :3] = ch[1, :3]  # frame 0 has no past: repeat frame 1's rates
            parts.append(ch)
        return np.concatenate(parts, axis=-1).astype(np.float32)

    def body(self, features: np.ndarray) -> np.ndarray:
        """(..., T, C) features -> (..., T, J_part, 3) root-relative positions (root joint at 0)."""
        body = self.points(features)
        if len(self.body_joints) == len(self.joints):
            return body.copy()
        k = self.joints.index(0)
        root = np.zeros(body.shape[:-2] + (1, 3), np.float32)
        return np.concatenate([body[..., :k, :], root, body[..., k:, :]], axis=-2)

    def points(self, features: np.ndarray) -> np.ndarray:
        """(..., T, C) -> (..., T, len(body_joints), 3): the non-root joints (a view)."""
        f = np.asarray(features, dtype=np.float32)
        n = len(self.body_joints)
        return f[..., : 3 * n].reshape(f.shape[:-1] + (n, 3))

    def root_channels(self, features: np.ndarray) -> np.ndarray:
        """(..., T, C) -> (..., T, R): the root channels of the ``root`` mode (R may be 0)."""
        return np.asarray(features)[..., 3 * len(self.body_joints) :]


class RootState:
    """Where each of B bodies stands and faces; integrates decoded root channels step by step.

    Decoding a sequence in one go and in pieces gives the same trajectory because the state after
    a piece is exactly where the next piece starts. Starts at the origin facing +z.
    """

    def __init__(self, batch_size: int) -> None:
        self.yaw = np.zeros(batch_size)
        self.xz = np.zeros((batch_size, 2))

    def reset(self, env_indices: np.ndarray | slice) -> None:
        self.yaw[env_indices] = 0.0
        self.xz[env_indices] = 0.0

    def place(self, body: np.ndarray, root_channels: np.ndarray, fps: float) -> np.ndarray:
        """(B, T, J, 3) body-frame root-relative positions + (B, T, 4) channels -> world positions.

        Advances the state by the T frames.
        """
        out = np.empty(body.shape, np.float32)
        _place(body, root_channels, float(fps), self.yaw, self.xz, out)
        return out


@numba.njit(cache=True)
def _place(body, channels, fps, yaw, xz, out):
    """Integrate each body's yaw rate and body-frame velocity frame by frame from (yaw, xz),
    which it advances, and write the turned and shifted ``body`` frames into ``out``.

    A compiled loop: an env step places 64 bodies of a few frames, where numpy's per-call costs
    and temporaries outweigh the arithmetic several times.
    """
    n_bodies, n_frames, n_joints, _ = body.shape
    for b in range(n_bodies):
        angle, x, z = yaw[b], xz[b, 0], xz[b, 1]
        for t in range(n_frames):
            vx, vz = np.float64(channels[b, t, 0]), np.float64(channels[b, t, 1])
            angle += channels[b, t, 2] / fps
            c, s = math.cos(angle), math.sin(angle)
            x += (c * vx + s * vz) / fps
            z += (c * vz - s * vx) / fps
            height = channels[b, t, 3]
            for j in range(n_joints):
                px, py, pz = body[b, t, j, 0], body[b, t, j, 1], body[b, t, j, 2]
                out[b, t, j, 0] = c * px + s * pz + x
                out[b, t, j, 1] = py + height
                out[b, t, j, 2] = c * pz - s * px + z
        yaw[b], xz[b, 0], xz[b, 1] = angle, x, z
