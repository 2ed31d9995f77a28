"""Each hand-designed reward ranks corpus motion above the corruption its formula penalises.

Motion is scored the way an env scores it: token by token (8 frames), each step seeing the last
W frames ending with the new ones, frames before the start repeating the first frame.
"""

from __future__ import annotations

import numpy as np
import pytest

from gesture_gym.data import load_corpus
from gesture_gym.motion.rotations import axis_rotation
from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY
from gesture_gym.render.video import beat_mask
from gesture_gym.rewards import RewardInputs, make_reward, registered_rewards
from reward_models.hand_designed import MODELS

FPT = 8  # frames per token of the shipped tokenizers
DANCE_ONLY = {"orientation", "foot_skating", "floor_contact"}


def step_inputs(motion, beats, fps, skeleton, window, end) -> RewardInputs:
    """The RewardInputs of the step whose new frames end at frame ``end`` (exclusive)."""
    b = len(motion)
    idx = np.maximum(end - window + np.arange(window), 0)
    return RewardInputs(
        fps=fps, skeleton=skeleton, motion=motion[:, idx], new_frames=FPT,
        audio=np.zeros((b, window, 2), np.float32), audio_layout={"x": slice(0, 2)},
        audio_beats=beats[:, idx], tokens=np.zeros((b, 4), np.int64),
        frame_start=np.full(b, end - FPT), clip_ids=tuple(f"c{i}" for i in range(b)),
    )  # fmt: skip


def episode_mean(name, motion, beats, fps, skeleton) -> np.ndarray:
    """(B,) mean per-step value of the single-term reward ``name`` over whole clips."""
    model = make_reward(name, skeleton=skeleton, fps=fps)
    motion = np.asarray(motion, np.float32)
    beats = np.broadcast_to(beats, motion.shape[:2])
    steps = range(2 * FPT, motion.shape[1] + 1, FPT)  # the first token is the ground truth's
    return np.mean(
        [model(step_inputs(motion, beats, fps, skeleton, model.window, e))[name] for e in steps],
        axis=0,
    )


@pytest.fixture(scope="module")
def dance():
    return load_corpus("music-dance", "train")[:3]


@pytest.fixture(scope="module")
def speech():
    return load_corpus("speech-gesture", "train")[:3]


def half_beat_shift(clip) -> np.ndarray:
    """The clip's motion delayed by half its median beat period (kinematic beats between beats)."""
    shift = int(round(np.median(np.diff(clip.beats)) * clip.fps / 2))
    return np.concatenate([np.repeat(clip.motion[:1], shift, 0), clip.motion[:-shift]])


def score(name, clip, *variants) -> np.ndarray:
    """Mean step reward of the clip's ground truth followed by each variant of its motion."""
    motion = np.stack([clip.motion, *variants])
    beats = beat_mask(clip.beats, clip.fps, clip.n_frames)
    return episode_mean(name, motion, beats, clip.fps, clip.skeleton)


@pytest.mark.parametrize("name", ["beat_bailando", "beat_gaussian"])
def test_beat_rewards_prefer_dance_on_the_beat(name, dance):
    """Ground truth beats a frozen pose on every clip and motion shifted half a beat in total."""
    totals = np.zeros(3)
    for clip in dance:
        gt, frozen, shifted = score(name, clip, np.repeat(clip.motion[:1], clip.n_frames, 0),
                                    half_beat_shift(clip))  # fmt: skip
        assert gt > frozen
        totals += (gt, frozen, shifted)
    assert totals[0] > totals[2] + 0.2 * abs(totals[0])


def test_bailando_rule_is_all_or_nothing(dance):
    """(music beat x dance beat - 0.5) x 10: -5 for a frozen pose (no dance beat), else +-5."""
    clip = dance[0]
    frozen = np.repeat(clip.motion[:1], clip.n_frames, 0)[None].astype(np.float32)
    both = np.stack([clip.motion, frozen[0]]).astype(np.float32)
    beats = np.broadcast_to(beat_mask(clip.beats, clip.fps, clip.n_frames), both.shape[:2])
    model = make_reward("beat_bailando", skeleton=clip.skeleton, fps=clip.fps)
    values = np.stack([
        model(step_inputs(both, beats, clip.fps, clip.skeleton, model.window, e))["beat_bailando"]
        for e in range(2 * FPT, clip.n_frames + 1, FPT)
    ])  # fmt: skip
    assert set(np.unique(values[:, 0])) == {-5.0, 5.0}
    np.testing.assert_array_equal(values[:, 1], -5.0)


def test_beat_gaussian_prefers_gestures_on_stressed_syllables(speech):
    gt = shifted = 0.0
    for clip in speech:
        g, s = score("beat_gaussian", clip, half_beat_shift(clip))
        gt, shifted = gt + g, shifted + s
    assert gt > shifted


def twist_upper_body(clip, angle: float) -> np.ndarray:
    """Turn the upper body about the vertical axis through the spine, the legs staying put."""
    sk, m = clip.skeleton, clip.motion.copy()
    upper = list(sk.parts["upper"])
    pivot = clip.motion[:, sk.index("spine1")][:, None]
    m[:, upper] = (clip.motion[:, upper] - pivot) @ axis_rotation(angle, "y").T + pivot
    return m


def test_orientation_is_the_cosine_between_upper_and_lower_facing(dance):
    for clip in dance:
        twisted = (twist_upper_body(clip, a) for a in (np.pi / 2, np.pi))
        gt, q, h = score("orientation", clip, *twisted)
        assert gt > 0.9
        assert q < gt - 0.5 and h < -0.9


def test_smoothness_penalises_jitter_and_not_stillness(speech, dance):
    rng = np.random.default_rng(0)
    for clip in (*speech, *dance):
        jitter = clip.motion + rng.normal(scale=0.01, size=clip.motion.shape)
        frozen = np.repeat(clip.motion[:1], clip.n_frames, 0)
        gt, jittered, still = score("smoothness", clip, jitter, frozen)
        assert jittered < 5 * gt < 0 and still == 0.0


def test_foot_skating_penalises_sliding_feet(dance):
    for clip in dance:
        slide = clip.motion.copy()
        slide[..., 0] += np.linspace(0.0, 3.0, clip.n_frames)[:, None]  # 0.3 m/s through floor
        lifted = clip.motion + np.array([0.0, 0.5, 0.0])  # no foot in contact: nothing slides
        gt, sliding, flying = score("foot_skating", clip, slide, lifted)
        assert sliding < gt - 0.05 and flying == 0.0 and gt > -0.1


def test_floor_contact_penalises_floating_and_sinking(dance):
    for clip in dance:
        assert clip.motion[..., 1].min() >= 0.0  # the corpus stands on y = 0
        gt, up, down = score("floor_contact", clip, clip.motion + [0, 0.1, 0],
                             clip.motion - [0, 0.1, 0])  # fmt: skip
        # 10 per metre: lifting every frame by 10 cm costs exactly 1 more
        assert up == pytest.approx(gt - 1.0, abs=1e-4)
        assert down < gt


def hyperextend_elbows(clip) -> np.ndarray:
    """Mirror each forearm across its upper-arm line: flexion becomes hyperextension."""
    sk, m = clip.skeleton, clip.motion.copy()
    for side in ("left", "right"):
        s, e = sk.index(f"{side}_shoulder"), sk.index(f"{side}_elbow")
        u = m[:, e] - m[:, s]
        u /= np.linalg.norm(u, axis=-1, keepdims=True)
        for j in (sk.index(f"{side}_wrist"), sk.index(f"{side}_hand")):
            f = clip.motion[:, j] - clip.motion[:, e]
            m[:, j] = m[:, e] + 2 * np.sum(f * u, -1, keepdims=True) * u - f
    return m


def test_pose_plausibility_penalises_stretched_bones_and_bent_back_elbows(speech, dance):
    for clip in (*speech, *dance):
        root = clip.motion[:, :1]
        stretched = root + 1.15 * (clip.motion - root)
        gt, stretch, bent = score("pose_plausibility", clip, stretched, hyperextend_elbows(clip))
        assert gt > -0.1
        # bone weight 10 x 15% longer bones; the joint angles do not change
        assert stretch == pytest.approx(gt - 1.5, abs=1e-3)
        assert bent < gt - 0.3


@pytest.mark.parametrize("name", [m.name for m in MODELS])
def test_a_batch_scores_like_single_envs(name, speech, dance):
    clips = dance if name in DANCE_ONLY or name == "beat_bailando" else speech
    clip = clips[0]
    rng = np.random.default_rng(1)
    motion = np.stack([c.motion for c in clips]).astype(np.float32)
    motion[1] += rng.normal(scale=0.02, size=motion[1].shape).astype(np.float32)
    beats = np.stack([beat_mask(c.beats, c.fps, c.n_frames) for c in clips])
    model = make_reward(name, skeleton=clip.skeleton, fps=clip.fps)
    for end in (FPT, 5 * FPT, clip.n_frames):
        batch = model(step_inputs(motion, beats, clip.fps, clip.skeleton, model.window, end))
        for i in range(len(clips)):
            one = model(step_inputs(motion[i : i + 1], beats[i : i + 1], clip.fps, clip.skeleton,
                                    model.window, end))  # fmt: skip
            np.testing.assert_allclose(batch[name][i], one[name][0], rtol=1e-5, atol=1e-6)
        assert batch[name].dtype == np.float32 and batch[name].shape == (len(clips),)


def test_every_hand_designed_model_is_registered():
    assert {m.name for m in MODELS} <= set(registered_rewards())


def test_dance_rewards_name_the_joints_an_upper_body_lacks():
    for name in DANCE_ONLY:
        with pytest.raises(ValueError, match=r"needs joints .*upper_body"):
            make_reward(name, skeleton=UPPER_BODY, fps=20)


def test_a_window_too_short_for_the_model_is_a_clear_error():
    model = make_reward("beat_bailando", skeleton=SMPL24, fps=30)
    motion = np.zeros((1, FPT + 1, 24, 3), np.float32)
    inputs = step_inputs(motion, np.zeros((1, FPT + 1), bool), 30, SMPL24, FPT + 1, FPT + 1)
    with pytest.raises(ValueError, match="beat_bailando.*window of 9"):
        model(inputs)


def test_pose_plausibility_refuses_limits_outside_a_joints_range():
    from reward_models.hand_designed import PosePlausibilityConfig

    with pytest.raises(ValueError, match="max_hyperextension must be in"):
        PosePlausibilityConfig(max_hyperextension=-5.0)
    with pytest.raises(ValueError, match="elbow_max_flexion must be in"):
        PosePlausibilityConfig(elbow_max_flexion=200.0)


@pytest.mark.parametrize(
    "name", sorted({m.name for m in MODELS} - {"beat_bailando", "beat_gaussian"})
)
def test_nan_motion_scores_nan_and_only_in_its_env(name):
    """A NaN frame (a broken decoder) must not earn a finite reward, nor spoil other envs. (The
    beat terms score events: NaN motion has no kinematic beat, which they score as such.)"""
    skeleton = SMPL24
    model = make_reward(name, skeleton=skeleton, fps=30)
    motion = np.broadcast_to(skeleton.rest_pose(), (2, model.window, 24, 3)).astype(np.float32)
    motion[1, -1] = np.nan
    beats = np.ones((2, model.window), bool)
    inputs = step_inputs(motion, beats, 30.0, skeleton, model.window, model.window)
    score = model(inputs)[name]
    assert np.isfinite(score[0]) and np.isnan(score[1])


def test_beat_rewards_without_smoothing_find_the_raw_speed_minima():
    from reward_models.hand_designed import BeatBailando, BeatBailandoConfig

    model = BeatBailando.create(skeleton=SMPL24, fps=30, config=BeatBailandoConfig(sigma_s=0.0))
    rng = np.random.default_rng(0)
    motion = SMPL24.rest_pose() + np.cumsum(rng.normal(0, 0.01, (2, model.window, 24, 3)), 1)
    inputs = step_inputs(motion.astype(np.float32), np.ones((2, model.window), bool), 30.0,
                         SMPL24, model.window, model.window)  # fmt: skip
    assert set(model(inputs)["beat_bailando"]) <= {-5.0, 5.0}
