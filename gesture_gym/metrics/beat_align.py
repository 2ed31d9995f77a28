"""Beat alignment score (BAS) in its two published variants, which give different numbers.

* ``beat_align_score``: Bailando's (lisiyao21/Bailando utils/beat_align_score.py), the number in
  Bailando's and E3D2's tables. Motion beats are the local minima (order 1) of the mean joint
  displacement between consecutive frames after Gaussian smoothing (sigma 5 frames); the score is
  the mean over MUSIC beats of exp(-d^2 / (2 * 3^2)), d = frames to the nearest motion beat.
* ``beat_align_score_fact``: AIST++/FACT's (google-research/mint tools/calculate_beat_scores.py).
  Motion beats are the local minima (order 10) of the unsmoothed summed joint speed; the score is
  the mean over MOTION beats of the same Gaussian, d = frames to the nearest music beat.

Bailando's variant rewards motion with many minima (every music beat finds one nearby); FACT's
penalises spurious motion beats instead. Both references work at 60 fps; the smoothing sigma,
the minimum's neighbourhood and the Gaussian's sigma (3 frames = 0.05 s) are converted to the
motion's frame rate. Music beats (given in seconds) are rounded to the motion's frame grid, as
the references store them one-hot per frame, and only beats inside the motion count.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numba
import numpy as np
from scipy.signal import argrelextrema

from gesture_gym.metrics.common import (
    as_motion,
    as_times,
    check_fps,
    gaussian_hit_rate,
    scaled_frames,
    whole_frames,
)

BAS_FPS = 60.0  # the frame rate both references state their parameters at
BAS_SIGMA = 3.0  # Gaussian of the score, frames at 60 fps
BAILANDO_SMOOTHING = 5.0  # Gaussian smoothing of the speed curve, frames at 60 fps
FACT_ORDER = 10  # neighbourhood of a FACT motion beat, frames at 60 fps


def bailando_motion_beats(motion: np.ndarray, fps: float) -> np.ndarray:
    """Frame indices of Bailando's motion beats.

    Index i is the displacement between frames i and i+1 (T-1 values, the reference's indexing).
    The reference smooths with scipy's ``gaussian_filter`` (on a 1-D array ``gaussian_filter1d``:
    reflect mode, truncate 4) and takes ``argrelextrema(..., np.less)``; here one compiled pass
    does the same (an env scores every finished episode, where numpy's per-call costs dominate;
    tests/metrics checks it against scipy's). Displacements are measured in the motion's float
    type (an env's float32 motion needs no float64 copy), the curve is smoothed in float64.
    """
    m = as_motion(motion, min_frames=2, keep_float32=True)
    weights = _gaussian_weights(scaled_frames(BAILANDO_SMOOTHING, BAS_FPS, fps))
    return np.flatnonzero(_bailando_beat_mask(m, weights))


@lru_cache(maxsize=16)
def _gaussian_weights(sigma: float) -> np.ndarray:
    """scipy.ndimage's Gaussian kernel of ``gaussian_filter1d(x, sigma)`` (truncate 4)."""
    radius = int(4.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 / sigma**2 * x**2)
    weights = phi / phi.sum()
    weights.flags.writeable = False
    return weights


@numba.njit(cache=True)
def _bailando_beat_mask(motion, weights):
    """(T, J, 3) positions -> (T - 1,) bool: strict local minima of the mean joint displacement
    per frame step, smoothed by ``weights`` (odd length) with reflected edges (d c b a | a b c d |
    d c b a, repeated for curves shorter than the kernel). The first and last steps are never
    minima (argrelextrema clips its neighbours to the ends)."""
    n_frames, n_joints, _ = motion.shape
    n = n_frames - 1
    speed = np.empty(n)
    for t in range(n):
        total = 0.0
        for j in range(n_joints):
            dx = motion[t + 1, j, 0] - motion[t, j, 0]
            dy = motion[t + 1, j, 1] - motion[t, j, 1]
            dz = motion[t + 1, j, 2] - motion[t, j, 2]
            total += math.sqrt(dx * dx + dy * dy + dz * dz)
        speed[t] = total / n_joints
    radius = len(weights) // 2
    smooth = np.empty(n)
    for i in range(n):
        acc = 0.0
        inside = radius <= i < n - radius
        for k in range(-radius, radius + 1):
            idx = i + k
            if not inside:
                idx %= 2 * n
                if idx >= n:
                    idx = 2 * n - 1 - idx
            acc += weights[k + radius] * speed[idx]
        smooth[i] = acc
    mask = np.zeros(n, np.bool_)
    for i in range(1, n - 1):
        mask[i] = smooth[i] < smooth[i - 1] and smooth[i] < smooth[i + 1]
    return mask


def fact_motion_beats(motion: np.ndarray, fps: float) -> np.ndarray:
    """Frame indices of FACT's motion beats: minima of the summed joint speed, 0 at frame 0."""
    m = as_motion(motion, min_frames=2)
    envelope = np.concatenate([[0.0], np.linalg.norm(np.diff(m, axis=0), axis=-1).sum(axis=1)])
    return argrelextrema(envelope, np.less, order=whole_frames(FACT_ORDER, BAS_FPS, fps))[0]


def _music_beat_frames(audio_beats: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    frames = np.rint(as_times(audio_beats, "audio_beats") * fps)
    return frames[(frames >= 0) & (frames < n_frames)]


def beat_align_score(motion: np.ndarray, audio_beats: np.ndarray, fps: float) -> float:
    """Bailando's BAS of one clip: (T, J, 3) positions at ``fps``, music beats in seconds.

    As in the reference, music beats count only within the first T-1 frames (the length of the
    speed curve). No music beats or no motion beats gives 0 (the reference divides by zero or
    fails there).
    """
    fps = check_fps(fps)
    motion_beats = bailando_motion_beats(motion, fps)
    music = _music_beat_frames(audio_beats, fps, len(motion) - 1)
    return gaussian_hit_rate(music, motion_beats, scaled_frames(BAS_SIGMA, BAS_FPS, fps))


def beat_align_score_fact(motion: np.ndarray, audio_beats: np.ndarray, fps: float) -> float:
    """AIST++/FACT's BAS of one clip: (T, J, 3) positions at ``fps``, music beats in seconds.

    Music beats count within the T motion frames; no motion beats gives 0 (as the reference), no
    music beats gives 0 (the reference fails there).
    """
    fps = check_fps(fps)
    motion_beats = fact_motion_beats(motion, fps)
    music = _music_beat_frames(audio_beats, fps, len(motion))
    return gaussian_hit_rate(motion_beats, music, scaled_frames(BAS_SIGMA, BAS_FPS, fps))
