"""Stick-figure drawing of one pose (matplotlib), shared by plots, rgb_array frames and videos."""

from __future__ import annotations

import numpy as np

from gesture_gym.motion.skeleton import Skeleton

LEFT, RIGHT, CENTRE = "#d62728", "#1f77b4", "#333333"


def _side(name: str) -> str:
    return LEFT if name.startswith("left") else RIGHT if name.startswith("right") else CENTRE


def front_view(positions: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 2) screen coordinates of a camera in front of the body, looking at it.

    The body faces +z, so its left (+x) appears on the viewer's right, as when facing a person.
    """
    return np.stack([positions[..., 0], positions[..., 1]], axis=-1)


def draw_pose(
    ax, positions: np.ndarray, skeleton: Skeleton, offset_x: float = 0.0, lw: float = 2.0
):
    """Draw bones of one (J, 3) pose onto ``ax`` (front view), shifted by ``offset_x`` metres."""
    xy = front_view(np.asarray(positions))
    xy[:, 0] += offset_x
    for j, p in enumerate(skeleton.parents):
        if p >= 0:
            ax.plot(xy[[p, j], 0], xy[[p, j], 1], color=_side(skeleton.joint_names[j]), lw=lw,
                    solid_capstyle="round")  # fmt: skip
    ax.scatter(xy[:, 0], xy[:, 1], s=6, color=CENTRE, zorder=3)
