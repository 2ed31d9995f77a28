"""Each hand-designed reward equals a straightforward reference of its formula on random inputs.

The models score a batch at once in reorganised layouts (reward_models/hand_designed.py); the
references below follow the docstrings one env at a time, in float64, with np.linalg.norm, np.cross
and scipy. Random motion around the rest pose covers still, smooth and wild envs (bones stretched,
elbows and knees bent past their limits, feet sliding and floating), with and without audio beats.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY
from gesture_gym.rewards import RewardInputs, default_reward, make_reward
from reward_models.hand_designed import FEET, LIMBS, MODELS

UP = np.array([0.0, 1.0, 0.0])


def random_inputs(skeleton, fps, new_frames, window, seed) -> RewardInputs:
    rng = np.random.default_rng(seed)
    b = 12
    scale = np.array([0.0, 0.0, 0.003, 0.01, 0.03, 0.1] * 2)[:, None, None, None]
    walk = np.cumsum(rng.normal(size=(b, window, skeleton.n_joints, 3)), axis=1) * scale
    motion = skeleton.rest_pose() + [0.0, 0.9, 0.0] + walk
    motion[1] += rng.normal(scale=0.05, size=motion.shape[2:])  # still, in a distorted pose
    motion[6, : window // 2] = motion[6, window // 2]  # still, then moving
    motion[-1, :, :, 1] -= 1.0  # sunk into the floor
    beats = rng.random((b, window)) < 0.15
    beats[:2] = False  # no audio beat at all
    return RewardInputs(
        fps=fps, skeleton=skeleton, motion=motion.astype(np.float32), new_frames=new_frames,
        audio=None, audio_layout={}, audio_beats=beats, tokens=np.zeros((b, 4), np.int64),
        frame_start=np.full(b, 100), clip_ids=tuple(map(str, range(b))),
    )  # fmt: skip


def kinematic_beat_mask(motion, fps, sigma):
    """(T, J, 3) -> (T,) minima of the smoothed mean joint speed (first frame repeats the second)."""
    speed = np.linalg.norm(np.diff(motion, axis=0), axis=-1).mean(axis=1) * fps
    curve = gaussian_filter1d(np.concatenate([speed[:1], speed]), sigma)
    mask = np.zeros(len(curve), dtype=bool)
    mask[argrelextrema(curve, np.less)[0]] = True
    return mask


def facing(line):
    """Horizontal unit normal (line x up) of a left-right line."""
    f = np.cross(line, UP)
    return f / np.linalg.norm(f)


def beat_bailando(model, x, b):
    n, d = x.new_frames, model.delay
    frames = n + model.context
    kinematic = kinematic_beat_mask(x.motion[b, -frames:], x.fps, model.sigma)[-n - d : -d]
    hit = kinematic.any() and x.audio_beats[b, -n - d : -d].any()
    return (hit - 0.5) * model.config.scale


def beat_gaussian(model, x, b):
    n, d = x.new_frames, model.delay
    w = n + model.context
    beats = np.flatnonzero(kinematic_beat_mask(x.motion[b, -w:], x.fps, model.sigma))
    audio = np.flatnonzero(x.audio_beats[b, -w:])
    scored = [k for k in beats if w - n - d <= k < w - d]
    if not scored or not len(audio):
        return 0.0
    dist = [np.abs(audio - k).min() / x.fps for k in scored]
    return np.mean(np.exp(-0.5 * (np.array(dist) / model.config.tolerance_s) ** 2))


def orientation(model, x, b):
    sk = x.skeleton
    m = x.motion[b, -x.new_frames :]
    shoulders = m[:, sk.index("left_shoulder")] - m[:, sk.index("right_shoulder")]
    hips = m[:, sk.index("left_hip")] - m[:, sk.index("right_hip")]
    return min(facing(s) @ facing(h) for s, h in zip(shoulders, hips, strict=True))


def smoothness(model, x, b):
    jerk = np.diff(x.motion[b, -(x.new_frames + 3) :], n=3, axis=0) * x.fps**3
    return -model.config.scale * np.mean(np.sum(jerk**2, axis=-1))


def foot_skating(model, x, b):
    c = model.config
    feet = x.motion[b, -(x.new_frames + 1) :, [x.skeleton.index(f) for f in FEET]]  # (4, T, 3)
    total = 0.0
    for t in range(1, feet.shape[1]):
        lowest = np.argmin(feet[:, t, 1])
        if feet[lowest, t, 1] < c.floor_height + c.contact_height:
            total += np.linalg.norm((feet[lowest, t] - feet[lowest, t - 1])[[0, 2]]) * x.fps
    return -c.scale * total / x.new_frames


def floor_contact(model, x, b):
    feet = x.motion[b, -x.new_frames :, [x.skeleton.index(f) for f in FEET], 1]
    return -model.config.scale * np.mean(np.abs(feet.min(axis=0) - model.config.floor_height))


def pose_plausibility(model, x, b):
    c, sk = model.config, x.skeleton
    m = x.motion[b, -x.new_frames :]
    bones = np.linalg.norm(m[:, 1:] - m[:, list(sk.parents[1:])], axis=-1)
    e_bone = np.mean(np.abs(bones / sk.bone_lengths() - 1.0))
    e_angle = 0.0
    for prox, hinge, distal, pair, side in LIMBS:
        if not {prox, hinge, distal} <= set(sk.joint_names):
            continue
        j = {name: m[:, sk.index(name)] for name in (prox, hinge, distal)}
        line = m[:, sk.index(f"left_{pair}")] - m[:, sk.index(f"right_{pair}")]
        limit = c.elbow_max_flexion if side > 0 else c.knee_max_flexion
        for t in range(len(m)):
            u = (j[hinge][t] - j[prox][t]) / np.linalg.norm(j[hinge][t] - j[prox][t])
            low = (j[distal][t] - j[hinge][t]) / np.linalg.norm(j[distal][t] - j[hinge][t])
            flexion = math.degrees(math.acos(np.clip(u @ low, -1.0, 1.0)))
            lean = (low - (u @ low) * u) @ facing(line[t])
            hyper = math.degrees(math.asin(np.clip(-side * lean, 0.0, 1.0)))
            excess = max(flexion - limit, 0.0) + max(hyper - c.max_hyperextension, 0.0)
            e_angle += math.radians(excess) / len(m)
    return -(c.bone_weight * e_bone + c.angle_weight * e_angle)


REFERENCES = {f.__name__: f for f in (beat_bailando, beat_gaussian, orientation, smoothness,
                                     foot_skating, floor_contact, pose_plausibility)}  # fmt: skip


DANCE_ONLY = {"orientation", "foot_skating", "floor_contact"}  # need legs and feet
CASES = [
    (name, skeleton, fps, new_frames)
    for name in REFERENCES
    for skeleton, fps, new_frames in [
        (SMPL24, 30.0, 4),
        (SMPL24, 60.0, 8),
        (UPPER_BODY, 20.0, 4),
        (UPPER_BODY, 15.0, 8),
    ]  # fmt: skip
    if not (name in DANCE_ONLY and skeleton is UPPER_BODY)
]


def test_every_model_has_a_reference():
    assert set(REFERENCES) == {m.name for m in MODELS}


@pytest.mark.parametrize(("name", "skeleton", "fps", "new_frames"), CASES,
                         ids=lambda v: getattr(v, "name", v))  # fmt: skip
def test_reward_equals_its_reference(name, skeleton, fps, new_frames):
    model = make_reward(name, skeleton=skeleton, fps=fps).models[0]
    for seed in range(3):
        x = random_inputs(skeleton, fps, new_frames, model.window, seed)
        got = model(x)[name]
        assert got.dtype == np.float32 and got.shape == (x.batch_size,)
        x64 = RewardInputs(**{**vars(x), "motion": x.motion.astype(np.float64)})
        expected = [REFERENCES[name](model, x64, b) for b in range(x.batch_size)]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"seed {seed}")


@pytest.mark.parametrize(("kind", "skeleton", "fps"), [("speech", UPPER_BODY, 20.0),
                                                       ("dance", SMPL24, 30.0)])  # fmt: skip
def test_default_composites_score_their_references(kind, skeleton, fps):
    """The terms of one step share work (one copy of the recent frames): each still equals its
    reference, and the total is the weighted sum."""
    composite = make_reward(default_reward(kind), skeleton=skeleton, fps=fps)
    x = random_inputs(skeleton, fps, 4, composite.window, seed=5)
    x64 = RewardInputs(**{**vars(x), "motion": x.motion.astype(np.float64)})
    total, terms = composite.score(x)
    for model in composite.models:
        expected = [REFERENCES[model.name](model, x64, b) for b in range(x.batch_size)]
        np.testing.assert_allclose(terms[model.name], expected, rtol=1e-4, atol=1e-5)
    weighted = sum(w * terms[name] for name, w in default_reward(kind).items())
    np.testing.assert_allclose(total, weighted, rtol=1e-5, atol=1e-4)
