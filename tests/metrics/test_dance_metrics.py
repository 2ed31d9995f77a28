import numpy as np
import pytest

from gesture_gym.metrics import dance
from gesture_gym.metrics.dance import (
    HL,
    div_g,
    div_k,
    fid_g,
    fid_g_corrected,
    fid_k,
    geometric_features,
    kinetic_features,
    preprocess,
)
from gesture_gym.motion.skeleton import SMPL24

REST = SMPL24.rest_pose()  # a T-pose, y up, facing +z, left is +x


def dance_clip(rng: np.random.Generator, seconds: float = 4.0, fps: float = 30.0) -> np.ndarray:
    """A smooth random SMPL-24 dance: sums of sinusoids on every joint angle and the root."""
    t = np.arange(round(seconds * fps)) / fps
    freq = rng.uniform(0.3, 2.5, size=(3, 24, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(3, 24, 3))
    amp = rng.normal(scale=0.25, size=(3, 24, 3))
    rot = (amp * np.sin(2 * np.pi * freq * t[:, None, None, None] + phase)).sum(axis=1)
    f_root, p_root = rng.uniform(0.1, 1.0, 3), rng.uniform(0, 2 * np.pi, 3)
    root = np.array([0.0, 0.9, 0.0]) + 0.2 * np.sin(2 * np.pi * f_root * t[:, None] + p_root)
    return SMPL24.forward_kinematics(rot, root, axis_angle=True).astype(np.float32)


def static(pose: np.ndarray, frames: int = 5) -> np.ndarray:
    return np.repeat(pose[None], frames, axis=0)


def test_kinetic_features_hand_computed():
    # One joint steps by 1 m between frames 1 and 2 at 60 fps (window 2, frame time 1/60):
    # windowed velocities at i = 1..4 average 1/3, 1/4, 1/4, 1/3 of a step per frame, i.e.
    # 20, 15, 15, 20 m/s -> mean squared speed (400 + 225 + 225 + 400) / 4 = 312.5.
    # Second differences (x 3600) at k = 1, 2, 3 are 3600, -3600, 0; the windows of i = 1..3 hold
    # all three (mean 0) and i = 4 holds k = 2, 3 (mean -1800) -> expenditure 1800 / 4 = 450.
    p = np.zeros((5, 24, 3))
    p[:, 3, 0] = [0, 0, 1, 1, 1]  # horizontal step of joint 3
    p[:, 5, 1] = [0, 0, 1, 1, 1]  # vertical step of joint 5
    f = kinetic_features(p, fps=60).reshape(24, 3)
    np.testing.assert_allclose(f[3], [312.5, 0.0, 450.0], rtol=1e-6)
    np.testing.assert_allclose(f[5], [0.0, 312.5, 450.0], rtol=1e-6)
    assert not f[[0, 1, 2, 4, 6]].any()


def test_kinetic_features_of_uniform_motion_and_frame_rate_conversion():
    # constant velocity (1, 0, 2) m/s: horizontal energy 1 + 4, vertical 0, no acceleration
    t = np.arange(120) / 60.0
    p = np.broadcast_to(REST, (120, 24, 3)) + (t[:, None] * [1.0, 0.0, 2.0])[:, None, :]
    f = kinetic_features(p, fps=60).reshape(24, 3)
    np.testing.assert_allclose(f, np.broadcast_to([5.0, 0.0, 0.0], f.shape), atol=1e-6)
    # the same dance sampled at 60 and 30 fps has nearly the same features (the 2-frame window
    # becomes 1 frame; a window of whole frames cannot span exactly the same time)
    clip = dance_clip(np.random.default_rng(0), seconds=6.0, fps=60.0)
    f60, f30 = kinetic_features(clip, 60), kinetic_features(clip[::2], 30)
    assert np.abs(f60 - f30).sum() / np.abs(f60).sum() < 0.1


def test_geometric_features_of_a_t_pose():
    # Static, so no velocity test fires. True: 9 (wrists 1.44 m apart > 2.5 shoulder widths),
    # 24/25 (upper arms at 90 deg to neck->root, inside (25, 180)) and 16: the left ankle lies
    # 0.19 m on the normal side of the plane (root, rhip, rtoes). Its mirror, 15, is False:
    # the reference lists the plane's points in the same order for both sides, so the normal
    # of 15 points away from the right ankle (an asymmetry of the reference, kept as it is).
    # Everything else is False: straight elbows and knees (180 deg), feet on the ground, wrists
    # high, trunk vertical (neck->root at 180 deg to y).
    f = geometric_features(static(REST))
    assert set(np.flatnonzero(f)) == {8, 15, 23, 24}
    assert f.dtype == np.float32 and f.shape == (32,)


def test_geometric_foot_raised_and_velocity_quirk():
    raised = REST.copy()
    raised[8, 1] += 0.4  # right ankle 0.46 m above the lowest joint > 1.2 humerus lengths
    assert geometric_features(static(raised))[16] == 1.0
    assert geometric_features(static(REST))[16] == 0.0

    # the whole body translates at 0.4 m/s: the reference's velocities use a frame time of
    # 1/120 s on 60 fps data, so it sees 0.8 m/s, above the wrist/ankle/root "fast" thresholds
    # (2.5 and 2.3 humerus lengths per second = 0.64, 0.59); the corrected variant does not.
    frames = np.arange(30)[:, None, None]
    moving = REST[None] + frames * np.array([0.4 / 60, 0.0, 0.0])
    fast = [12, 13, 21, 22, 31]
    assert 2.3 * HL > 0.4 and 2 * 0.4 > 2.5 * HL
    np.testing.assert_array_equal(geometric_features(moving, 60)[fast], 1.0)
    np.testing.assert_array_equal(geometric_features(moving, 60, corrected=True)[fast], 0.0)
    # the same motion at 30 fps (twice the step per frame) gives the same answers
    np.testing.assert_array_equal(
        geometric_features(moving[::2], 30), geometric_features(moving, 60)
    )


def test_geometric_move_quirk_reads_the_wrong_joint():
    # Feature 5 is move(belly, chest, chest, rwrist): "the right wrist moves up relative to the
    # chest". The reference tests the chest relative to the belly instead (its 4th joint is
    # never read); the corrected variant tests the wrist. Speeds 0.5 m/s at 60 fps.
    step = np.zeros((10, 24, 3))
    step[:, :, 1] = np.arange(10)[:, None] * 0.5 / 60
    wrist_up, chest_up = static(REST, 10).copy(), static(REST, 10).copy()
    wrist_up[:, 21] += step[:, 21]
    chest_up[:, 9] += step[:, 9]
    assert geometric_features(wrist_up, 60)[4] == 0.0
    assert geometric_features(wrist_up, 60, corrected=True)[4] == 1.0
    assert geometric_features(chest_up, 60)[4] == 1.0
    assert geometric_features(chest_up, 60, corrected=True)[4] == 0.0


def test_preprocessing_keeps_20_seconds_and_removes_the_first_root_position():
    clip = dance_clip(np.random.default_rng(1), seconds=25.0, fps=30.0)
    p = preprocess(clip, fps=30)
    assert p.shape == (600, 24, 3)
    np.testing.assert_allclose(p[0, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(p[5] - p[5, 0], clip[5] - clip[5, 0], atol=1e-6)
    with pytest.raises(ValueError, match="24"):
        preprocess(np.zeros((10, 16, 3)))
    with pytest.raises(ValueError, match="NaN"):
        preprocess(np.full((10, 24, 3), np.nan))


@pytest.fixture(scope="module")
def dance_sets():
    rng = np.random.default_rng(7)
    return [dance_clip(rng) for _ in range(24)], [dance_clip(rng) for _ in range(40)]


@pytest.mark.parametrize("fid", [fid_k, fid_g, fid_g_corrected], ids=lambda f: f.__name__)
def test_fid_is_zero_against_itself_and_grows_with_noise(dance_sets, fid):
    gen, ref = dance_sets
    assert fid(ref, ref, 30) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(3)
    noises = [rng.normal(size=m.shape) for m in ref]
    scores = [
        fid([m + s * n for m, n in zip(ref, noises, strict=True)], ref, 30)
        for s in (0.002, 0.01, 0.03, 0.1)
    ]
    assert all(a < b for a, b in zip(scores, scores[1:], strict=False)), scores
    assert fid(gen, ref, 30) < scores[-1]


def test_fid_and_div_do_not_depend_on_clip_order(dance_sets):
    gen, ref = dance_sets
    order = np.random.default_rng(0).permutation(len(gen))
    shuffled = [gen[i] for i in order]
    for metric in (fid_k, fid_g, div_k, div_g):
        assert metric(shuffled, ref[::-1], 30) == pytest.approx(metric(gen, ref, 30), rel=1e-7)


def test_div_of_identical_copies_is_zero_and_of_distinct_clips_positive(dance_sets):
    gen, ref = dance_sets
    copies = [gen[0]] * 10
    assert div_k(copies, ref, 30) == pytest.approx(0.0, abs=1e-9)
    assert div_g(copies, ref, 30) == pytest.approx(0.0, abs=1e-9)
    assert div_k(gen, ref, 30) > 1.0


def test_normalisation_quirk_and_its_correction():
    # A geometric feature that never holds in the reference set has std 0; the reference divides
    # by std + 1e-10, so a generated set where it sometimes holds gets an astronomical FID_g.
    ref = np.random.default_rng(0).uniform(size=(30, 32))
    ref[:, 0] = 0.0
    gen = ref + 0.01
    assert dance.fid_from_features(gen, ref) > 1e12
    assert dance.fid_from_features(gen, ref, corrected=True) < 1.0
