"""Co-speech metrics: BC and L1div (BEAT/EMAGE), PMB (RACER), MAJE and MAD (Yoon et al. 2020).

Sources: PantoMatrix/PantoMatrix scripts/EMAGE_2024/utils/metric.py (``alignment``, ``L1div``)
and the EMAGE trainer's test loop (2 s masked at both ends, clip-length weighting);
ai4r/Gesture-Generation-from-Trimodal-Context train.py (joint MAE, acceleration difference), the
definitions RACER reports under the names MAJE and MAD; RACER's paper for PMB (0.2 s tolerance).
FGD lives in ``gesture_gym.metrics.fgd``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from scipy.signal import argrelextrema

from gesture_gym.metrics.beat_align import bailando_motion_beats
from gesture_gym.metrics.common import (
    as_motion,
    as_times,
    check_fps,
    gaussian_hit_rate,
    nearest_distance,
    whole_frames,
)

EMAGE_FPS = 30.0  # BEAT2's motion rate, at which EMAGE's BC parameters are stated
BC_SIGMA = 0.3  # seconds
BC_ORDER = 7  # neighbourhood of a motion beat, frames at 30 fps
BC_THRESHOLD = 0.3  # a motion beat needs normalised speed above this
BC_MASK = 2.0  # seconds ignored at each end (EMAGE's align_mask of 60 frames)
# EMAGE's upper_body joint indices [3, 6, 9, 12..21] of SMPL-X, by name (also in SMPL-24 and
# the co-speech skeleton).
BC_JOINTS = (
    "spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
RACER_FPS = 20.0  # RACER's motion rate: MAD is reported per frame^2 at this rate
PMB_TOLERANCE = 0.2  # seconds


def joint_speed_central(motion: np.ndarray, fps: float) -> np.ndarray:
    """(T, J) joint speeds: central differences inside, one-sided at the ends (EMAGE's)."""
    m = as_motion(motion, min_frames=2)
    vel = np.gradient(m, 1.0 / check_fps(fps), axis=0, edge_order=1)
    return np.linalg.norm(vel, axis=-1)


def mean_joint_speed(motions: Sequence[np.ndarray], fps: float) -> np.ndarray:
    """(J,) per-joint mean speed over all frames of a set: EMAGE's ``mean_vel`` normaliser."""
    if len(motions) == 0:
        raise ValueError("mean_joint_speed: no clips given")
    speeds = np.concatenate([joint_speed_central(m, fps) for m in motions], axis=0)
    return speeds.mean(axis=0)


def _bc_parts(
    motion: np.ndarray,
    onsets: np.ndarray,
    fps: float,
    mean_velocity: np.ndarray | None,
    joints: Sequence[int] | None,
    corrected: bool,
) -> tuple[float, int]:
    """(BC of the clip, its weight: frames left after masking)."""
    fps = check_fps(fps)
    speed = joint_speed_central(motion, fps)
    n, n_joints = speed.shape
    mean = speed.mean(axis=0) if mean_velocity is None else np.asarray(mean_velocity, np.float64)
    if mean.shape != (n_joints,):
        raise ValueError(f"mean_velocity has shape {mean.shape}, the motion has {n_joints} joints")
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(mean > 0, speed / mean, 0.0)
    mask = round(BC_MASK * fps)
    if n - 2 * mask < 2:
        raise ValueError(
            f"motion of {n} frames at {fps:g} fps: BC masks {BC_MASK:g} s at each end and needs "
            "a longer clip"
        )
    cols = np.arange(n_joints) if joints is None else np.asarray(joints, dtype=int)
    inner = speed[mask : n - mask][:, cols]
    rows, which = argrelextrema(
        inner, np.less, axis=0, order=whole_frames(BC_ORDER, EMAGE_FPS, fps)
    )
    # EMAGE tests the threshold at the minimum's index within the masked window but reads the
    # unmasked speed array, i.e. 2 s earlier (bug); the corrected variant reads the same frame.
    keep = speed[rows + mask if corrected else rows, cols[which]] > BC_THRESHOLD
    rows, which = rows[keep], which[keep]
    audio = as_times(onsets, "onsets") - mask / fps
    audio = audio[(audio >= 0) & (audio < (n - 2 * mask) / fps)]
    per_joint = [
        gaussian_hit_rate(audio, rows[which == j] / fps, BC_SIGMA) for j in range(len(cols))
    ]
    return float(np.mean(per_joint)), n - 2 * mask


def beat_consistency(
    motion: np.ndarray,
    onsets: np.ndarray,
    fps: float = EMAGE_FPS,
    *,
    mean_velocity: np.ndarray | None = None,
    joints: Sequence[int] | None = None,
    corrected: bool = False,
) -> float:
    """EMAGE's BC of one clip: how well audio onsets are met by motion beats.

    Per joint, motion beats are local minima (order 7 frames at 30 fps) of the speed divided by
    ``mean_velocity`` (per joint, EMAGE uses the training set's; default: this clip's own), kept
    where that normalised speed exceeds 0.3; the first and last 2 s are ignored. The score is
    the mean over onsets (seconds, librosa onset_detect) of exp(-d^2 / (2 * 0.3^2)), d = seconds
    to the joint's nearest motion beat (a joint without beats scores 0), averaged over
    ``joints`` (EMAGE: BC_JOINTS). No onsets gives 0 (EMAGE divides by zero). ``corrected``
    tests the speed threshold at the beat's own frame (see _bc_parts).
    """
    return _bc_parts(motion, onsets, fps, mean_velocity, joints, corrected)[0]


def beat_consistency_corrected(
    motion: np.ndarray, onsets: np.ndarray, fps: float = EMAGE_FPS, **options: Any
) -> float:
    """BC with the speed threshold tested at the motion beat's own frame, not 2 s earlier."""
    return beat_consistency(motion, onsets, fps, corrected=True, **options)


def beat_consistency_set(
    motions: Sequence[np.ndarray],
    onsets: Sequence[np.ndarray],
    fps: float = EMAGE_FPS,
    *,
    mean_velocity: np.ndarray | None = None,
    joints: Sequence[int] | None = None,
    corrected: bool = False,
) -> float:
    """BC of a set: per-clip BC weighted by the frames left after masking (EMAGE's test loop)."""
    if len(motions) == 0 or len(motions) != len(onsets):
        raise ValueError(f"{len(motions)} clips and {len(onsets)} onset lists; need one per clip")
    parts = [
        _bc_parts(m, o, fps, mean_velocity, joints, corrected)
        for m, o in zip(motions, onsets, strict=True)
    ]
    scores, weights = np.array(parts).T
    return float(np.sum(scores * weights) / np.sum(weights))


def l1div(motions: Sequence[np.ndarray]) -> float:
    """EMAGE's L1div: per clip, sum over frames and coordinates of |x - the clip's mean pose|;
    summed over clips and divided by the total number of frames. Higher means more varied."""
    if len(motions) == 0:
        raise ValueError("l1div: no clips given")
    total, frames = 0.0, 0
    for i, motion in enumerate(motions):
        m = as_motion(motion, f"clip {i}", min_frames=1).reshape(len(motion), -1)
        total += float(np.abs(m - m.mean(axis=0)).sum())
        frames += m.shape[0]
    return total / frames


def _pmb_counts(motion: np.ndarray, audio_beats: np.ndarray, fps: float) -> tuple[int, int]:
    fps = check_fps(fps)
    beats = bailando_motion_beats(motion, fps) / fps
    d = nearest_distance(beats, as_times(audio_beats, "audio_beats"))
    return int(np.sum(d <= PMB_TOLERANCE + 1e-9)), int(beats.size)


def pmb(motion: np.ndarray, audio_beats: np.ndarray, fps: float) -> float:
    """RACER's PMB of one clip, in percent: motion beats within 0.2 s of an audio beat.

    RACER does not say how it finds motion beats; Bailando's (smoothed speed minima, see
    beat_align.bailando_motion_beats) are used. No motion beats gives 0.
    """
    matched, total = _pmb_counts(motion, audio_beats, fps)
    return 100.0 * matched / total if total else 0.0


def pmb_set(motions: Sequence[np.ndarray], audio_beats: Sequence[np.ndarray], fps: float) -> float:
    """PMB of a set: matched motion beats over all motion beats of all clips, in percent."""
    if len(motions) == 0 or len(motions) != len(audio_beats):
        raise ValueError(
            f"{len(motions)} clips and {len(audio_beats)} beat lists; need one per clip"
        )
    counts = np.array([_pmb_counts(m, b, fps) for m, b in zip(motions, audio_beats, strict=True)])
    matched, total = counts.sum(axis=0)
    return 100.0 * float(matched) / float(total) if total else 0.0


def _pairs(
    generated: Sequence[np.ndarray], ground_truth: Sequence[np.ndarray], min_frames: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Checked (generated, ground truth) motion pairs of the same shape."""
    if len(generated) == 0 or len(generated) != len(ground_truth):
        raise ValueError(
            f"{len(generated)} generated and {len(ground_truth)} ground-truth clips; "
            "MAJE and MAD compare clip i with clip i"
        )
    for i, (g, t) in enumerate(zip(generated, ground_truth, strict=True)):
        g = as_motion(g, f"generated clip {i}", min_frames=min_frames)
        t = as_motion(t, f"ground-truth clip {i}", min_frames=min_frames)
        if g.shape != t.shape:
            raise ValueError(f"clip {i}: generated shape {g.shape} != ground truth {t.shape}")
        yield g, t


def maje(generated: Sequence[np.ndarray], ground_truth: Sequence[np.ndarray]) -> float:
    """Mean absolute joint error: mean |generated - ground truth| over every coordinate of every
    frame of every clip (Yoon et al.'s ``joint_mae``), in the motion's units (metres)."""
    total, count = 0.0, 0
    for g, t in _pairs(generated, ground_truth, 1):
        total += float(np.abs(g - t).sum())
        count += g.size
    return total / count


def mad(
    generated: Sequence[np.ndarray],
    ground_truth: Sequence[np.ndarray],
    fps: float = RACER_FPS,
    reference_fps: float = RACER_FPS,
) -> float:
    """Mean acceleration difference: mean |second difference of generated - of ground truth|
    over every coordinate (Yoon et al.'s ``accel``), in metres per frame^2 at ``reference_fps``
    (RACER's 20 fps), so that the number does not depend on the motion's own frame rate."""
    scale = (check_fps(fps) / check_fps(reference_fps, "reference_fps")) ** 2
    total, count = 0.0, 0
    for g, t in _pairs(generated, ground_truth, 3):
        diff = np.diff(g, n=2, axis=0) - np.diff(t, n=2, axis=0)
        total += float(np.abs(diff).sum())
        count += diff.size
    return total / count * scale
