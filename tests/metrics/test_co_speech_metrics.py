import numpy as np
import pytest

from gesture_gym.metrics.co_speech import (
    beat_consistency,
    beat_consistency_corrected,
    beat_consistency_set,
    l1div,
    mad,
    maje,
    mean_joint_speed,
    pmb,
    pmb_set,
)


def pulsing(fps: float = 30.0, frames: int = 300, still_until: int = 0) -> np.ndarray:
    """One joint whose (central-difference) speed is 1 - 0.5 cos(2 pi (i - 90) / 60) units/s
    at 30 fps: slowest at frames 30, 90, 150, 210, 270; optionally still before a frame."""
    i = np.arange(frames, dtype=np.float64)
    w = 2 * np.pi / 60
    x = (i - 0.5 * np.sin(w * (i - 90)) / np.sinc(w / np.pi) / w) / fps
    x[:still_until] = x[still_until]
    m = np.zeros((frames, 1, 3))
    m[:, 0, 0] = x
    return m


def test_bc_hand_computed():
    # 2 s are masked at each end: frames 60..239 remain (6 s), with motion beats at frames 90,
    # 150, 210 -> 1, 3, 5 s after the mask. Onsets at 3.0, 4.1, 7.0 s (and 9.5 s, inside the
    # end mask) -> 1.0, 2.1, 5.0 s: nearest beats 0, 0.9, 0 s away.
    onsets = np.array([3.0, 4.1, 7.0, 9.5])
    expected = (1 + np.exp(-(0.9**2) / (2 * 0.3**2)) + 1) / 3
    assert beat_consistency(pulsing(), onsets, 30) == pytest.approx(expected, rel=1e-9)
    assert beat_consistency_corrected(pulsing(), onsets, 30) == pytest.approx(expected, rel=1e-9)


def test_bc_threshold_quirk_and_its_correction():
    # Still for the first 2 s. EMAGE tests the speed threshold 2 s before each beat (it indexes
    # the unmasked speeds with indices into the masked window), so the first beat (frame 90)
    # is tested at frame 30, where the joint is still, and dropped; the corrected variant keeps
    # it. Onsets at 3, 5, 7 s -> 1, 3, 5 s after the mask.
    onsets = np.array([3.0, 5.0, 7.0])
    motion = pulsing(still_until=60)
    assert beat_consistency(motion, onsets, 30) == pytest.approx(
        (np.exp(-4 / 0.18) + 2) / 3, rel=1e-9
    )
    assert beat_consistency_corrected(motion, onsets, 30) == pytest.approx(1.0)


def test_bc_normalisation_joints_and_set_weighting():
    motion = np.concatenate([pulsing(), pulsing() * 3.0], axis=1)  # second joint 3x faster
    onsets = np.array([3.0, 5.0, 7.0])
    # normalising by a mean speed that makes the joint's minima fall below 0.3 removes its beats
    fast_mean = np.array([1.0, 10.0])
    assert beat_consistency(motion, onsets, 30, mean_velocity=fast_mean, joints=[1]) == 0.0
    assert beat_consistency(
        motion, onsets, 30, mean_velocity=fast_mean, joints=[0]
    ) == pytest.approx(1.0)
    assert beat_consistency(motion, onsets, 30, mean_velocity=fast_mean) == pytest.approx(0.5)
    np.testing.assert_allclose(mean_joint_speed([motion], 30), [1.0, 3.0], rtol=0.02)
    # a set weights each clip by its frames after masking: 180 and 60 frames
    short = pulsing(frames=180)
    expected = (180 * 1.0 + 60 * beat_consistency(short, onsets, 30)) / 240
    score = beat_consistency_set([pulsing(), short], [onsets, onsets], 30)
    assert score == pytest.approx(expected)
    with pytest.raises(ValueError, match="longer clip"):
        beat_consistency(pulsing(frames=100), onsets, 30)
    with pytest.raises(ValueError, match="mean_velocity"):
        beat_consistency(motion, onsets, 30, mean_velocity=np.ones(3))


def test_pmb_hand_computed():
    # motion beats (Bailando's) of a joint slowest at steps 30, 90, 150, 210 at 60 fps:
    # 0.5, 1.5, 2.5, 3.5 s. Audio beats 0.6, 1.75, 2.5, 5.0: matched within 0.2 s: 0.5, 2.5.
    steps = 1.1 - np.cos(2 * np.pi * (np.arange(240) - 30) / 60)
    m = np.zeros((241, 1, 3))
    m[1:, 0, 0] = np.cumsum(steps) * 0.01
    audio = np.array([0.6, 1.75, 2.5, 5.0])
    assert pmb(m, audio, 60) == pytest.approx(50.0)
    # shifted 0.1 s earlier, 0.5, 1.5 and 2.5 match: 2 + 3 of 8 beats
    assert pmb_set([m, m], [audio, audio - 0.1], 60) == pytest.approx(100 * (2 + 3) / 8)
    assert pmb(np.zeros((50, 1, 3)), audio, 60) == 0.0


def test_l1div_hand_computed():
    a = np.array([[[0.0, 0.0, 0.0]], [[2.0, 4.0, 0.0]]])  # |dev| per frame: 1 + 2 + 0
    b = np.array([[[0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]], [[3.0, 0.0, 0.0]]])  # 1 + 1 + 2 in all
    assert l1div([a]) == pytest.approx(3.0)
    assert l1div([a, b]) == pytest.approx((6 + 4) / 5)
    assert l1div([np.repeat(a[:1], 7, axis=0)]) == 0.0


def test_maje_and_mad_hand_computed_and_frame_rate_independent():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(40, 16, 3))
    shifted = truth.copy()
    shifted[..., 1] += 0.1
    assert maje([shifted], [truth]) == pytest.approx(0.1 / 3)
    assert mad([shifted], [truth], 20) == pytest.approx(0.0, abs=1e-12)
    assert maje([truth], [truth]) == 0.0

    def accelerating(fps: float) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(round(2 * fps)) / fps
        base = np.zeros((t.size, 16, 3))
        moved = base.copy()
        moved[:, :, 0] = 0.5 * 4.0 * t[:, None] ** 2  # 4 m/s^2 along x
        return moved, base

    # 4 m/s^2 = 0.01 m per frame^2 at RACER's 20 fps, on one coordinate of three
    assert mad(*map(lambda x: [x], accelerating(20)), 20) == pytest.approx(0.01 / 3)
    assert mad(*map(lambda x: [x], accelerating(60)), 60) == pytest.approx(0.01 / 3)
    with pytest.raises(ValueError, match="clip 0"):
        maje([truth[:10]], [truth])
    with pytest.raises(ValueError, match="clip i"):
        maje([truth], [truth, truth])
