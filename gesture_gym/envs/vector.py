"""Natively batched vector envs: every sub-env in one core, one decoder and one reward call a step.

    envs = gym.make_vec("CoSpeechGesture-v0", num_envs=64, vectorization_mode="vector_entry_point")

Follows Gymnasium 1.0's next-step autoreset: the step after an episode ends ignores that env's
action, starts its next episode and returns reward 0 with the reset observation and info. With
``autoreset_mode="same_step"`` (Gymnasium 1.1's SAME_STEP, which SB3 expects) a finished env
starts its next episode within the same step instead; ``info["final_obs"]`` then holds its last
observation (see :mod:`gesture_gym.envs.sb3`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space

from gesture_gym.envs.base import RENDER_MODES, check_actions
from gesture_gym.envs.co_speech import CO_SPEECH
from gesture_gym.envs.core import CoreStep, TaskSpec, TokenMotionCore
from gesture_gym.envs.music_dance import MUSIC_DANCE, MUSIC_DANCE_FULL

AUTORESET_MODES = ("next_step", "same_step")


class TokenMotionVectorEnv(VectorEnv):
    """``num_envs`` token-motion episodes stepped together (subclasses set ``task``).

    Args:
        num_envs: B.
        render_mode: None or "rgb_array" (``render()`` returns one frame per env).
        autoreset_mode: "next_step" (Gymnasium 1.0) or "same_step" (for SB3).
        **kwargs: the single env's keyword arguments (corpus or dataset, split, reward, clip_length,
            history, audio_context, observation_mode, text, tokenizer, n_clips).
    """

    task: ClassVar[TaskSpec]

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        autoreset_mode: str = "next_step",
        **kwargs: Any,
    ) -> None:
        if autoreset_mode not in AUTORESET_MODES:
            raise ValueError(
                f"{self.task.env_id} vector env: autoreset_mode must be one of "
                f"{AUTORESET_MODES}, got {autoreset_mode!r}"
            )
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"{self.task.env_id} vector env: render_mode must be None or 'rgb_array'"
            )
        self.core = TokenMotionCore(
            self.task, num_envs, same_step_reset=autoreset_mode == "same_step", **kwargs
        )
        self.num_envs = self.core.num_envs
        self.render_mode = render_mode
        self.autoreset_mode = autoreset_mode
        self.metadata = {
            "render_modes": RENDER_MODES[:1],
            "render_fps": int(round(self.core.fps)),
            "autoreset_mode": autoreset_mode,
        }
        self.single_observation_space = self.core.observation_space
        self.single_action_space = self.core.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    @property
    def observation_layout(self) -> dict[str, slice]:
        return dict(self.core.slices)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start new episodes in every env (``options`` as the single env's, for all of them)."""
        super().reset(seed=seed)
        episodes = [self.core.choose_episode(self.np_random, options) for _ in range(self.num_envs)]
        out = self.core.advance(None, np.ones(self.num_envs, dtype=bool), episodes)
        self._autoreset[:] = False
        return out.obs, self._infos(out)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = check_actions(actions, self.single_action_space, self.num_envs, self.task.env_id)
        starting = self._autoreset.copy()
        new = [None] * self.num_envs
        for i in np.flatnonzero(starting):
            new[i] = self.core.choose_episode(self.np_random, None)
        following: list = []
        if self.autoreset_mode == "same_step":
            ending = self.core.ending() & ~starting
            following = [
                self.core.choose_episode(self.np_random, None) if e else None for e in ending
            ]
        out = self.core.advance(a, starting, new, following)
        if self.autoreset_mode == "next_step":
            self._autoreset = out.terminated.copy()
        truncated = np.zeros(self.num_envs, dtype=bool)
        return out.obs, out.reward, out.terminated.copy(), truncated, self._infos(out)

    def _infos(self, out: CoreStep) -> dict[str, Any]:
        """Gymnasium's vector info layout: arrays over envs with a boolean ``_key`` mask each."""
        every = np.ones(self.num_envs, dtype=bool)
        terms: dict[str, Any] = dict(out.terms)
        terms.update({f"_{k}": every for k in out.terms})
        info: dict[str, Any] = {
            "reward_terms": terms,
            "_reward_terms": every,
            "tokens": out.tokens,
            "_tokens": every,
            "frame_range": out.frame_range,
            "_frame_range": every,
            "clip_id": np.array(out.clip_ids, dtype=object),
            "_clip_id": every,
        }
        if out.metrics is not None:
            done = out.terminated
            metrics: dict[str, Any] = dict(out.metrics)
            metrics.update({f"_{k}": done for k in out.metrics})
            info["episode_metrics"], info["_episode_metrics"] = metrics, done
        if out.final_obs is not None:
            info["final_obs"], info["_final_obs"] = out.final_obs, out.terminated
        return info

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode != "rgb_array":
            return None
        return tuple(self.core.render(i) for i in range(self.num_envs))

    def expert_actions(self) -> np.ndarray:
        """(B,) or (B, P) ground-truth tokens of every env's next step."""
        return self.core.expert_tokens()

    def set_reward(self, reward: Any) -> None:
        """Swap the reward model of every env."""
        self.core.set_reward(reward)


class CoSpeechGestureVectorEnv(TokenMotionVectorEnv):
    """Batched CoSpeechGesture-v0 (see :class:`gesture_gym.envs.co_speech.CoSpeechGestureEnv`)."""

    task = CO_SPEECH


class MusicDanceVectorEnv(TokenMotionVectorEnv):
    """Batched MusicDance-v0 (see :class:`gesture_gym.envs.music_dance.MusicDanceEnv`)."""

    task = MUSIC_DANCE


class MusicDanceFullBodyVectorEnv(TokenMotionVectorEnv):
    """Batched MusicDanceFullBody-v0 (see :class:`gesture_gym.envs.music_dance.MusicDanceFullBodyEnv`)."""

    task = MUSIC_DANCE_FULL
