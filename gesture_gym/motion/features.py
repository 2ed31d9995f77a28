"""Per-frame motion descriptors shared by metrics, plots and tests.

They take one clip or a batch of windows. On small arrays numpy's fixed costs outweigh the
arithmetic: its per-call overhead, its slow reductions over a short last axis and its arithmetic
on views with short contiguous runs (about 3x slower than on a contiguous array, numpy 2.4). So
frames are differenced as one flat contiguous array, sums over joints are matrix-vector products,
and short speed curves are smoothed by a cached matrix and searched for minima time-first, where
every neighbour is a contiguous row. The per-step beat rewards (reward_models/hand_designed.py)
follow :func:`kinematic_beat_mask`'s definition in a compiled loop, with :func:`smoothing_matrix`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter1d

SMOOTHING_MATRIX_FRAMES = 128  # up to this many frames a cached matrix smooths faster than scipy


def _frame_steps(motion: np.ndarray) -> np.ndarray:
    """(..., T, J, 3) positions -> (..., T, J) distance each joint moves from frame t to t + 1,
    0 at the last frame.

    float32 motion (clips, decoded tokens) is processed in float32, half the memory traffic of a
    batched reward step; other input in float64. All leading axes are differenced as one flat
    array, whose steps from one env's last frame to the next env's first are then zeroed.
    """
    m = np.asarray(motion)
    m = np.ascontiguousarray(m, dtype=np.float32 if m.dtype == np.float32 else np.float64)
    *lead, n_frames, n_joints, _ = m.shape
    flat, row = m.reshape(-1), 3 * n_joints
    d = np.empty_like(flat)
    np.subtract(flat[row:], flat[:-row], out=d[:-row])
    d[-row:] = 0.0  # the very last frame has no next one
    d *= d
    s = d[0::3] + d[1::3]  # per component: np.linalg.norm over the size-3 axis is far slower
    s += d[2::3]
    steps = np.sqrt(s, out=s).reshape(*lead, n_frames, n_joints)
    steps[..., -1:, :] = 0.0
    return steps


def joint_displacement(motion: np.ndarray) -> np.ndarray:
    """(..., T, J, 3) positions -> (..., T - 1, J) distance each joint moves to the next frame.

    Leading axes (a batch of envs) are processed at once; float32 stays float32, other input is
    processed in float64.
    """
    return _frame_steps(motion)[..., :-1, :]


def joint_speed(motion: np.ndarray, fps: float) -> np.ndarray:
    """(..., T, J, 3) positions -> (..., T, J) speeds in m/s (the first frame repeats the second's).

    Leading axes (a batch of envs) are processed at once; dtypes as in :func:`joint_displacement`.
    """
    v = _frame_steps(motion)
    v *= v.dtype.type(fps)
    return np.concatenate([v[..., :1, :], v[..., :-1, :]], axis=-2)


def mean_over_joints(values: np.ndarray) -> np.ndarray:
    """(..., J) -> (...) mean over the last axis, as one matrix-vector product (numpy's reductions
    over a short last axis are several times slower)."""
    n = values.shape[-1]
    if values.size == 0:
        return values.mean(axis=-1)
    total = values.reshape(-1, n) @ np.ones(n, dtype=values.dtype)
    return (total / n).reshape(values.shape[:-1])


def mean_joint_speed(motion: np.ndarray, fps: float) -> np.ndarray:
    """(..., T, J, 3) positions -> (..., T) mean over joints of :func:`joint_speed` (m/s)."""
    v = mean_over_joints(_frame_steps(motion))
    v *= v.dtype.type(fps)
    return np.concatenate([v[..., :1], v[..., :-1]], axis=-1)


@lru_cache(maxsize=16)
def smoothing_matrix(n_frames: int, sigma: float) -> np.ndarray:
    """(T, T) float64 matrix M: M @ x is gaussian_filter1d(x, sigma) along x's first axis."""
    matrix = gaussian_filter1d(np.eye(n_frames), sigma, axis=0)
    matrix.flags.writeable = False
    return matrix


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """(T, ...) -> (T, ...) of x's dtype: scipy's gaussian_filter1d along the first axis (reflect
    mode, truncate 4, accumulated in float64).

    Short curves (a reward step's window) are one product with a cached matrix instead of a scipy
    call, whose fixed overhead dominates there; long ones (whole clips) go to scipy.
    """
    n = len(x)
    if n > SMOOTHING_MATRIX_FRAMES or x.size == 0:
        return gaussian_filter1d(x, sigma, axis=0)
    smooth = smoothing_matrix(n, float(sigma)) @ x.reshape(n, -1)
    return smooth.reshape(x.shape).astype(x.dtype, copy=False)


def local_minima(x: np.ndarray, order: int = 1) -> np.ndarray:
    """(T, ...) -> (T, ...) bool, True where x is below all values up to ``order`` frames away
    along the first axis.

    ``scipy.signal.argrelextrema(x, np.less, axis=0, order=order)`` as a mask: a neighbour index
    past an end is clipped to it, so the first and last frames are never minima. Slices of one
    edge-padded array, without argrelextrema's overhead on small arrays.
    """
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    n = len(x)
    padded = x.take(np.arange(-order, n + order), axis=0, mode="clip")
    mask = np.ones(x.shape, dtype=bool)
    for shift in range(1, order + 1):
        mask &= x < padded[order + shift : order + shift + n]
        mask &= x < padded[order - shift : order - shift + n]
    return mask


def kinematic_beat_mask(
    motion: np.ndarray, fps: float, sigma: float = 0.0, order: int = 1
) -> np.ndarray:
    """(..., T, J, 3) -> (..., T) bool, True at the kinematic beats (see kinematic_beats).

    Leading axes (a batch of envs) are processed at once.
    """
    curve = mean_joint_speed(motion, fps).swapaxes(0, -1)  # time first
    if sigma > 0:
        curve = gaussian_smooth(curve, sigma)
    return local_minima(curve, order).swapaxes(0, -1)


def kinematic_beats(
    motion: np.ndarray, fps: float, sigma: float = 0.0, order: int = 1
) -> np.ndarray:
    """Frame indices of local minima of the mean joint speed (Bailando: sigma=5 frames at 60 fps).

    Args:
        sigma: Gaussian smoothing of the speed curve, in frames (0 = none).
        order: how many frames on each side a minimum must beat (FACT uses 10 at 60 fps).
    """
    return np.flatnonzero(kinematic_beat_mask(motion, fps, sigma, order))
