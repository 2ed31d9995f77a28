"""The vectorised motion descriptors equal straightforward references on random motion.

The references are the textbook forms (np.linalg.norm of np.diff, scipy's gaussian_filter1d and
argrelextrema, one clip at a time); the implementations reorganise them for batched reward steps.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from gesture_gym.motion.features import (
    SMOOTHING_MATRIX_FRAMES,
    gaussian_smooth,
    joint_displacement,
    joint_speed,
    kinematic_beat_mask,
    kinematic_beats,
    local_minima,
    mean_joint_speed,
)


def random_motion(shape, dtype, seed=0, frozen=0) -> np.ndarray:
    """(..., T, J, 3) random walks; the first ``frozen`` frames repeat (zero speeds, ties)."""
    rng = np.random.default_rng(seed)
    m = np.cumsum(rng.normal(scale=0.02, size=shape), axis=-3) + rng.normal(size=shape[-2:])
    m[..., :frozen, :, :] = m[..., frozen : frozen + 1, :, :]
    return m.astype(dtype)


def reference_speed(clip: np.ndarray, fps: float) -> np.ndarray:
    """(T, J, 3) -> (T, J) as joint_speed defines it, in float64."""
    v = np.linalg.norm(np.diff(clip.astype(np.float64), axis=0), axis=-1) * fps
    return np.concatenate([v[:1], v])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(40, 5, 3), (6, 19, 24, 3), (2, 3, 12, 16, 3)])
def test_joint_speeds_match_norms_of_frame_differences(shape, dtype):
    motion = random_motion(shape, dtype, frozen=3)
    clips = motion.reshape(-1, *shape[-3:])
    speed, mean = joint_speed(motion, 30.0), mean_joint_speed(motion, 30.0)
    assert speed.dtype == mean.dtype == dtype
    assert speed.shape == shape[:-1] and mean.shape == shape[:-2]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for clip, s, ms, d in zip(
        clips,
        speed.reshape(-1, *shape[-3:-1]),
        mean.reshape(-1, shape[-3]),
        joint_displacement(motion).reshape(-1, shape[-3] - 1, shape[-2]),
        strict=True,
    ):
        ref = reference_speed(clip, 30.0)
        np.testing.assert_allclose(s, ref, rtol=rtol, atol=1e-12)
        np.testing.assert_allclose(ms, ref.mean(axis=1), rtol=rtol, atol=1e-12)
        np.testing.assert_allclose(d, ref[1:] / 30.0, rtol=rtol, atol=1e-12)
        np.testing.assert_array_equal(s[:4], 0.0)  # frozen frames are exactly still


def test_degenerate_lengths():
    assert joint_speed(np.zeros((1, 4, 3)), 30).shape == (1, 4)
    assert joint_displacement(np.zeros((1, 4, 3))).shape == (0, 4)
    np.testing.assert_array_equal(mean_joint_speed(np.ones((3, 1, 4, 3), np.float32), 30), 0.0)


@pytest.mark.parametrize("n", [5, 23, SMOOTHING_MATRIX_FRAMES + 50])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_smooth_is_scipys_filter_along_the_first_axis(n, dtype):
    x = np.random.default_rng(n).random((n, 7)).astype(dtype)
    for sigma in (0.8, 2.5):
        out = gaussian_smooth(x, sigma)
        assert out.dtype == dtype and out.shape == x.shape
        ref = gaussian_filter1d(x.astype(np.float64), sigma, axis=0)
        np.testing.assert_allclose(out, ref, rtol=1e-6 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(gaussian_smooth(x[:, 3], sigma), out[:, 3], rtol=1e-6)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_local_minima_is_argrelextrema_as_a_mask(order):
    rng = np.random.default_rng(order)
    for shape in [(1,), (2,), (9,), (30, 5), (25, 2, 3)]:
        x = rng.integers(0, 4, size=shape).astype(float)  # many ties and plateaus
        expected = np.zeros(shape, dtype=bool)
        expected[argrelextrema(x, np.less, axis=0, order=order)] = True
        np.testing.assert_array_equal(local_minima(x, order), expected)
    with pytest.raises(ValueError, match="order"):
        local_minima(np.zeros(5), 0)


@pytest.mark.parametrize("sigma", [0.0, 1.7, 2.5])
def test_kinematic_beats_of_a_batch_are_each_clips_reference_beats(sigma):
    """Minima of the smoothed mean speed, as scipy finds them clip by clip (float32 motion, as in
    a reward step; frozen frames make exact ties)."""
    motion = random_motion((8, 23, 24, 3), np.float32, seed=3, frozen=6)
    mask = kinematic_beat_mask(motion, 30.0, sigma=sigma)
    assert mask.shape == (8, 23) and mask.any()
    for clip, row in zip(motion, mask, strict=True):
        curve = reference_speed(clip, 30.0).mean(axis=1).astype(np.float32)
        if sigma > 0:
            curve = gaussian_filter1d(curve, sigma)
        np.testing.assert_array_equal(np.flatnonzero(row), argrelextrema(curve, np.less)[0])
        np.testing.assert_array_equal(kinematic_beats(clip, 30.0, sigma=sigma), np.flatnonzero(row))
