"""Beat alignment between motion (kinematic beats) and audio beats."""

from __future__ import annotations

import numpy as np

from gesture_gym.motion.features import kinematic_beats


def beat_align_score(
    motion: np.ndarray, audio_beats: np.ndarray, fps: float, sigma_frames: float = 3.0
) -> float:
    """Bailando's BAS: mean over audio beats of exp(-d^2 / (2 sigma^2)), d = frames to the nearest
    kinematic beat (mean joint speed smoothed with a Gaussian of 5 frames).

    ``audio_beats`` are in seconds; beats outside the motion are ignored.
    """
    n = motion.shape[0]
    beats = np.asarray(audio_beats, dtype=np.float64) * fps
    beats = beats[(beats >= 0) & (beats < n)]
    motion_beats = kinematic_beats(motion, fps, sigma=5.0)
    if beats.size == 0 or motion_beats.size == 0:
        return 0.0
    d = np.abs(beats[:, None] - motion_beats[None, :]).min(axis=1)
    return float(np.mean(np.exp(-(d**2) / (2 * sigma_frames**2))))
