"""Episodes from the envs as offline data (d3rlpy MDPDataset) and the two baselines."""

import d3rlpy
import gymnasium as gym
import numpy as np
import pytest
import torch
from d3rlpy.constants import ActionSpace
from d3rlpy.dataset import MDPDataset

import gesture_gym  # noqa: F401
from agents import rollout
from agents.baselines import GroundTruthReplay, UniformRandom
from gesture_gym.envs import ENVS

torch.set_num_threads(1)
ENV_IDS = sorted(ENVS)
KW = {"n_clips": 3, "clip_length": 6}


def to_mdp_dataset(episodes, action_space):
    """Build the MDPDataset directly (d3rlpy's get_minari misaligns observations): each
    episode's observations without the one after its last step, one terminal flag at its end.
    Discrete actions as d3rlpy discrete actions; a MultiDiscrete pair as a 2-d action vector."""
    discrete = isinstance(action_space, gym.spaces.Discrete)
    terminals = np.concatenate([np.eye(len(e.actions))[-1] for e in episodes]).astype(np.float32)
    actions = np.concatenate([e.actions for e in episodes])
    return MDPDataset(
        observations=np.concatenate([e.observations[:-1] for e in episodes]),
        actions=actions.reshape(len(actions), -1).astype(np.int64 if discrete else np.float32),
        rewards=np.concatenate([e.rewards for e in episodes]),
        terminals=terminals,
        action_space=ActionSpace.DISCRETE if discrete else ActionSpace.CONTINUOUS,
        action_size=action_space.n if discrete else len(action_space.nvec),
    )


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_episodes_load_into_an_mdp_dataset_with_aligned_observations_and_actions(env_id):
    env = gym.make(env_id, **KW)
    episodes = [
        rollout(env, GroundTruthReplay(env), options={"clip": 0}),
        rollout(env, UniformRandom(env.action_space, seed=1), seed=2),
    ]
    dataset = to_mdp_dataset(episodes, env.action_space)
    assert len(dataset.episodes) == 2
    for stored, episode in zip(dataset.episodes, episodes, strict=True):
        n = len(episode.actions)
        np.testing.assert_array_equal(stored.observations, episode.observations[:-1])
        np.testing.assert_array_equal(stored.actions.reshape(n, -1), episode.actions.reshape(n, -1))
        np.testing.assert_allclose(stored.rewards.ravel(), episode.rewards)
        assert stored.terminated
    # obs[i] is what the agent saw when it chose actions[i]: the token history of obs[i + 1]
    # ends with actions[i]
    layout = env.unwrapped.observation_layout["tokens"]
    core = env.unwrapped.core
    e = episodes[1]
    for i in range(len(e.actions)):
        last = core.code_vectors(np.asarray(e.actions[i])[None])[0]
        np.testing.assert_allclose(e.observations[i + 1][layout][-last.size :], last)
    if isinstance(env.action_space, gym.spaces.Discrete):  # a discrete-CQL step consumes it
        cql = d3rlpy.algos.DiscreteCQLConfig(batch_size=8).create(device="cpu:0")
        cql.fit(dataset, n_steps=2, n_steps_per_epoch=2, show_progress=False,
                logger_adapter=d3rlpy.logging.NoopAdapterFactory())  # fmt: skip
        assert cql.predict(episodes[0].observations[:3]).shape == (3,)


def test_ground_truth_replay_and_uniform_random_in_the_vector_env():
    venv = gym.make_vec("MusicDance-v0", num_envs=4, vectorization_mode="vector_entry_point", **KW)
    _, info = venv.reset(seed=0)
    core = venv.unwrapped.core
    replay = GroundTruthReplay(venv)
    for t in range(1, 5):
        actions = replay.act(None, info)
        for i in range(4):
            np.testing.assert_array_equal(actions[i], core.episodes[i].tokens[t])
        _, _, _, _, info = venv.step(actions)
    random_a = UniformRandom(venv.action_space, seed=3)
    random_b = UniformRandom(venv.action_space, seed=3)
    draws = np.stack([random_a.act(None, {}) for _ in range(200)])
    np.testing.assert_array_equal(draws[0], random_b.act(None, {}))  # same seed, same tokens
    random_b.reset(seed=4)
    assert not np.array_equal(draws[1], random_b.act(None, {}))
    sizes = np.array(core.codec.sizes)
    assert draws.shape == (200, 4, 2) and (draws < sizes).all() and draws.min() >= 0
    uniform = sizes * (1 - np.exp(-800 / sizes))  # distinct codes expected in 800 uniform draws
    assert (np.array([len(np.unique(draws[..., p])) for p in range(2)]) > 0.8 * uniform).all()
