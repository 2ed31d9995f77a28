"""Input checks, frame-rate conversion and beat matching shared by the metrics.

Every reference states its parameters in frames at its own frame rate (AIST++ at 60 fps, BEAT2
at 30 fps, RACER at 20 fps). They are converted here to the motion's frame rate, so a metric
means the same in seconds whatever the rate; at the reference rate the conversion is exact.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def check_fps(fps: float, name: str = "fps") -> float:
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"{name} must be a positive frame rate, got {fps!r}")
    return fps


def as_motion(
    motion: np.ndarray,
    name: str = "motion",
    *,
    n_joints: int | None = None,
    min_frames: int = 2,
    keep_float32: bool = False,
) -> np.ndarray:
    """``motion`` as a (T, J, 3) float64 array, or a ValueError naming what is wrong.

    ``keep_float32``: float32 motion stays float32, for a metric that computes in float32 where
    it is given float32 (an env's per-episode metrics, which skip the float64 copy).
    """
    m = np.asarray(motion)
    if not (keep_float32 and m.dtype == np.float32):
        m = np.asarray(m, dtype=np.float64)
    if m.ndim != 3 or m.shape[2] != 3:
        raise ValueError(
            f"{name}: expected (frames, joints, 3) joint positions, got shape {m.shape}"
        )
    if n_joints is not None and m.shape[1] != n_joints:
        raise ValueError(f"{name}: {m.shape[1]} joints, this metric needs {n_joints} (SMPL-24)")
    if m.shape[0] < min_frames:
        raise ValueError(f"{name}: {m.shape[0]} frame(s), this metric needs at least {min_frames}")
    if not np.isfinite(m).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return m


def scaled_frames(frames: float, reference_fps: float, fps: float) -> float:
    """A duration given as ``frames`` at ``reference_fps``, in frames at ``fps``."""
    return frames * check_fps(fps) / reference_fps


def whole_frames(frames: int, reference_fps: float, fps: float) -> int:
    """Like scaled_frames, rounded, and at least 1 (a window or neighbourhood size)."""
    return max(1, round(scaled_frames(frames, reference_fps, fps)))


def as_times(times: np.ndarray | None, name: str) -> np.ndarray:
    """Beat or onset times in seconds as a sorted 1-D float64 array."""
    if times is None:
        raise ValueError(f"{name}: no beat/onset times given (this metric needs the audio's)")
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    if not np.isfinite(t).all():
        raise ValueError(f"{name}: contains NaN or infinite times")
    return np.sort(t)


def nearest_distance(queries: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each query, the distance to the nearest target (inf when there are no targets)."""
    q = np.asarray(queries, dtype=np.float64)
    t = np.sort(np.asarray(targets, dtype=np.float64))
    if t.size == 0:
        return np.full(q.shape, np.inf)
    i = np.searchsorted(t, q)  # the targets either side of a query: t[i - 1] <= q <= t[i]
    after = np.abs(q - t[np.minimum(i, t.size - 1)])
    return np.minimum(after, np.abs(q - t[np.maximum(i - 1, 0)]))


def gaussian_hit_rate(queries: np.ndarray, targets: np.ndarray, sigma: float) -> float:
    """Mean over queries of exp(-d^2 / (2 sigma^2)), d = distance to the nearest target.

    The common core of Bailando's and FACT's BAS and EMAGE's BC (``GAHR``); no queries gives 0
    (the references divide by zero there), no targets gives 0 for every query. One compiled
    pass over the sorted targets (an env scores every finished episode).
    """
    q = np.asarray(queries, dtype=np.float64).reshape(-1)
    if len(q) == 0:
        return 0.0
    t = np.sort(np.asarray(targets, dtype=np.float64).reshape(-1))
    return float(_hit_rate(q, t, float(sigma)))


@numba.njit(cache=True)
def _hit_rate(queries, targets, sigma):
    """gaussian_hit_rate over ``targets`` sorted ascending (nearest as in nearest_distance)."""
    if len(targets) == 0:
        return 0.0
    total = 0.0
    for q in queries:
        i = np.searchsorted(targets, q)
        d = np.inf
        if i < len(targets):
            d = abs(q - targets[i])
        if i > 0:
            d = min(d, abs(q - targets[i - 1]))
        total += math.exp(-(d * d) / (2.0 * sigma * sigma))
    return total / len(queries)
