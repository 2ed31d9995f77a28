"""Per-frame motion descriptors shared by metrics, rewards and tests."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema


def joint_speed(motion: np.ndarray, fps: float) -> np.ndarray:
    """(T, J, 3) positions -> (T, J) speeds in m/s (the first frame repeats the second's)."""
    m = np.asarray(motion, dtype=np.float64)
    if m.shape[0] < 2:
        return np.zeros(m.shape[:2])
    v = np.linalg.norm(np.diff(m, axis=0), axis=-1) * fps
    return np.concatenate([v[:1], v], axis=0)


def kinematic_beats(motion: np.ndarray, fps: float, sigma: float = 0.0, order: int = 1) -> np.ndarray:
    """Frame indices of local minima of the mean joint speed (Bailando: sigma=5 frames at 60 fps).

    Args:
        sigma: Gaussian smoothing of the speed curve, in frames (0 = none).
        order: how many frames on each side a minimum must beat (FACT uses 10 at 60 fps).
    """
    speed = joint_speed(motion, fps).mean(axis=1)
    if sigma > 0:
        speed = gaussian_filter1d(speed, sigma)
    return argrelextrema(speed, np.less, order=order)[0]
