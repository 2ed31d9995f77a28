import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from gesture_gym.data import load_corpus
from gesture_gym.metrics.beat_align import (
    bailando_motion_beats,
    beat_align_score,
    beat_align_score_fact,
    fact_motion_beats,
)
from gesture_gym.metrics.common import nearest_distance


def sway(fps: float = 60.0, seconds: float = 4.0) -> np.ndarray:
    """One joint moving along x, its step per frame 1.1 - cos(2 pi (i - 30) / 60) at 60 fps:
    slowest at steps i = 30, 90, 150, 210 (i is the step from frame i to i + 1)."""
    steps = 1.1 - np.cos(2 * np.pi * (np.arange(round(seconds * 60)) - 30) / 60)
    x = np.concatenate([[0.0], np.cumsum(steps)]) * 0.01
    m = np.zeros((x.size, 1, 3))
    m[:, 0, 0] = x
    return m[:: round(60 / fps)]


MUSIC = np.array([30, 93, 150, 200, 260]) / 60.0  # seconds; 260 lies beyond the 241 frames


def test_bailando_bas_hand_computed():
    # Bailando indexes speeds by step: beats at 30, 90, 150, 210. Music beats within the first
    # T - 1 = 240 frames are 30, 93, 150, 200: nearest-beat distances 0, 3, 0, 10 frames.
    motion = sway()
    np.testing.assert_array_equal(bailando_motion_beats(motion, 60), [30, 90, 150, 210])
    expected = (1 + np.exp(-9 / 18) + 1 + np.exp(-100 / 18)) / 4
    assert beat_align_score(motion, MUSIC, 60) == pytest.approx(expected, rel=1e-12)


def test_fact_bas_hand_computed():
    # FACT pads a zero speed at frame 0, so its beats are frames 31, 91, 151, 211; it averages
    # over those motion beats: distances to the music beats 30, 93, 150, 200 are 1, 2, 1, 11.
    motion = sway()
    np.testing.assert_array_equal(fact_motion_beats(motion, 60), [31, 91, 151, 211])
    expected = np.mean(np.exp(-np.array([1, 4, 1, 121]) / 18))
    assert beat_align_score_fact(motion, MUSIC, 60) == pytest.approx(expected, rel=1e-12)


def test_the_two_variants_disagree_on_spurious_motion_beats():
    # Jitter adds motion beats between the music beats: Bailando's score (over music beats)
    # cannot drop, FACT's (over motion beats) does. Both references behave this way.
    motion = sway()
    jitter = motion.copy()
    jitter[1::2, 0, 0] += 0.004
    music = np.array([30, 90, 150, 210]) / 60.0
    assert beat_align_score(jitter, music, 60) >= beat_align_score(motion, music, 60) - 1e-9
    assert beat_align_score_fact(jitter, music, 60) < beat_align_score_fact(motion, music, 60) - 0.1


def test_parameters_follow_the_frame_rate():
    # the same motion at 30 fps: smoothing, neighbourhood and Gaussian width are halved in
    # frames, so the scores agree with the 60 fps ones
    music = np.array([30, 93, 150, 200]) / 60.0
    m60, m30 = sway(60), sway(30)
    assert beat_align_score(m30, music, 30) == pytest.approx(
        beat_align_score(m60, music, 60), abs=0.1
    )
    assert beat_align_score_fact(m30, music, 30) == pytest.approx(
        beat_align_score_fact(m60, music, 60), abs=0.1
    )


def test_degenerate_inputs():
    still = np.zeros((100, 24, 3))
    assert beat_align_score(still, MUSIC, 60) == 0.0  # no motion beats
    assert beat_align_score_fact(still, MUSIC, 60) == 0.0
    assert beat_align_score(sway(), [], 60) == 0.0  # no music beats
    assert beat_align_score_fact(sway(), [], 60) == 0.0
    with pytest.raises(ValueError, match="frames, joints, 3"):
        beat_align_score(np.zeros((100, 3)), MUSIC, 60)
    with pytest.raises(ValueError, match="fps"):
        beat_align_score(sway(), MUSIC, 0)


@pytest.mark.parametrize(
    "score", [beat_align_score, beat_align_score_fact], ids=lambda f: f.__name__
)
def test_ground_truth_dance_aligns_with_its_own_music_not_shifted_music(score):
    clips = load_corpus("music-dance", "test")[:8]
    own = np.mean([score(c.motion, c.beats, c.fps) for c in clips])
    for shift in (-0.15, 0.1, 0.2):
        shifted = np.mean([score(c.motion, c.beats + shift, c.fps) for c in clips])
        assert own > shifted + 0.2, (shift, own, shifted)
    half_beat = [c.beats + np.median(np.diff(c.beats)) / 2 for c in clips]
    assert (
        own
        > np.mean([score(c.motion, b, c.fps) for c, b in zip(clips, half_beat, strict=True)]) + 0.2
    )


def test_bailando_beats_follow_scipy_smoothing_and_argrelextrema():
    """The compiled motion beats are the reference's: gaussian_filter1d (reflect, truncate 4) of
    the mean joint displacement, then argrelextrema(np.less); also for motion shorter than the
    smoothing kernel (repeated reflection) and at every frame rate."""
    rng = np.random.default_rng(1)

    def reference(m: np.ndarray, fps: float) -> np.ndarray:
        speed = np.linalg.norm(np.diff(np.asarray(m, np.float64), axis=0), axis=-1).mean(axis=1)
        return argrelextrema(gaussian_filter1d(speed, 5 * fps / 60), np.less)[0]

    clips = [*load_corpus("music-dance", "test")[:3], *load_corpus("speech-gesture", "test")[:3]]
    for c in clips:
        noisy = c.motion + rng.normal(scale=0.01, size=c.motion.shape)
        np.testing.assert_array_equal(bailando_motion_beats(noisy, c.fps), reference(noisy, c.fps))
    for frames in (2, 3, 4, 6, 9, 17, 40):
        for fps in (20.0, 30.0, 60.0):
            m = rng.normal(size=(frames, 4, 3))
            np.testing.assert_array_equal(bailando_motion_beats(m, fps), reference(m, fps))


def test_float32_motion_scores_as_its_float64_copy():
    """An env's float32 motion is measured in float32 (no float64 copy per episode): the motion
    beats and scores equal those of the float64 motion, jittered or not."""
    rng = np.random.default_rng(0)
    for c in [*load_corpus("music-dance", "test")[:4], *load_corpus("speech-gesture", "test")[:4]]:
        for m in (c.motion, c.motion + rng.normal(scale=0.01, size=c.motion.shape)):
            m32, m64 = m.astype(np.float32), m.astype(np.float32).astype(np.float64)
            np.testing.assert_array_equal(
                bailando_motion_beats(m32, c.fps), bailando_motion_beats(m64, c.fps)
            )
            assert beat_align_score(m32, c.beats, c.fps) == beat_align_score(m64, c.beats, c.fps)


def test_nearest_distance_is_the_brute_force_minimum():
    rng = np.random.default_rng(0)
    for _ in range(300):
        targets = rng.integers(0, 40, size=rng.integers(0, 6)).astype(float)
        queries = rng.integers(-5, 45, size=rng.integers(0, 8)).astype(float)
        brute = np.abs(queries[:, None] - targets).min(axis=1, initial=np.inf)
        np.testing.assert_array_equal(nearest_distance(queries, targets), brute)
