"""The two reference baselines: ground-truth token replay (an oracle upper reference) and uniform
random tokens (the floor). Both work with a single env and with a batched vector env."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np


class GroundTruthReplay:
    """Plays the clip's own motion tokens: the tokenizer's reconstruction of the ground truth.

    It reads the tokens from the env (``expert_action`` / ``expert_actions``), not from the
    observation, so it is an oracle: use it as the reference a learned agent should approach.
    """

    name = "ground_truth_replay"

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        self.env = env.unwrapped

    def reset(self, seed: int | None = None) -> None:
        pass  # deterministic

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        if isinstance(self.env, gym.vector.VectorEnv):
            return self.env.expert_actions()
        return self.env.expert_action()


class UniformRandom:
    """Uniformly random tokens from the env's action space, seeded independently of the env."""

    name = "uniform_random"

    def __init__(self, action_space: gym.Space, seed: int | None = None) -> None:
        self.space = copy.deepcopy(action_space)
        self.space.seed(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.space.seed(seed)

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        return self.space.sample()


__all__ = ["GroundTruthReplay", "UniformRandom"]
