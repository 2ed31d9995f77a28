"""Stick-figure frames, episode videos with their audio, and BVH / npz export.

    from gesture_gym.render import save_video, export_bvh, export_npz, render_frame

The functions load on first use (PIL, imageio-ffmpeg and scipy's rotations stay out of
``import gesture_gym``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "render_frame": "gesture_gym.render.frames",
    "Renderer": "gesture_gym.render.frames",
    "save_video": "gesture_gym.render.video",
    "export_bvh": "gesture_gym.render.export",
    "export_npz": "gesture_gym.render.export",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gesture_gym.render' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
