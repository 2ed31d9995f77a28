"""The token-motion envs, registered with Gymnasium when gesture_gym is imported.

    import gymnasium as gym, gesture_gym
    env = gym.make("CoSpeechGesture-v0")
    envs = gym.make_vec("MusicDance-v0", num_envs=64, vectorization_mode="vector_entry_point")

Registration uses string entry points, so importing gesture_gym stays light (torch, the
tokenizers and the corpora load when an env is made); the classes are importable from here.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym

# id -> (module, env class, vector env class)
ENVS = {
    "CoSpeechGesture-v0": ("co_speech", "CoSpeechGestureEnv", "CoSpeechGestureVectorEnv"),
    "MusicDance-v0": ("music_dance", "MusicDanceEnv", "MusicDanceVectorEnv"),
    "MusicDanceFullBody-v0": (
        "music_dance",
        "MusicDanceFullBodyEnv",
        "MusicDanceFullBodyVectorEnv",
    ),
}

_EXPORTS = {
    "TokenMotionEnv": "base",
    "InvalidActionError": "base",
    "TokenMotionCore": "core",
    "TaskSpec": "core",
    "TokenMotionVectorEnv": "vector",
    "SB3VecEnv": "sb3",
    "make_sb3_vec_env": "sb3",
    **{cls: module for module, cls, _ in ENVS.values()},
    **{vec: "vector" for _, _, vec in ENVS.values()},
}

__all__ = ["ENVS", "register_envs", *sorted(_EXPORTS)]


def register_envs() -> None:
    """Register every id (idempotent: ids already in the registry are left alone)."""
    for env_id, (module, cls, vec) in ENVS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=f"gesture_gym.envs.{module}:{cls}",
                vector_entry_point=f"gesture_gym.envs.vector:{vec}",
            )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"gesture_gym.envs.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'gesture_gym.envs' has no attribute {name!r}")


register_envs()
