"""The natively batched vector env (both autoreset modes), the SB3 adapter and PPO on it."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

import gesture_gym  # noqa: F401
from gesture_gym.envs import ENVS, make_sb3_vec_env

torch.set_num_threads(1)
ENV_IDS = sorted(ENVS)
KW = {"n_clips": 3, "clip_length": 4}  # short episodes: several resets within a few steps


def make_vec(env_id, num_envs, **kwargs):
    return gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **{**KW, **kwargs}
    )


# Batched and single decoding agree to float rounding (~1e-6 m); reward terms with thresholds
# (foot contact, kinematic beats) can turn that into a different value, so the comparison of
# sub-envs with single envs scores with a continuous reward (jerk).
SMOOTH = {"reward": "smoothness"}


def _trace(env_id, mode, num_envs=3, steps=11, seed=5):
    venv = make_vec(env_id, num_envs, autoreset_mode=mode, **SMOOTH)
    obs, info = venv.reset(seed=seed)
    venv.action_space.seed(seed)
    trace = [(None, obs, None, None, info)]
    for _ in range(steps):
        actions = venv.action_space.sample()
        obs, reward, terminated, truncated, info = venv.step(actions)
        assert not truncated.any()
        trace.append((actions, obs, reward, terminated, info))
    return trace


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_sub_env_matches_a_single_env_on_the_same_clips(env_id, mode):
    """Batching changes nothing: each sub-env's observations, rewards, terms and ends equal a
    single env's given the same clips and actions, through both autoreset conventions."""
    trace = _trace(env_id, mode)
    fpt = None
    for i in range(3):
        single = gym.make(env_id, **KW, **SMOOTH)
        obs, info = single.reset(options={"clip": trace[0][4]["clip_id"][i]})
        fpt = single.unwrapped.core.frames_per_token
        _close(obs, trace[0][1][i])
        autoreset = False
        for k in range(1, len(trace)):
            actions, vobs, vreward, vterm, vinfo = trace[k]
            if autoreset:  # Gymnasium 1.0: the step after the end resets and ignores the action
                obs, info = single.reset(options={"clip": vinfo["clip_id"][i]})
                assert vreward[i] == 0 and not vterm[i]
                assert all(v[i] == 0 for key, v in vinfo["reward_terms"].items() if key[0] != "_")
                np.testing.assert_array_equal(vinfo["frame_range"][i], [0, fpt])
                _close(obs, vobs[i])
                autoreset = False
                continue
            obs, reward, terminated, _, info = single.step(actions[i])
            assert vterm[i] == terminated
            assert vreward[i] == pytest.approx(reward, rel=1e-3, abs=1e-5)
            for term, value in info["reward_terms"].items():
                assert vinfo["reward_terms"][term][i] == pytest.approx(value, rel=1e-3, abs=1e-5)
            np.testing.assert_array_equal(vinfo["tokens"][i], info["tokens"])
            if terminated:
                assert vinfo["_episode_metrics"][i]
                for name, value in info["episode_metrics"].items():
                    assert vinfo["episode_metrics"][name][i] == pytest.approx(value, rel=1e-3)
            if terminated and mode == "same_step":
                _close(vinfo["final_obs"][i], obs)
                if k + 1 < len(trace):  # the next episode started within this step
                    obs, _ = single.reset(options={"clip": trace[k + 1][4]["clip_id"][i]})
                    _close(vobs[i], obs)
            else:
                _close(vobs[i], obs)
            autoreset = terminated and mode == "next_step"


def test_one_decoder_call_and_one_reward_call_per_step():
    venv = make_vec("CoSpeechGesture-v0", 8)
    core = venv.unwrapped.core
    calls = {"decoder": 0, "reward": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    core.decoder.step = counted("decoder", core.decoder.step)
    core.reward.score = counted("reward", core.reward.score)
    venv.reset(seed=0)
    for _ in range(10):  # crosses episode ends (clip_length=4) and autoresets
        venv.step(venv.action_space.sample())
    assert calls == {"decoder": 11, "reward": 11}


@pytest.mark.parametrize("observation_mode", ["flat", "dict"])
def test_sb3_adapter_resets_in_the_same_step_with_terminal_observations(observation_mode):
    venv = make_sb3_vec_env(
        "MusicDance-v0", num_envs=3, monitor=False, observation_mode=observation_mode, **KW
    )
    venv.seed(4)
    obs = venv.reset()
    layout = venv.venv.observation_layout
    dones_seen = 0
    for _ in range(7):
        obs, reward, dones, infos = venv.step(
            np.stack([venv.action_space.sample() for _ in range(3)])
        )
        for i, info in enumerate(infos):
            assert {"reward_terms", "tokens", "frame_range", "clip_id"} <= set(info)
            if dones[i]:
                dones_seen += 1
                final = info["terminal_observation"]
                progress = (
                    final["progress"] if observation_mode == "dict" else final[layout["progress"]]
                )
                now = (
                    obs["progress"][i] if observation_mode == "dict" else obs[i, layout["progress"]]
                )
                assert progress[0] == 1.0 and now[0] == pytest.approx(1 / 4)  # a fresh episode
                assert info["TimeLimit.truncated"] is False and "episode_metrics" in info
            else:
                assert "terminal_observation" not in info
    assert dones_seen == 6  # 3 envs x 2 episodes of 3 actions in 7 steps
    with pytest.raises(ValueError, match="same_step"):
        from gesture_gym.envs import SB3VecEnv

        SB3VecEnv(make_vec("MusicDance-v0", 2))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ppo_trains_a_few_thousand_steps_through_the_adapter(env_id):
    venv = make_sb3_vec_env(env_id, num_envs=8, n_clips=3)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, n_epochs=1, seed=0, device="cpu")
    model.learn(2048)
    assert model.num_timesteps >= 2048
    assert len(model.ep_info_buffer) > 0  # VecMonitor saw whole episodes end
    assert all(np.isfinite(e["r"]) for e in model.ep_info_buffer)


def test_ppo_runs_on_dict_observations():
    venv = make_sb3_vec_env("CoSpeechGesture-v0", num_envs=4, observation_mode="dict", **KW)
    model = PPO(
        "MultiInputPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(256)
    assert len(model.ep_info_buffer) > 0


def test_vector_env_renders_one_frame_per_env():
    venv = make_vec("MusicDanceFullBody-v0", 2, render_mode="rgb_array")
    venv.reset(seed=0)
    frames = venv.render()
    assert len(frames) == 2 and all(f.dtype == np.uint8 and f.ndim == 3 for f in frames)
