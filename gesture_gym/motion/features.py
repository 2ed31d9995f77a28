"""Per-frame motion descriptors shared by metrics, rewards and tests."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema


def joint_speed(motion: np.ndarray, fps: float) -> np.ndarray:
    """(..., T, J, 3) positions -> (..., T, J) speeds in m/s (the first frame repeats the second's).

    Leading axes (a batch of envs) are processed at once. float32 motion (clips, decoded tokens)
    is processed in float32, half the memory traffic of a batched reward step; other input in
    float64.
    """
    m = np.asarray(motion)
    m = m if m.dtype == np.float32 else m.astype(np.float64)
    if m.shape[-3] < 2:
        return np.zeros(m.shape[:-1], dtype=m.dtype)
    d = m[..., 1:, :, :] - m[..., :-1, :, :]
    x, y, z = d[..., 0], d[..., 1], d[..., 2]  # per component: far faster than norm(axis=-1)
    v = np.sqrt(x * x + y * y + z * z) * m.dtype.type(fps)
    return np.concatenate([v[..., :1, :], v], axis=-2)


def kinematic_beat_mask(
    motion: np.ndarray, fps: float, sigma: float = 0.0, order: int = 1
) -> np.ndarray:
    """(..., T, J, 3) -> (..., T) bool, True at the kinematic beats (see kinematic_beats).

    Leading axes (a batch of envs) are processed at once.
    """
    speed = joint_speed(motion, fps).mean(axis=-1)
    if sigma > 0:
        speed = gaussian_filter1d(speed, sigma, axis=-1)
    mask = np.zeros(speed.shape, dtype=bool)
    mask[argrelextrema(speed, np.less, axis=-1, order=order)] = True
    return mask


def kinematic_beats(
    motion: np.ndarray, fps: float, sigma: float = 0.0, order: int = 1
) -> np.ndarray:
    """Frame indices of local minima of the mean joint speed (Bailando: sigma=5 frames at 60 fps).

    Args:
        sigma: Gaussian smoothing of the speed curve, in frames (0 = none).
        order: how many frames on each side a minimum must beat (FACT uses 10 at 60 fps).
    """
    return np.flatnonzero(kinematic_beat_mask(motion, fps, sigma, order))
