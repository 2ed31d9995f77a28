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

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from gesture_gym.metrics.common import (
    as_motion,
    as_times,
    check_fps,
    gaussian_hit_rate,
    scaled_frames,
    whole_frames,
)
from gesture_gym.motion.features import joint_displacement, local_minima, mean_over_joints

BAS_FPS = 60.0  # the frame rate both references state their parameters at
BAS_SIGMA = 3.0  # Gaussian of the score, frames at 60 fps
BAILANDO_SMOOTHING = 5.0  # Gaussian smoothing of the speed curve, frames at 60 fps
FACT_ORDER = 10  # neighbourhood of a FACT motion beat, frames at 60 fps


def bailando_motion_beats(motion: np.ndarray, fps: float) -> np.ndarray:
    """Frame indices of Bailando's motion beats.

    Index i is the displacement between frames i and i+1 (T-1 values, the reference's indexing).
    scipy's ``gaussian_filter`` on a 1-D array is ``gaussian_filter1d`` (reflect mode, truncate 4).
    float32 motion (an env's) is measured in float32, without a float64 copy (the beats agree
    with float64's on the corpora and env episodes, tests/metrics); the curve is smoothed in
    float64.
    """
    m = as_motion(motion, min_frames=2, keep_float32=True)
    speed = mean_over_joints(joint_displacement(m)).astype(np.float64)
    speed = gaussian_filter1d(speed, scaled_frames(BAILANDO_SMOOTHING, BAS_FPS, fps))
    return np.flatnonzero(local_minima(speed))


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
