"""The RewardModel protocol, the registry, composites, defaults, errors and the swap wrapper."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY
from gesture_gym.rewards import (
    CompositeReward,
    MissingInputError,
    RewardInputs,
    RewardModel,
    default_reward,
    make_reward,
    register_reward,
    registered_rewards,
)
from reward_models.hand_designed import MODELS, Smoothness

FPS = 20.0


def inputs(b: int = 3, w: int = 40, skeleton=UPPER_BODY, ground_truth: bool = False, seed=0):
    rng = np.random.default_rng(seed)
    motion = (
        skeleton.rest_pose()
        + [0.0, 1.0, 0.0]
        + rng.normal(scale=0.02, size=(b, w, skeleton.n_joints, 3))
    )
    motion = motion.astype(np.float32)
    return RewardInputs(
        fps=FPS, skeleton=skeleton, motion=motion, new_frames=8,
        audio=rng.normal(size=(b, w, 4)).astype(np.float32), audio_layout={"mel": slice(0, 4)},
        audio_beats=rng.random((b, w)) < 0.1, tokens=rng.integers(0, 512, (b, 5)),
        frame_start=np.full(b, 64), clip_ids=tuple(f"clip{i}" for i in range(b)),
        ground_truth=motion + np.float32(0.05) if ground_truth else None,
    )  # fmt: skip


@dataclass(frozen=True)
class DistanceConfig:
    scale: float = 1.0


class GroundTruthDistance:
    """A third-party model: negative distance of the new frames to the ground truth; it counts
    the steps of each env since its reset (explicit per-episode state)."""

    name = "gt_distance"
    needs = frozenset({"motion", "ground_truth"})
    window = 8

    def __init__(self, *, skeleton, fps, config=None):
        self.config = config or DistanceConfig()
        self.steps: dict[int, int] = {}

    def reset(self, env_indices: np.ndarray) -> None:
        for i in env_indices:
            self.steps[int(i)] = 0

    def __call__(self, x: RewardInputs) -> dict[str, np.ndarray]:
        for i in range(x.batch_size):
            self.steps[i] = self.steps.get(i, 0) + 1
        d = np.linalg.norm(
            x.motion[:, -x.new_frames :] - x.ground_truth[:, -x.new_frames :], axis=-1
        )
        return {self.name: (-self.config.scale * d.mean(axis=(1, 2))).astype(np.float32)}


register_reward("gt_distance", GroundTruthDistance)


def test_make_reward_by_name_instance_and_mapping():
    x = inputs()
    by_name = make_reward("smoothness", skeleton=UPPER_BODY, fps=FPS)
    instance = Smoothness.create(skeleton=UPPER_BODY, fps=FPS)
    by_instance = make_reward(instance, skeleton=UPPER_BODY, fps=FPS)
    assert isinstance(by_name, CompositeReward) and by_instance.models == (instance,)
    np.testing.assert_array_equal(by_name(x)["smoothness"], by_instance(x)["smoothness"])

    mapping = make_reward({"smoothness": 0.5, "beat_gaussian": 2.0}, skeleton=UPPER_BODY, fps=FPS)
    total, terms = mapping.score(x)
    assert set(terms) == {"smoothness", "beat_gaussian"}
    np.testing.assert_allclose(
        total, 0.5 * terms["smoothness"] + 2.0 * terms["beat_gaussian"], rtol=1e-6
    )
    assert total.dtype == np.float32 and total.shape == (3,)
    assert mapping.window == max(m.window for m in mapping.models)
    assert mapping.needs == frozenset({"motion", "audio_beats"})
    assert make_reward(mapping, skeleton=UPPER_BODY, fps=FPS) is mapping


def test_every_registered_model_follows_the_protocol():
    for name in registered_rewards():
        skeleton = SMPL24  # has every joint any hand-designed reward needs
        model = make_reward(name, skeleton=skeleton, fps=FPS).models[0]
        assert isinstance(model, RewardModel) and model.name == name
        assert model.needs <= {"motion", "audio", "audio_beats", "tokens", "ground_truth"}
        assert model.window >= 8
        config = model.config
        assert dataclasses.is_dataclass(config) and config.__dataclass_params__.frozen
        again = type(config)(**json.loads(json.dumps(dataclasses.asdict(config))))
        assert again == config


def test_unknown_names_list_the_registered_ones():
    with pytest.raises(KeyError, match=r"unknown reward 'beat_align'.*beat_bailando.*smoothness"):
        make_reward("beat_align", skeleton=UPPER_BODY, fps=FPS)
    with pytest.raises(KeyError, match="unknown reward 'nope'"):
        make_reward({"smoothness": 1.0, "nope": 1.0}, skeleton=UPPER_BODY, fps=FPS)
    with pytest.raises(ValueError, match="finite weight"):
        make_reward({"smoothness": float("nan")}, skeleton=UPPER_BODY, fps=FPS)
    with pytest.raises(TypeError, match="registered name, a RewardModel instance or a mapping"):
        make_reward(3, skeleton=UPPER_BODY, fps=FPS)
    odd = GroundTruthDistance(skeleton=UPPER_BODY, fps=FPS)
    odd.needs = frozenset({"motion", "video"})
    with pytest.raises(ValueError, match=r"'gt_distance' needs \['video'\], which are not"):
        make_reward(odd, skeleton=UPPER_BODY, fps=FPS)


def test_names_resolve_without_importing_reward_models_first():
    """reward_models registers itself the first time gesture_gym.rewards meets an unknown name."""
    code = (
        "import sys; from gesture_gym.rewards import make_reward; "
        "from gesture_gym.motion.skeleton import UPPER_BODY; "
        "assert 'reward_models' not in sys.modules; "
        "r = make_reward('smoothness', skeleton=UPPER_BODY, fps=20); "
        "print(type(r.models[0]).__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "reward_models.hand_designed"


def test_registration_is_idempotent_and_refuses_a_second_factory():
    register_reward("gt_distance", GroundTruthDistance)  # the same factory again: fine
    for model in MODELS:
        register_reward(model.name, model.create)  # what a re-import of the module does
    with pytest.raises(ValueError, match="'smoothness' is already registered"):
        register_reward("smoothness", GroundTruthDistance)


def test_a_third_party_model_joins_a_composite_and_needs_ground_truth():
    reward = make_reward({"gt_distance": 1.0, "smoothness": 1.0}, skeleton=UPPER_BODY, fps=FPS)
    total, terms = reward.score(inputs(ground_truth=True))
    assert set(terms) == {"gt_distance", "smoothness"} and np.all(terms["gt_distance"] < 0)
    with pytest.raises(MissingInputError, match="'gt_distance' needs ground_truth"):
        reward.score(inputs(ground_truth=False))
    with pytest.raises(
        MissingInputError, match=r"'gt_distance' needs ground_truth, which the episode on 'my.wav'"
    ):
        reward.check_available(
            {"motion", "audio", "audio_beats", "tokens"}, "the episode on 'my.wav'"
        )
    reward.check_available({"motion", "audio_beats", "ground_truth"}, "a corpus clip")


def test_reset_reaches_every_part_and_only_the_given_envs():
    reward = make_reward({"gt_distance": 1.0, "smoothness": 1.0}, skeleton=UPPER_BODY, fps=FPS)
    counter = reward.models[0]
    x = inputs(ground_truth=True)
    reward(x)
    reward(x)
    reward.reset(np.array([1]))
    assert counter.steps == {0: 2, 1: 0, 2: 2}


@pytest.mark.parametrize("name", [m.name for m in MODELS])
def test_hand_designed_models_keep_no_state(name):
    """Scores depend on the step's inputs only: not on earlier calls, not on resets."""
    model = make_reward(name, skeleton=SMPL24, fps=FPS)
    x, y = (
        inputs(skeleton=SMPL24, w=model.window, seed=1),
        inputs(skeleton=SMPL24, w=model.window, seed=2),
    )
    first = model(x)
    model(y)
    model.reset(np.array([0, 2]))
    again = model(x)
    np.testing.assert_array_equal(first[name], again[name])


def test_default_rewards_are_registered_composites():
    for kind, skeleton in (("speech", UPPER_BODY), ("dance", SMPL24)):
        spec = default_reward(kind)
        reward = make_reward(spec, skeleton=skeleton, fps=FPS)
        total, terms = reward.score(inputs(skeleton=skeleton, w=reward.window))
        assert set(terms) == set(spec) and np.all(np.isfinite(total))
        assert "ground_truth" not in reward.needs  # defaults also run on user audio
    assert {"beat_bailando", "orientation"} <= set(default_reward("dance"))
    with pytest.raises(ValueError, match="'speech' or 'dance'"):
        default_reward("music")


def test_reward_inputs_check_their_shapes():
    x = inputs()
    with pytest.raises(ValueError, match="motion has shape"):
        dataclasses.replace(x, motion=x.motion[..., :2])
    with pytest.raises(ValueError, match="audio_beats has shape"):
        dataclasses.replace(x, audio_beats=x.audio_beats[:, 1:])
    with pytest.raises(ValueError, match="new_frames=50"):
        dataclasses.replace(x, new_frames=50)
    with pytest.raises(ValueError, match="audio_beats is required"):
        dataclasses.replace(x, audio_beats=None)


def test_swap_reward_changes_the_terms_of_an_env():
    import gymnasium as gym

    import gesture_gym  # noqa: F401  (registers the env ids)
    from gesture_gym.rewards import SwapReward

    env = SwapReward(gym.make("CoSpeechGesture-v0", n_clips=2), {"smoothness": 2.0})
    assert env.spec.additional_wrappers[-1].kwargs == {"reward": {"smoothness": 2.0}}
    _, info = env.reset(seed=0)
    assert set(info["reward_terms"]) == {"smoothness"}
    _, reward, *_, info = env.step(env.action_space.sample())
    assert reward == pytest.approx(2.0 * info["reward_terms"]["smoothness"], rel=1e-5)
    env.close()
    with pytest.raises(TypeError, match="set_reward"):
        SwapReward(gym.make("CartPole-v1"), "smoothness")
