"""Stable-Baselines3 on the natively batched env: an SB3 ``VecEnv`` over a TokenMotionVectorEnv.

SB3 2.x does not accept Gymnasium vector envs; its VecEnv resets a finished env within the same
step and puts the last observation in ``infos[i]["terminal_observation"]``. The adapter runs the
vector env with ``autoreset_mode="same_step"`` (the next episode's first token is decoded in a
spare decoder slot during the finishing step), so PPO gets SB3's convention at the cost of one
decoder call per step::

    from stable_baselines3 import PPO
    venv = make_sb3_vec_env("CoSpeechGesture-v0", num_envs=16)
    PPO("MlpPolicy", venv).learn(10_000)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

from gesture_gym.envs.base import row
from gesture_gym.envs.vector import TokenMotionVectorEnv


class SB3VecEnv(VecEnv):
    """SB3's VecEnv interface over a same-step TokenMotionVectorEnv.

    Args:
        venv: a vector env made with ``autoreset_mode="same_step"``.
    """

    def __init__(self, venv: TokenMotionVectorEnv) -> None:
        if not isinstance(venv, TokenMotionVectorEnv) or venv.autoreset_mode != "same_step":
            raise ValueError(
                "SB3VecEnv needs a TokenMotionVectorEnv made with autoreset_mode='same_step' "
                "(SB3 resets finished envs within the step); use make_sb3_vec_env"
            )
        self.venv = venv
        self.render_mode = venv.render_mode
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> Any:
        seed = self._seeds[0]
        options = self._options[0] or None
        obs, _ = self.venv.reset(seed=seed, options=options)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, reward, terminated, _, info = self.venv.step(self._actions)
        terms = {k: v for k, v in info["reward_terms"].items() if not k.startswith("_")}
        infos: list[dict[str, Any]] = [
            {
                "reward_terms": {k: float(v[i]) for k, v in terms.items()},
                "tokens": info["tokens"][i],
                "frame_range": info["frame_range"][i],
                "clip_id": info["clip_id"][i],
            }
            for i in range(self.num_envs)
        ]
        for i in np.flatnonzero(terminated):
            infos[i]["terminal_observation"] = row(info["final_obs"], i)
            infos[i]["TimeLimit.truncated"] = False
            metrics = info["episode_metrics"]
            infos[i]["episode_metrics"] = {
                k: float(v[i]) for k, v in metrics.items() if not k.startswith("_")
            }
            self.reset_infos[i] = {}
        return obs, reward, terminated, infos

    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.venv.render()
        return list(frames) if frames is not None else [None] * self.num_envs

    # The sub-envs share one core: attributes and methods are those of the vector env.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.venv, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def make_sb3_vec_env(env_id: str, num_envs: int = 8, monitor: bool = True, **kwargs: Any) -> VecEnv:
    """An SB3 VecEnv of ``num_envs`` batched envs of a registered id (VecMonitor'd by default,
    so SB3 logs episode returns).

    Args:
        env_id: "CoSpeechGesture-v0", "MusicDance-v0", "MusicDanceFullBody-v0" (or a variant).
        num_envs: envs stepped together.
        monitor: wrap in SB3's VecMonitor.
        **kwargs: the env's keyword arguments.
    """
    import gesture_gym.envs  # noqa: F401  (registers the ids)

    venv = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
        autoreset_mode="same_step", **kwargs,
    )  # fmt: skip
    env: VecEnv = SB3VecEnv(venv)
    return VecMonitor(env) if monitor else env
