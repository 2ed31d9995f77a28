"""The single envs, parametrised over every registered id: the API checkers, reproducibility,
pickling, rendering, action validation, the info contract, observations and reset options."""

import dataclasses
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
import soundfile as sf
import torch
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import gesture_gym  # noqa: F401  (registers the ids)
from agents import rollout
from agents.baselines import GroundTruthReplay
from gesture_gym.audio import AudioError
from gesture_gym.envs import ENVS, InvalidActionError
from gesture_gym.envs.core import mean_jerk
from gesture_gym.envs.observation import WORD_BUCKETS, word_id
from gesture_gym.metrics import beat_align_score
from gesture_gym.rewards import MissingInputError, SwapReward, register_reward

torch.set_num_threads(1)
ENV_IDS = sorted(ENVS)
KW = {"n_clips": 3}  # few clips: the corpus cache stays warm across runs


def make(env_id, **kwargs):
    return gym.make(env_id, **{**KW, **kwargs})


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_and_sb3_checkers_pass_without_warnings(env_id):
    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)
        sb3_check_env(env.unwrapped)


def _rollout_50(env_id, seed):
    env = make(env_id)
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [(obs, info["clip_id"])]
    for _ in range(50):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace.append((obs, reward, terminated, info["tokens"], info["reward_terms"]))
        if terminated:
            obs, info = env.reset()
            trace.append((obs, info["clip_id"]))
    return trace


def _equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(a, b)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeded_50_step_rollout_is_identical_twice_and_differs_with_the_seed(env_id):
    first, second = _rollout_50(env_id, 7), _rollout_50(env_id, 7)
    assert len(first) == len(second)
    assert all(_equal(a, b) for a, b in zip(first, second, strict=True))
    other = _rollout_50(env_id, 8)
    assert not all(_equal(a, b) for a, b in zip(first, other, strict=False))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_pickled_env_continues_exactly_like_the_original(env_id):
    env = make(env_id)
    env.reset(seed=3)
    for _ in range(3):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(5):
        action = env.action_space.sample()
        a, b = env.step(action), clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4] and _equal(a[4]["reward_terms"], b[4]["reward_terms"])
    np.testing.assert_array_equal(
        env.unwrapped.generated_motion(), clone.unwrapped.generated_motion()
    )


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_render_mode(env_id):
    env = make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    for _ in range(3):
        env.step(env.action_space.sample())
    assert not np.array_equal(first, env.render())  # the pose and the audio strip move on
    human = make(env_id, render_mode="human")  # off-screen here: draws without a window
    human.reset(seed=0)
    human.step(human.action_space.sample())
    assert human.render() is None
    human.close()
    with pytest.raises(ValueError, match="render_mode"):
        type(env.unwrapped)(render_mode="ascii", **KW)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_invalid_actions_raise_clear_errors(env_id):
    env = make(env_id)
    env.reset(seed=0)
    space = env.action_space
    high = np.atleast_1d(space.n if isinstance(space, gym.spaces.Discrete) else space.nvec)
    valid = np.asarray(space.sample())
    with pytest.raises(InvalidActionError, match=f"{env_id}.*out of range"):
        env.step(np.full_like(valid, high.max()))
    with pytest.raises(InvalidActionError, match="out of range"):
        env.step(np.full_like(valid, -1))
    with pytest.raises(InvalidActionError, match="shape"):
        env.step(np.zeros(valid.shape + (3,), np.int64))
    with pytest.raises(InvalidActionError, match="integer"):
        env.step(valid.astype(np.float32))
    env.step(valid)  # the env is still usable


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_info_contract_and_episode_end(env_id):
    env = make(env_id, clip_length=6)
    obs, info = env.reset(seed=1)
    keys = set(info)
    assert keys == {"reward_terms", "tokens", "frame_range", "clip_id"}
    assert all(v == 0.0 for v in info["reward_terms"].values())
    fpt = env.unwrapped.core.frames_per_token
    np.testing.assert_array_equal(info["frame_range"], [0, fpt])
    steps = 0
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert not truncated
        np.testing.assert_array_equal(info["frame_range"], [steps * fpt, (steps + 1) * fpt])
        total = sum(info["reward_terms"].values())  # default weights are not all 1: just finite
        assert np.isfinite(total) and np.isfinite(reward)
        if terminated:
            break
        assert set(info) == keys
    assert steps == 5  # 6 tokens: the given first one and 5 actions
    assert set(info) == keys | {"episode_metrics"}
    metrics = info["episode_metrics"]
    assert set(metrics) == {"beat_align", "jerk"} and 0 <= metrics["beat_align"] <= 1
    motion = env.unwrapped.generated_motion()
    assert motion.shape[0] == 6 * fpt
    # the metrics describe the whole generated motion of the episode
    fps = env.unwrapped.core.fps
    assert metrics["jerk"] == pytest.approx(mean_jerk(motion, fps), rel=1e-5)
    beats = env.unwrapped.core.episodes[0].beat_times
    assert metrics["beat_align"] == pytest.approx(beat_align_score(motion, beats, fps))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ground_truth_replay_decodes_the_clips_tokens_exactly(env_id):
    """Step-by-step decoding in the env equals decoding the clip's token sequence at once."""
    env = make(env_id, split="val")
    episode = rollout(env, GroundTruthReplay(env), options={"clip": 0})
    core = env.unwrapped.core
    clip = core.clips[0]
    tokens = core.codec.tokens_of(clip)
    np.testing.assert_array_equal(episode.actions, tokens[1 : len(episode.actions) + 1])
    decoded = core.codec.tokenizer.decode(tokens[: len(episode.actions) + 1])
    np.testing.assert_allclose(episode.motion, decoded, atol=1e-4)


def test_flat_observation_slices_hold_the_documented_values():
    env = make("CoSpeechGesture-v0", audio_context=(4, 12), history=3)
    core = env.unwrapped.core
    layout = env.unwrapped.observation_layout
    obs, info = env.reset(options={"clip": 1})
    for _ in range(4):
        obs, _, _, _, info = env.step(env.action_space.sample())
    t, fpt = 5, core.frames_per_token
    clip = core.clips[1]
    frames = np.clip(np.arange(t * fpt - 4, (t + 1) * fpt + 12), 0, clip.n_frames - 1)
    expected = np.clip((clip.features.matrix()[frames] - core.stats.mean) / core.stats.std, -10, 10)
    np.testing.assert_allclose(obs[layout["audio"]].reshape(len(frames), -1), expected, atol=1e-5)
    codes = core._codes[0][info["tokens"]]
    np.testing.assert_allclose(obs[layout["tokens"]], codes.ravel())
    assert obs[layout["progress"]][0] == pytest.approx(t / (clip.n_frames // fpt))
    assert obs.shape == env.observation_space.shape and obs in env.observation_space


def test_a_dance_observation_holds_each_parts_code_vectors_side_by_side():
    env = make("MusicDance-v0", history=3)
    core = env.unwrapped.core
    env.reset(seed=0)
    for _ in range(3):
        obs, _, _, _, info = env.step(env.action_space.sample())
    tokens = info["tokens"]  # (H, 2) [upper, lower]
    upper, lower = (core._codes[p][tokens[:, p]] for p in range(2))
    expected = np.concatenate([upper, lower], axis=-1)  # (H, C_upper + C_lower)
    np.testing.assert_array_equal(obs[env.unwrapped.observation_layout["tokens"]], expected.ravel())


def test_observations_are_normalised_with_training_statistics():
    env = make("MusicDance-v0", split="train", n_clips=6)
    audio = env.unwrapped.observation_layout["audio"]
    rows = []
    for clip in range(6):
        obs, _ = env.reset(options={"clip": clip})
        rows.append(obs[audio])
    rows = np.concatenate(rows)
    assert abs(rows.mean()) < 0.3 and 0.5 < rows.std() < 1.5


def test_dict_mode_and_text_give_raw_token_ids_and_words():
    env = make("CoSpeechGesture-v0", observation_mode="dict", text=True)
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space
    np.testing.assert_array_equal(obs["tokens"], info["tokens"])
    for _ in range(6):
        obs, _, _, _, info = env.step(env.action_space.sample())
    np.testing.assert_array_equal(obs["tokens"], info["tokens"])
    clip = env.unwrapped.core.clips[env.unwrapped.core.episodes[0].clip_index]
    spoken = {word_id(w.text) for w in clip.words}
    assert set(np.unique(obs["words"])) - {0} <= spoken
    flat = make("CoSpeechGesture-v0", text=True)
    seen = np.zeros(WORD_BUCKETS)
    obs, _ = flat.reset(seed=0)
    while True:
        seen += obs[flat.unwrapped.observation_layout["text"]]
        obs, _, terminated, _, _ = flat.step(flat.action_space.sample())
        if terminated:
            break
    assert seen[0] == 0 and seen.sum() > 0
    assert set(np.flatnonzero(seen)) <= {
        word_id(w.text) for c in flat.unwrapped.core.clips for w in c.words
    }
    with pytest.raises(ValueError, match="text"):
        make("MusicDance-v0", text=True)


@dataclasses.dataclass(frozen=True)
class _NoConfig:
    """The (empty) config of the test reward: it follows the RewardModel protocol fully."""


class _NeedsGroundTruth:
    """A test reward: negative distance of the new frames to the ground truth."""

    name = "test_gt_distance"
    config = _NoConfig()
    needs = frozenset({"motion", "ground_truth"})
    window = 8

    def reset(self, env_indices):
        pass

    def __call__(self, inputs):
        n = inputs.new_frames
        d = np.linalg.norm(inputs.motion[:, -n:] - inputs.ground_truth[:, -n:], axis=-1)
        return {self.name: -d.mean(axis=(1, 2)).astype(np.float32)}


@pytest.mark.parametrize("env_id", ["CoSpeechGesture-v0", "MusicDance-v0"])
def test_an_episode_on_a_users_audio_file_runs_to_the_end_of_the_audio(env_id, tmp_path):
    env = make(env_id)
    clip = env.unwrapped.core.clips[0]
    path = tmp_path / "user.wav"  # two clips' worth: longer than any corpus episode
    sf.write(path, np.concatenate([clip.audio, clip.audio]), clip.sample_rate)
    obs, info = env.reset(options={"audio": path})
    assert info["clip_id"] == str(path) and obs in env.observation_space
    steps = 1
    while not env.step(env.action_space.sample())[2]:
        steps += 1
    assert steps + 1 == 2 * clip.n_frames // env.unwrapped.core.frames_per_token
    with pytest.raises(ValueError, match="ground-truth"):
        env.unwrapped.expert_action()
    with pytest.raises(AudioError, match="missing.wav"):
        env.reset(options={"audio": tmp_path / "missing.wav"})


def test_rewards_needing_ground_truth_work_on_clips_and_say_what_is_missing_on_user_audio(tmp_path):
    register_reward(_NeedsGroundTruth.name, _factory)
    env = make("CoSpeechGesture-v0", reward={_NeedsGroundTruth.name: 1.0})
    env.reset(options={"clip": 0})
    _, reward, _, _, info = env.step(env.unwrapped.expert_action())
    assert reward == info["reward_terms"][_NeedsGroundTruth.name] < 0
    clip = env.unwrapped.core.clips[0]
    path = tmp_path / "talk.wav"
    sf.write(path, clip.audio, clip.sample_rate)
    with pytest.raises(MissingInputError, match=f"{_NeedsGroundTruth.name}.*ground_truth"):
        env.reset(options={"audio": path})
    with pytest.raises(ValueError, match="options"):
        env.reset(options={"clip": 0, "audio": path})


def test_a_refused_reward_swap_leaves_the_env_as_it_was(tmp_path):
    register_reward(_NeedsGroundTruth.name, _factory)
    env = make("CoSpeechGesture-v0", reward="smoothness")
    clip = env.unwrapped.core.clips[0]
    path = tmp_path / "talk.wav"
    sf.write(path, clip.audio, clip.sample_rate)
    env.reset(options={"audio": path})  # no ground truth in this episode
    with pytest.raises(MissingInputError, match="ground_truth"):
        env.unwrapped.set_reward(_NeedsGroundTruth.name)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert set(info["reward_terms"]) == {"smoothness"}


def _factory(*, skeleton, fps):
    return _NeedsGroundTruth()


def test_reward_specs_and_swapping():
    env = make("CoSpeechGesture-v0", reward={"smoothness": 2.0, "pose_plausibility": 0.5})
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    terms = info["reward_terms"]
    assert set(terms) == {"smoothness", "pose_plausibility"}
    assert reward == pytest.approx(
        2.0 * terms["smoothness"] + 0.5 * terms["pose_plausibility"], rel=1e-5
    )
    env = SwapReward(env, "smoothness")  # ablations swap the reward of any env
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert (
        set(info["reward_terms"]) == {"smoothness"} and reward == info["reward_terms"]["smoothness"]
    )
    with pytest.raises(KeyError, match="unknown reward"):
        make("CoSpeechGesture-v0", reward="no_such_reward")
