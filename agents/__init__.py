"""Agents for the token-motion envs: the Agent protocol, episode roll-outs and baselines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np


@runtime_checkable
class Agent(Protocol):
    """Picks token actions from observations (and the env's info, for oracle baselines)."""

    name: str

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode (re-seed the agent's randomness when ``seed`` is given)."""

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        """The action for this observation."""


@dataclass(frozen=True, eq=False)
class Episode:
    """One finished episode of a single env.

    Attributes:
        clip_id: the clip (or audio file) it ran on.
        observations: (T + 1, ...) observations, the last one after the final step (a dict of
            such arrays in Dict mode).
        actions: (T, ...) actions.
        rewards: (T,) rewards.
        reward_terms: term -> (T,) raw reward terms.
        metrics: the env's ``episode_metrics``.
        motion: (frames, J, 3) the generated motion.
    """

    clip_id: str
    observations: Any
    actions: np.ndarray
    rewards: np.ndarray
    reward_terms: dict[str, np.ndarray]
    metrics: dict[str, float]
    motion: np.ndarray

    @property
    def episode_return(self) -> float:
        return float(self.rewards.sum())


def _stack(items: list[Any]) -> Any:
    if isinstance(items[0], dict):
        return {k: np.stack([o[k] for o in items]) for k in items[0]}
    return np.stack(items)


def rollout(
    env: gym.Env, agent: Agent, *, seed: int | None = None, options: dict[str, Any] | None = None
) -> Episode:
    """Run one episode of ``agent`` in a single token-motion env until it terminates."""
    agent.reset(seed)
    obs, info = env.reset(seed=seed, options=options)
    observations, actions, rewards, terms = [obs], [], [], []
    while True:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        actions.append(np.asarray(action))
        rewards.append(reward)
        terms.append(info["reward_terms"])
        if terminated or truncated:
            break
    return Episode(
        clip_id=info["clip_id"],
        observations=_stack(observations),
        actions=np.stack(actions),
        rewards=np.asarray(rewards, dtype=np.float32),
        reward_terms={k: np.array([t[k] for t in terms], np.float32) for k in terms[0]},
        metrics=dict(info.get("episode_metrics", {})),
        motion=env.unwrapped.generated_motion(),
    )


__all__ = ["Agent", "Episode", "rollout"]
