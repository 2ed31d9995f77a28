"""Pluggable rewards: the RewardModel protocol, a name -> factory registry and composites.

A reward model scores one step of a whole batch of envs at once. The env builds a
:class:`RewardInputs` (the last W decoded frames, the audio rows and beats of the same frames, the
last H tokens and, when the clip has one, the ground truth), calls the model once, and receives one
(B,) array per reward term. The env's reward is the weighted sum of the terms of its
:class:`CompositeReward`; ``info["reward_terms"]`` holds each raw term.

Implementations live in the top-level ``reward_models`` package, which registers them here on
import; :func:`make_reward` imports it the first time it meets an unknown name. A third party
registers its own model with the same call::

    register_reward("my_reward", lambda *, skeleton, fps: MyReward(MyConfig(), skeleton, fps))
    env = gym.make("CoSpeechGesture-v0", reward={"my_reward": 1.0, "smoothness": 0.1})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from gesture_gym.motion.skeleton import Skeleton

INPUT_NAMES = frozenset({"motion", "audio", "audio_beats", "tokens", "ground_truth"})
OPTIONAL_INPUTS = frozenset({"audio", "ground_truth"})  # may be None in a RewardInputs


class MissingInputError(RuntimeError):
    """A reward model needs an input the episode cannot provide (ground truth on user audio)."""


@dataclass(frozen=True, eq=False)
class RewardInputs:
    """One step of a batch of B envs, as every reward model sees it.

    Read-only once built (the env builds a new one every step): reward models may cache arrays
    derived from one instance.

    Attributes:
        fps: motion frame rate.
        skeleton: the kinematic tree of ``motion``.
        motion: (B, W, J, 3) float32 absolute joint positions of the last W decoded frames, ending
            with this step's new frames; frames before the episode start repeat its first frame.
        new_frames: frames decoded this step (the tokenizer's frames per token).
        audio: (B, W, D) float32 raw ``AudioFeatures`` rows of the same W frames (None when no
            model of the env needs it).
        audio_layout: name -> column slice of ``audio``.
        audio_beats: (B, W) bool, True where an audio beat falls in the frame.
        tokens: (B, H) or (B, H, P) int64, the last H tokens (P body-part codebooks).
        frame_start: (B,) int64 clip frame index of the first new frame.
        clip_ids: the B clip ids.
        ground_truth: (B, W, J, 3) ground-truth positions of the same frames, or None when the
            episodes run on user audio.
    """

    fps: float
    skeleton: Skeleton
    motion: np.ndarray
    new_frames: int
    audio: np.ndarray | None
    audio_layout: Mapping[str, slice]
    audio_beats: np.ndarray
    tokens: np.ndarray
    frame_start: np.ndarray
    clip_ids: tuple[str, ...]
    ground_truth: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("motion", "audio_beats", "tokens", "frame_start"):
            if getattr(self, name) is None:
                raise ValueError(f"RewardInputs.{name} is required, got None")
        b, w = self.motion.shape[:2]
        if self.motion.shape != (b, w, self.skeleton.n_joints, 3):
            raise ValueError(
                f"RewardInputs.motion has shape {self.motion.shape}; expected (B, W, "
                f"{self.skeleton.n_joints}, 3) for skeleton {self.skeleton.name!r}"
            )
        if not 0 < self.new_frames <= w:
            raise ValueError(f"RewardInputs.new_frames={self.new_frames} must be in 1..W={w}")
        for name in ("audio", "audio_beats", "ground_truth"):
            value = getattr(self, name)
            if value is not None and value.shape[:2] != (b, w):
                raise ValueError(
                    f"RewardInputs.{name} has shape {value.shape}; its first axes must be the "
                    f"motion's (B, W) = {(b, w)}"
                )
        if len(self.clip_ids) != b or self.tokens.shape[0] != b or self.frame_start.shape != (b,):
            raise ValueError(
                f"RewardInputs: clip_ids ({len(self.clip_ids)}), tokens {self.tokens.shape} and "
                f"frame_start {self.frame_start.shape} must all have B={b} rows"
            )

    @property
    def batch_size(self) -> int:
        return int(self.motion.shape[0])

    @property
    def window(self) -> int:
        return int(self.motion.shape[1])


@runtime_checkable
class RewardModel(Protocol):
    """Scores a batch of envs from the inputs it declares; stateless outside :meth:`reset`.

    Attributes:
        name: the registered name (also the term name of a single-term model).
        config: a frozen dataclass of the model's settings.
        needs: the fields of RewardInputs it reads, from ``INPUT_NAMES``.
        window: how many of the most recent frames (this step's new frames included) it reads;
            the env provides W = the largest window of its models.
    """

    name: str
    config: Any
    needs: frozenset[str]
    window: int

    def reset(self, env_indices: np.ndarray) -> None:
        """Forget any per-episode state of the given envs (a new episode starts there)."""

    def __call__(self, inputs: RewardInputs) -> dict[str, np.ndarray]:
        """Term name -> (B,) float32 rewards of this step."""


RewardFactory = Callable[..., RewardModel]  # factory(*, skeleton, fps) -> RewardModel
_REGISTRY: dict[str, RewardFactory] = {}
_IMPORTED_MODELS = False


def register_reward(name: str, factory: RewardFactory) -> None:
    """Register ``factory(*, skeleton, fps) -> RewardModel`` under ``name``.

    Registering the same factory twice is a no-op (modules may be imported again); a different
    factory under a taken name is an error, so two packages cannot silently shadow each other.
    """
    current = _REGISTRY.get(name)
    if current is not None and current != factory:
        raise ValueError(f"reward {name!r} is already registered with {current!r}")
    _REGISTRY[name] = factory


def registered_rewards() -> list[str]:
    """Names of every registered reward model (importing ``reward_models`` first)."""
    _import_models()
    return sorted(_REGISTRY)


def _import_models() -> None:
    global _IMPORTED_MODELS
    if not _IMPORTED_MODELS:
        _IMPORTED_MODELS = True
        importlib.import_module("reward_models")


def _factory(name: str) -> RewardFactory:
    if name not in _REGISTRY:
        _import_models()
    if name not in _REGISTRY:
        raise KeyError(f"unknown reward {name!r}; registered rewards: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


class CompositeReward:
    """A weighted sum of reward models; itself a RewardModel returning every term of its parts.

    The env calls :meth:`score` once per step: the weighted total and each raw term (a part's
    weight applies to each of its terms).
    """

    name = "composite"

    def __init__(self, models: Mapping[str, tuple[RewardModel, float]]):
        if not models:
            raise ValueError("a composite reward needs at least one model")
        self.models = tuple(model for model, _ in models.values())
        for model in self.models:
            if not model.needs <= INPUT_NAMES:
                raise ValueError(
                    f"reward {model.name!r} needs {sorted(model.needs - INPUT_NAMES)}, which are "
                    f"not RewardInputs fields; choose from {sorted(INPUT_NAMES)}"
                )
        self.config = CompositeConfig({key: float(w) for key, (_, w) in models.items()})
        # per part, the inputs it reads that may be None, prepared once: score runs every step
        self._parts = tuple(
            (model, tuple(sorted(model.needs & OPTIONAL_INPUTS)), np.float32(w))
            for model, w in zip(self.models, self.config.weights.values(), strict=True)
        )
        self.needs = frozenset().union(*(m.needs for m in self.models))
        self.window = max(m.window for m in self.models)

    def reset(self, env_indices: np.ndarray) -> None:
        for model in self.models:
            model.reset(env_indices)

    def check_available(self, available: set[str] | frozenset[str], source: str) -> None:
        """Raise MissingInputError if a part needs an input that ``source`` (an episode) lacks."""
        for model in self.models:
            missing = sorted(model.needs - set(available))
            if missing:
                raise MissingInputError(
                    f"reward {model.name!r} needs {', '.join(missing)}, which {source} does not "
                    "have (custom audio has no ground-truth motion); choose a reward without it"
                )

    def score(self, inputs: RewardInputs) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(B,) float32 weighted total and term name -> (B,) float32 raw term."""
        total = np.zeros(inputs.batch_size, dtype=np.float32)
        terms: dict[str, np.ndarray] = {}
        for model, optional, weight in self._parts:
            missing = [n for n in optional if getattr(inputs, n) is None]
            if missing:
                raise MissingInputError(
                    f"reward {model.name!r} needs {', '.join(missing)}, which RewardInputs lacks "
                    "(ground truth is None on user audio)"
                )
            for term, value in model(inputs).items():
                if term in terms:
                    raise ValueError(f"two parts of the composite reward return term {term!r}")
                terms[term] = value
                total += weight * value
        return total, terms

    def __call__(self, inputs: RewardInputs) -> dict[str, np.ndarray]:
        return self.score(inputs)[1]


@dataclass(frozen=True)
class CompositeConfig:
    """Registered name (or the instance's name) -> weight, in order."""

    weights: Mapping[str, float]


def make_reward(
    spec: str | RewardModel | Mapping[str, float], *, skeleton: Skeleton, fps: float
) -> CompositeReward:
    """A CompositeReward from a registered name, a RewardModel instance or a mapping name -> weight.

    A single name or instance gets weight 1. Unknown names import ``reward_models`` once (lazy
    registration) and then raise KeyError listing the known names.
    """
    if isinstance(spec, CompositeReward):
        return spec
    if isinstance(spec, str):
        spec = {spec: 1.0}
    elif not isinstance(spec, Mapping):
        if not isinstance(spec, RewardModel):
            raise TypeError(
                f"reward= takes a registered name, a RewardModel instance or a mapping "
                f"name -> weight; got {type(spec).__name__}"
            )
        return CompositeReward({spec.name: (spec, 1.0)})
    models = {}
    for name, weight in spec.items():
        if not (isinstance(name, str) and isinstance(weight, int | float) and np.isfinite(weight)):
            raise ValueError(
                f"reward mapping entries must be name -> finite weight; got {name!r}: {weight!r}"
            )
        models[name] = (_factory(name)(skeleton=skeleton, fps=fps), float(weight))
    return CompositeReward(models)


_DEFAULT_REWARDS: dict[str, dict[str, float]] = {
    "speech": {"beat_gaussian": 1.0, "smoothness": 1.0, "pose_plausibility": 1.0},
    "dance": {
        "beat_bailando": 0.1,
        "orientation": 0.5,
        "smoothness": 0.1,
        "foot_skating": 1.0,
        "floor_contact": 1.0,
        "pose_plausibility": 1.0,
    },
}


def default_reward(env_kind: str) -> dict[str, float]:
    """The default composite (name -> weight) of "speech" or "dance" envs.

    Hand-designed until the learned models land (reward_models/hand_designed.py has each
    formula). The weights put every term of ground-truth motion of the embedded corpora within
    about [-1, 1] per step, so no term drowns the others:

    - speech: ``beat_gaussian`` 1 (kinematic beats near stressed syllables, 0..1),
      ``smoothness`` 1 (jerk; about -0.2..-0.8 on ground truth, -4 on 1 cm jitter),
      ``pose_plausibility`` 1 (bone lengths and elbow limits; 0 on ground truth).
    - dance: E3D2's hand-designed reward, Bailando's ``beat_bailando`` 0.1 (+-0.5 per token) and
      ``orientation`` 0.5 (upper vs lower body facing), with ``smoothness`` 0.1, ``foot_skating``
      1, ``floor_contact`` 1 and ``pose_plausibility`` 1, which keep a dancer on the floor, its
      planted feet still and its body in one piece.
    """
    try:
        return dict(_DEFAULT_REWARDS[env_kind])
    except KeyError:
        raise ValueError(f"env_kind must be 'speech' or 'dance', got {env_kind!r}") from None


class SwapReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Give any gesture-gym env another reward, for ablations: ``SwapReward(env, "smoothness")``.

    ``reward`` is anything ``reward=`` takes (a registered name, a RewardModel instance, a mapping
    name -> weight) or None for the env's default. The wrapped env is told through its public
    ``set_reward``, so observations, spaces and episodes are untouched and ``info["reward_terms"]``
    lists the new terms. A reward that needs ground truth fails here, with MissingInputError,
    when the current episode runs on user audio.
    """

    def __init__(self, env: gym.Env, reward: Any):
        gym.utils.RecordConstructorArgs.__init__(self, reward=reward)
        gym.Wrapper.__init__(self, env)
        set_reward = getattr(env.unwrapped, "set_reward", None)
        if set_reward is None:
            raise TypeError(
                f"SwapReward wraps gesture-gym envs (with set_reward); "
                f"{type(env.unwrapped).__name__} has none"
            )
        set_reward(reward)
