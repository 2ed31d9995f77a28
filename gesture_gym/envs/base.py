"""The single token-motion env: the batched core with B = 1, behind Gymnasium's Env API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction

from gesture_gym.data.clip import Clip
from gesture_gym.envs.codec import AnyTokenizer
from gesture_gym.envs.core import CoreStep, TaskSpec, TokenMotionCore

RENDER_MODES = ["rgb_array", "human"]


class InvalidActionError(InvalidAction, ValueError):
    """An action that is not a valid token (or token pair) for the env's action space."""


def check_actions(actions: Any, space: spaces.Space, batch: int | None, env_id: str) -> np.ndarray:
    """Validate one action (``batch`` None) or a batch of actions; return them as int64.

    Raises:
        InvalidActionError: naming the env, the expected shape or range and what was given.
    """
    a = np.asarray(actions)
    per_env = () if isinstance(space, spaces.Discrete) else tuple(space.shape)
    shape = per_env if batch is None else (batch, *per_env)
    what = f"{env_id}: {'action' if batch is None else 'actions'}"
    if a.shape != shape:
        raise InvalidActionError(f"{what} must have shape {shape} for {space}, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise InvalidActionError(
            f"{what} must be integer token ids for {space}, got dtype {a.dtype}"
        )
    high = (
        np.int64(space.n)
        if isinstance(space, spaces.Discrete)
        else np.asarray(space.nvec, np.int64)
    )
    if a.min() < 0 or np.any(a.reshape(-1, *high.shape).max(axis=0) >= high):
        raise InvalidActionError(
            f"{what} out of range for {space}: got {a.tolist()}, valid tokens are "
            f"0..{(high - 1).tolist()}"
        )
    return a.astype(np.int64)


def env_info(out: CoreStep, i: int) -> dict[str, Any]:
    """Env i's info dict from a core step: the same keys at reset and every step, plus
    ``episode_metrics`` when its episode ended."""
    info: dict[str, Any] = {
        "reward_terms": {k: float(v[i]) for k, v in out.terms.items()},
        "tokens": out.tokens[i],
        "frame_range": out.frame_range[i],
        "clip_id": out.clip_ids[i],
    }
    if out.metrics is not None and out.terminated[i]:
        info["episode_metrics"] = {k: float(v[i]) for k, v in out.metrics.items()}
    return info


def row(obs: Any, i: int) -> Any:
    """Env i's observation from a batched one (flat array or dict of arrays)."""
    return {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]


class HumanViewer:
    """A matplotlib window showing rgb frames; draws off-screen where there is no display."""

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.figure = self.image = None

    def show(self, frame: np.ndarray) -> None:
        import matplotlib.pyplot as plt
        from matplotlib.backends import BackendFilter, backend_registry

        if self.figure is None:
            self.figure, ax = plt.subplots(figsize=(frame.shape[1] / 100, frame.shape[0] / 100))
            self.image = ax.imshow(frame)
            ax.axis("off")
        else:
            self.image.set_data(frame)
        off_screen = backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)
        if plt.get_backend().lower() in off_screen:
            self.figure.canvas.draw()
        else:
            plt.pause(1.0 / self.fps)

    def close(self) -> None:
        if self.figure is not None:
            import matplotlib.pyplot as plt

            plt.close(self.figure)
            self.figure = self.image = None


class TokenMotionEnv(gym.Env):
    """Base class of the token-motion envs (subclasses set ``task`` and the docs).

    Args:
        render_mode: None, "rgb_array" or "human".
        corpus: corpus name ("speech-gesture", "music-dance"), a data set "<format>:<path>", or a
            sequence of clips (then also the source of the normalisation statistics).
        dataset: a real data set "<format>:<path>", e.g. "beat2:/data/beat_english_v2.0.0"
            (the same as passing it as ``corpus``; give one of the two).
        split: the split episodes are drawn from ("train", "val", "test", "unseen").
        reward: a registered reward name, a RewardModel, a mapping name -> weight, or None for the
            env's default composite (``gesture_gym.rewards.default_reward``).
        clip_length: cap on the tokens of an episode (None: the whole clip).
        history: H, the number of past tokens observed.
        audio_context: (past, future) audio frames observed before and after the step's own
            frames (default: one token's worth each).
        observation_mode: "flat" (float32 Box) or "dict" (raw token ids).
        text: observe hashed word ids (speech only).
        tokenizer: a tokenizer instance or shipped name (default: the env's).
        n_clips: draw episodes from the first n clips of the split only.
    """

    task: ClassVar[TaskSpec]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": RENDER_MODES, "render_fps": 20}

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        corpus: str | Sequence[Clip] | None = None,
        dataset: str | None = None,
        split: str = "train",
        reward: Any = None,
        clip_length: int | None = None,
        history: int = 4,
        audio_context: tuple[int, int] | None = None,
        observation_mode: str = "flat",
        text: bool = False,
        tokenizer: str | AnyTokenizer | None = None,
        n_clips: int | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(
                f"{self.task.env_id}: render_mode must be one of {RENDER_MODES} or None, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.core = TokenMotionCore(
            self.task, 1, corpus=corpus, dataset=dataset, split=split, reward=reward, clip_length=clip_length,
            history=history, audio_context=audio_context, observation_mode=observation_mode,
            text=text, tokenizer=tokenizer, n_clips=n_clips,
        )  # fmt: skip
        self.observation_space = self.core.observation_space
        self.action_space = self.core.action_space
        self._viewer: HumanViewer | None = None

    @property
    def observation_layout(self) -> dict[str, slice]:
        """Name -> slice of the flat observation (see gesture_gym.envs.observation)."""
        return dict(self.core.slices)

    @property
    def audio_layout(self) -> dict[str, slice]:
        """Name -> column slice of one audio row (``AudioFeatures.layout()``)."""
        return dict(self.core.audio_layout)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode on a random clip, ``options["clip"]`` (id or index) or
        ``options["audio"]`` (a speech or music file; no ground truth)."""
        super().reset(seed=seed)
        episode = self.core.choose_episode(self.np_random, options)
        out = self.core.advance(None, np.array([True]), [episode])
        self._render_human()
        return row(out.obs, 0), env_info(out, 0)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        a = check_actions(action, self.action_space, None, self.task.env_id)
        out = self.core.advance(a[None], np.array([False]), [None])
        self._render_human()
        return (
            row(out.obs, 0),
            float(out.reward[0]),
            bool(out.terminated[0]),
            False,
            env_info(out, 0),
        )

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.core.render(0)
        if self.render_mode == "human":
            self._render_human()
        return None

    def _render_human(self) -> None:
        if self.render_mode == "human":
            self._viewer = self._viewer or HumanViewer(self.metadata["render_fps"])
            self._viewer.show(self.core.render(0))

    def close(self) -> None:
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_viewer"] = None  # a window does not travel
        return state

    # --- beyond the Gymnasium API ----------------------------------------------------------------
    def expert_action(self) -> np.ndarray:
        """The ground-truth token(s) of the next step (for replay baselines and demonstrations)."""
        return self.core.expert_tokens()[0]

    def generated_motion(self) -> np.ndarray:
        """(frames so far, J, 3) motion decoded in the current episode."""
        return self.core.motion(0)

    def set_reward(self, reward: Any) -> None:
        """Swap the reward model (name, RewardModel or mapping name -> weight; None = default)."""
        self.core.set_reward(reward)
