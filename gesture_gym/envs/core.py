"""The batched core every token-motion env runs on: B episodes stepped together.

``TokenMotionEnv`` is this core with B = 1 and ``TokenMotionVectorEnv`` with B = num_envs, so the
single and the vector env share one implementation. One :meth:`TokenMotionCore.advance` makes one
streaming-decoder call and one reward call for all B envs. Its work does not depend on how far the
episodes are: the decoder computes only the new frames from cached activations, observations
slice precomputed per-clip arrays, and reward windows gather the last W frames of a per-env motion
buffer by index.

Same-step resets (SB3's convention) decode a finishing env's next first token in a spare decoder
slot during the same call, so they too cost one decoder call per step.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from gesture_gym.data.clip import Clip
from gesture_gym.envs.codec import AnyTokenizer, Codec
from gesture_gym.envs.observation import (
    WORD_BUCKETS,
    EpisodeData,
    FeatureStats,
    ObservationSpec,
    episode_data,
    normalised_codebooks,
)
from gesture_gym.metrics import beat_align_score
from gesture_gym.rewards import INPUT_NAMES, RewardInputs, default_reward, make_reward

EPISODE_CACHE_BYTES = 1 << 30  # precomputed episodes kept in memory (an embedded corpus fits)
RENDER_SECONDS = 2.0  # audio strip of a rendered frame: this much before and after the cursor


@dataclass(frozen=True)
class TaskSpec:
    """What distinguishes the registered envs.

    Attributes:
        env_id: the registered id (for messages).
        kind: "speech" or "dance" (audio features, default reward).
        corpus: the default corpus.
        tokenizer: the default tokenizer ("music-dance" is the upper + lower pair).
    """

    env_id: str
    kind: str
    corpus: str
    tokenizer: str


@dataclass(frozen=True, eq=False)
class CoreStep:
    """What one ``advance`` returns for the B envs (rows of ``starting`` envs describe a reset).

    Attributes:
        obs: (B, size) float32, or a dict of (B, ...) arrays in Dict mode.
        reward: (B,) float32 weighted reward (0 for envs that started an episode).
        terminated: (B,) bool, the clip ended with this step.
        terms: reward term -> (B,) float32 raw values.
        tokens: (B, H) or (B, H, P) int64, the last H tokens.
        frame_range: (B, 2) int64, clip frames [start, end) decoded by this call.
        clip_ids: the B clip ids.
        metrics: metric -> (B,) float64 of each env's finished episode (NaN where none finished),
            or None when no episode finished.
        final_obs: in same-step mode, the last observation of every finished episode (rows of
            ``terminated``; ``obs`` then holds the next episode's first observation).
    """

    obs: Any
    reward: np.ndarray
    terminated: np.ndarray
    terms: dict[str, np.ndarray]
    tokens: np.ndarray
    frame_range: np.ndarray
    clip_ids: tuple[str, ...]
    metrics: dict[str, np.ndarray] | None
    final_obs: Any = None


@numba.njit(cache=True)
def _jerk_magnitude_sums(motion):
    """(N, T, J, 3) float32 -> (N,) float64 sums over frames t < T - 3 and joints of
    |x[t+3] - 3 x[t+2] + 3 x[t+1] - x[t]| (differences in float32)."""
    n, n_frames, n_joints, _ = motion.shape
    out = np.zeros(n)
    three = np.float32(3.0)
    for i in range(n):
        m = motion[i]
        total = 0.0
        for t in range(n_frames - 3):
            for j in range(n_joints):
                x = (m[t + 3, j, 0] - m[t, j, 0]) + three * (m[t + 1, j, 0] - m[t + 2, j, 0])
                y = (m[t + 3, j, 1] - m[t, j, 1]) + three * (m[t + 1, j, 1] - m[t + 2, j, 1])
                z = (m[t + 3, j, 2] - m[t, j, 2]) + three * (m[t + 1, j, 2] - m[t + 2, j, 2])
                total += math.sqrt(x * x + y * y + z * z)
        out[i] = total
    return out


def mean_jerk(motion: np.ndarray, fps: float) -> np.ndarray | float:
    """Mean magnitude of the third time derivative of joint positions (m/s^3); lower is smoother.

    ``motion`` is (T, J, 3), or (..., T, J, 3) equally long motions (one value each). One
    compiled pass (an env computes it for every finished episode).
    """
    m = np.asarray(motion)
    if m.shape[-3] < 4:
        return np.zeros(m.shape[:-3]) if m.ndim > 3 else 0.0
    flat = np.ascontiguousarray(m, dtype=np.float32).reshape((-1,) + m.shape[-3:])
    n_frames, n_joints = m.shape[-3:-1]
    value = _jerk_magnitude_sums(flat) / ((n_frames - 3) * n_joints) * float(fps) ** 3
    return value.reshape(m.shape[:-3]) if m.ndim > 3 else float(value[0])


def episode_metrics(motion: np.ndarray, beat_times: np.ndarray, fps: float) -> dict[str, float]:
    """Metrics of one episode's generated motion (the env's ``info["episode_metrics"]``).

    ``beat_align``: Bailando's beat-alignment score against the clip's audio beats (stressed
    syllables for speech); ``jerk``: :func:`mean_jerk`.
    """
    return {"beat_align": beat_align_score(motion, beat_times, fps), "jerk": mean_jerk(motion, fps)}


METRIC_NAMES = ("beat_align", "jerk")


class _Rows:
    """Per-env arrays batched on axis 0 with a shared time axis that grows on demand."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, name: str, i: int, value: np.ndarray) -> None:
        a = self.arrays.get(name)
        if a is not None and a.shape[2:] != value.shape[1:]:
            raise ValueError(
                f"batched array {name!r}: rows of shape {value.shape[1:]} do not fit the other "
                f"envs' {a.shape[2:]}"
            )
        if a is None or a.shape[1] < len(value):
            length = len(value) if a is None else max(len(value), a.shape[1])
            grown = np.zeros((self.num_envs, length) + value.shape[1:], value.dtype)
            if a is not None:
                grown[:, : a.shape[1]] = a
            self.arrays[name] = a = grown
        a[i, : len(value)] = value

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def write(self, name: str, envs: np.ndarray, start: np.ndarray, values: np.ndarray) -> None:
        """Write (E, n, ...) ``values`` into rows ``envs`` at times start[e] .. start[e] + n - 1,
        with one flat assignment."""
        a = self.arrays[name]
        flat = a.reshape((-1,) + a.shape[2:])  # a view: the arrays are contiguous
        index = envs[:, None] * a.shape[1] + start[:, None] + np.arange(values.shape[1])
        flat[index.ravel()] = values.reshape((-1,) + values.shape[2:])

    def gather(self, name: str, index: np.ndarray) -> np.ndarray:
        """(B, K) time indices (one row per env) -> (B, K, ...) rows, with one ``take``."""
        a = self.arrays[name]
        b, length = a.shape[:2]
        flat = a.reshape((b * length,) + (-1,) * (a.ndim > 2))
        picked = flat.take((index + (np.arange(b) * length)[:, None]).ravel(), axis=0)
        return picked.reshape(index.shape + a.shape[2:])


class TokenMotionCore:
    """B episodes of one token-motion task, stepped in lockstep.

    Args:
        task: the env's TaskSpec.
        num_envs: B.
        corpus: corpus name or "<format>:<path>" for ``load_corpus``, or a sequence of clips.
        dataset: a real data set "<format>:<path>" (e.g. "beat2:/data/beat_english_v2.0.0"),
            the same as passing it as ``corpus``; give one of the two.
        split: the corpus split episodes are drawn from.
        reward: a registered name, a RewardModel, a mapping name -> weight, or None for
            ``default_reward(task.kind)``.
        clip_length: cap on tokens per episode (None: the whole clip).
        history: H, past tokens observed.
        audio_context: (past, future) audio frames observed around the step's own frames.
        observation_mode: "flat" or "dict".
        text: observe word ids (speech only).
        tokenizer: a tokenizer or a shipped name (None: the task's).
        n_clips: use only the first n clips of the corpus split.
        same_step_reset: reset a finished env within the same call (SB3's convention).
    """

    def __init__(
        self,
        task: TaskSpec,
        num_envs: int,
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
        same_step_reset: bool = False,
    ) -> None:
        if dataset is not None:
            if corpus is not None:
                raise ValueError(f"{task.env_id}: give corpus= or dataset=, not both")
            if not isinstance(dataset, str) or ":" not in dataset:
                raise ValueError(
                    f"{task.env_id}: dataset must be '<format>:<path>', e.g. "
                    f"'beat2:/data/beat_english_v2.0.0'; got {dataset!r}"
                )
            corpus = dataset
        if num_envs < 1:
            raise ValueError(f"{task.env_id}: num_envs must be >= 1, got {num_envs}")
        if text and task.kind != "speech":
            raise ValueError(f"{task.env_id}: text=True needs speech (dance clips have no words)")
        if clip_length is not None and clip_length < 2:
            raise ValueError(
                f"{task.env_id}: clip_length must be >= 2 tokens or None, got {clip_length}"
            )
        self.task = task
        self.num_envs = B = int(num_envs)
        self.codec = Codec(tokenizer or task.tokenizer)
        self.fps = self.codec.fps
        self.frames_per_token = fpt = self.codec.frames_per_token
        self.clip_length = clip_length
        self.clips, self.stats = self._load_corpus(corpus or task.corpus, split, n_clips)
        first = self.clips[0]
        self.audio_layout = first.features.layout()
        past, future = audio_context if audio_context is not None else (fpt, fpt)
        try:
            self.spec = ObservationSpec(
                mode=observation_mode,
                past=int(past),
                future=int(future),
                frames_per_token=fpt,
                audio_dim=int(self.stats.mean.shape[0]),
                history=int(history),
                code_dims=tuple(c.shape[1] for c in self.codec.codebooks()),
                sizes=self.codec.sizes,
                text=bool(text),
            )
        except ValueError as e:  # name the env, as every other argument error does
            raise ValueError(f"{task.env_id}: {e}") from None
        self.slices = self.spec.slices()
        self.observation_space = self.spec.space()
        self.action_space = self.codec.action_space
        self._codes = codes = normalised_codebooks(self.codec.codebooks())
        # parts of one width (the shipped pair): their tables stacked, so one gather of rows
        # offset_p + token lays each token's P vectors side by side
        same_width = len({c.shape[1] for c in codes}) == 1
        self._stacked_codes = np.concatenate(codes) if same_width else None
        self._code_offsets = np.cumsum([0] + [len(c) for c in codes[:-1]])
        self.same_step_reset = bool(same_step_reset)
        self.decoder = self.codec.streaming_decoder(2 * B if same_step_reset else B)
        self.slot = np.arange(B)  # each env's decoder slot
        self.spare = np.arange(B, 2 * B) if same_step_reset else np.empty(0, np.int64)
        self.set_reward(reward)
        self._episodes: OrderedDict[Any, EpisodeData] = OrderedDict()
        self._episode_bytes = 0
        self._rows = _Rows(B)
        self.episodes: list[EpisodeData | None] = [None] * B
        self._clip_ids = [""] * B
        self._ready = False  # every env has an episode
        self.t = np.zeros(B, dtype=np.int64)
        self.n_steps = np.ones(B, dtype=np.int64)
        self.history = np.zeros((B, self.spec.history) + self.codec.token_shape, dtype=np.int64)
        self._fallback_first: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_episodes"], state["_episode_bytes"] = OrderedDict(), 0  # a cache: rebuilt on use
        return state

    # --- set-up ---------------------------------------------------------------------------------
    def _load_corpus(
        self, corpus: str | Sequence[Clip], split: str, n_clips: int | None
    ) -> tuple[Sequence[Clip], FeatureStats]:
        """Episode clips and the observation statistics of the training split."""
        from gesture_gym.data import load_corpus

        if isinstance(corpus, str):
            clips = load_corpus(corpus, split, n_clips=n_clips, fps=self.fps)
            train = load_corpus(corpus, "train", fps=self.fps)
            key = f"{corpus}|{getattr(train, 'folder', '')}|fps={self.fps}"
            stats = FeatureStats.cached(key, train)
        else:
            clips = corpus if n_clips is None else corpus[:n_clips]
            stats = FeatureStats.of_clips(clips)
        if len(clips) == 0:
            raise ValueError(f"{self.task.env_id}: corpus {corpus!r} split {split!r} has no clips")
        return clips, stats

    def set_reward(self, reward: Any) -> None:
        """Replace the reward model (a name, a RewardModel, a mapping name -> weight, or None)."""
        spec = default_reward(self.task.kind) if reward is None else reward
        model = make_reward(spec, skeleton=self.codec.skeleton, fps=self.fps)
        live = [(i, ep) for i, ep in enumerate(getattr(self, "episodes", ())) if ep is not None]
        for _, ep in live:  # check before replacing, so a refused reward leaves the env as it was
            self._check_reward_inputs(ep, model)
        self.reward = model
        self.window = max(int(model.window), self.frames_per_token)
        for i, ep in live:
            self._store_reward_arrays(i, ep)
            model.reset(np.array([i]))

    # --- episodes ---------------------------------------------------------------------------------
    def choose_episode(
        self, rng: np.random.Generator, options: Mapping[str, Any] | None
    ) -> EpisodeData:
        """The next episode: ``options["clip"]`` (id or index), ``options["audio"]`` (a file), or
        a clip drawn uniformly with ``rng``."""
        options = options or {}
        unknown = set(options) - {"clip", "audio"}
        if unknown:
            raise ValueError(
                f"{self.task.env_id}: unknown reset options {sorted(unknown)}; use 'clip' or 'audio'"
            )
        if "clip" in options and "audio" in options:
            raise ValueError(
                f"{self.task.env_id}: reset options 'clip' and 'audio' exclude each other"
            )
        if "audio" in options:
            ep = self._user_episode(Path(os.fspath(options["audio"])))
        else:
            index = (
                self._clip_index(options["clip"])
                if "clip" in options
                else int(rng.integers(len(self.clips)))
            )
            ep = self.corpus_episode(index)
        self._check_reward_inputs(ep, self.reward)
        return ep

    def _clip_index(self, clip: int | str) -> int:
        if isinstance(clip, (int, np.integer)):
            if not 0 <= clip < len(self.clips):
                raise ValueError(
                    f"{self.task.env_id}: clip index {clip} not in 0..{len(self.clips) - 1}"
                )
            return int(clip)
        index_of = getattr(self.clips, "index_of", None)
        if index_of is not None:
            return int(index_of(clip))
        for i, c in enumerate(self.clips):
            if c.id == clip:
                return i
        raise KeyError(f"{self.task.env_id}: no clip {clip!r} in the corpus split")

    def _cached(self, key: Any, make) -> EpisodeData:
        """LRU of precomputed episodes, bounded in bytes: a training run revisits every clip."""
        ep = self._episodes.pop(key, None)
        if ep is None:
            ep = make()
            self._episode_bytes += ep.nbytes
        self._episodes[key] = ep
        while self._episode_bytes > EPISODE_CACHE_BYTES and len(self._episodes) > 1:
            self._episode_bytes -= self._episodes.popitem(last=False)[1].nbytes
        return ep

    def corpus_episode(self, index: int) -> EpisodeData:
        """The precomputed episode of corpus clip ``index`` (cached in memory)."""

        def make() -> EpisodeData:
            clip = self.clips[index]
            self.codec.check_clip(clip)
            tokens = self.codec.tokens_of(clip) if clip.motion is not None else None
            return self._episode(clip, index, tokens)

        return self._cached(index, make)

    def _user_episode(self, path: Path) -> EpisodeData:
        """An episode on a user's audio file: features and beats from the audio, no ground truth."""
        from gesture_gym.audio import AudioError, features_for_file, load_audio

        def make() -> EpisodeData:
            kind = "speech" if self.task.kind == "speech" else "music"
            features = features_for_file(path, self.fps, kind)
            audio, sample_rate = load_audio(path)
            clip = Clip(
                id=str(path),
                split="user",
                fps=self.fps,
                skeleton=self.codec.source_skeleton,
                motion=None,
                audio=audio,
                sample_rate=sample_rate,
                features=features,
                beats=features.beats if kind == "music" else features.onsets,
            )
            return self._episode(clip, None, None)

        try:
            modified = path.stat().st_mtime_ns
        except OSError as e:
            raise AudioError(f"{path}: cannot read the audio file ({e.strerror})") from None
        return self._cached(("audio", str(path.resolve()), modified), make)

    def _episode(self, clip: Clip, index: int | None, tokens: np.ndarray | None) -> EpisodeData:
        return episode_data(
            clip,
            index,
            self.spec,
            self.stats,
            joints=self.codec.joints,
            tokens=tokens,
            first_token=self._user_first_token() if tokens is None else tokens[0],
            clip_length=self.clip_length,
            onset_column=self.audio_layout["onset_strength"],
        )

    def _user_first_token(self) -> np.ndarray:
        """First token of episodes without ground truth: the first corpus clip's first token."""
        if self._fallback_first is None:
            clip = self.clips[0]
            if clip.motion is None:
                raise ValueError(
                    f"{self.task.env_id}: user audio needs a first token, taken from the corpus's "
                    f"first clip {clip.id!r}, which has no motion"
                )
            self._fallback_first = self.codec.tokens_of(clip)[0]
        return self._fallback_first

    @staticmethod
    def _check_reward_inputs(ep: EpisodeData, reward: Any) -> None:
        available = INPUT_NAMES if ep.has_ground_truth else INPUT_NAMES - {"ground_truth"}
        reward.check_available(available, f"the episode on {ep.clip_id!r}")

    def _install(
        self, i: int, ep: EpisodeData, slot: int, frames: np.ndarray, token: np.ndarray
    ) -> None:
        """Make ``ep`` env i's episode, its first token decoded into ``frames`` in decoder ``slot``."""
        rows = self._rows
        self.episodes[i] = ep
        self.slot[i] = slot
        rows.put("audio", i, ep.audio)
        if ep.words is not None:
            rows.put("words", i, ep.words)
        motion = np.empty((ep.n_frames,) + frames.shape[1:], np.float32)
        motion[: self.frames_per_token] = frames
        rows.put("motion", i, motion)
        rows.put("beats", i, ep.beat_frames)
        self._store_reward_arrays(i, ep)
        self._clip_ids[i] = ep.clip_id
        self.t[i] = 1
        self.n_steps[i] = ep.n_steps
        self.history[i] = token
        self.reward.reset(np.array([i]))

    def _store_reward_arrays(self, i: int, ep: EpisodeData) -> None:
        """Batch the frame arrays only some reward models read (raw audio, ground truth)."""
        if "audio" in self.reward.needs:
            self._rows.put("audio_raw", i, ep.audio_raw)
        if "ground_truth" in self.reward.needs and ep.ground_truth is not None:
            self._rows.put("ground_truth", i, ep.ground_truth)

    # --- stepping -------------------------------------------------------------------------------
    def advance(
        self,
        actions: np.ndarray | None,
        starting: np.ndarray,
        new_episodes: Sequence[EpisodeData | None],
        next_episodes: Sequence[EpisodeData | None] = (),
    ) -> CoreStep:
        """One decoder call and one reward call for all B envs.

        Args:
            actions: (B,) or (B, P) validated tokens (rows of starting envs are ignored), or None
                when every env starts.
            starting: (B,) bool, envs that begin ``new_episodes[i]`` with this call (its first
                token is decoded; they get reward 0 and their reset observation).
            new_episodes: B entries, an EpisodeData where ``starting``.
            next_episodes: in same-step mode, B entries: the episode each env starts if this step
                ends its current one (see :meth:`ending`).
        """
        B, fpt = self.num_envs, self.frames_per_token
        stepping = ~starting
        if not (self._ready or starting.all()):
            raise RuntimeError(f"{self.task.env_id}: call reset() before step()")
        self._ready = True
        if np.any(stepping & (self.t >= self.n_steps)):
            raise RuntimeError(
                f"{self.task.env_id}: stepping a finished episode; call reset() first"
            )
        start_idx = np.flatnonzero(starting)
        if actions is not None and not len(start_idx) and not self.same_step_reset:
            tokens = actions  # the common step: every env steps, slot i is env i
        else:
            tokens = np.zeros((self.decoder_slots,) + self.codec.token_shape, np.int64)
            if actions is not None:
                tokens[self.slot[stepping]] = actions[stepping]
        for i in start_idx:
            tokens[self.slot[i]] = new_episodes[i].first_token
        if len(start_idx):
            self.decoder.reset(self.slot[start_idx])
        ending = self.ending() if self.same_step_reset else np.zeros(B, bool)
        ending &= stepping
        end_idx = np.flatnonzero(ending)
        if len(end_idx):
            spare = self.spare[end_idx]
            self.decoder.reset(spare)
            for i, s in zip(end_idx, spare, strict=True):
                tokens[s] = next_episodes[i].first_token
        frames = self.decoder.step(tokens)  # the one decoder call
        for i in start_idx:
            self._install(
                i, new_episodes[i], self.slot[i], frames[self.slot[i]], tokens[self.slot[i]]
            )
        # stepping envs: append their frames and tokens
        own = frames[self.slot] if self.same_step_reset else frames  # slots move only then
        step_idx = np.flatnonzero(stepping)
        if len(step_idx) == B:  # the common step: no fancy indexing
            self._rows.write("motion", step_idx, self.t * fpt, own)
            self.history[:, :-1] = self.history[:, 1:]
            self.history[:, -1] = actions
            self.t += 1
        elif len(step_idx):
            self._rows.write("motion", step_idx, self.t[step_idx] * fpt, own[step_idx])
            self.history[step_idx, :-1] = self.history[step_idx, 1:]
            self.history[step_idx, -1] = actions[step_idx]
            self.t[step_idx] += 1
        inputs = self._reward_inputs()
        reward, terms = self.reward.score(inputs)  # the one reward call
        if len(start_idx):  # a starting env's first token earns nothing
            reward = np.where(starting, np.float32(0), reward)
            terms = {k: np.where(starting, np.float32(0), v) for k, v in terms.items()}
        terminated = stepping & (self.t >= self.n_steps)
        frame_range = inputs.frame_start[:, None] + np.array([0, fpt])
        clip_ids = inputs.clip_ids
        metrics = self._metrics(np.flatnonzero(terminated)) if terminated.any() else None
        obs = self.observe()
        tokens_out = inputs.tokens  # a copy of the history, read-only for the reward models
        final_obs = None
        if len(end_idx):
            final_obs = obs
            old = self.slot[end_idx].copy()
            for i, s in zip(end_idx, self.spare[end_idx], strict=True):
                self._install(i, next_episodes[i], s, frames[s], tokens[s])
            self.spare[end_idx] = old
            obs = self.observe()
        return CoreStep(
            obs=obs,
            reward=reward.astype(np.float32, copy=False),
            terminated=terminated,
            terms=terms,
            tokens=tokens_out,
            frame_range=frame_range,
            clip_ids=clip_ids,
            metrics=metrics,
            final_obs=final_obs,
        )

    @property
    def decoder_slots(self) -> int:
        return self.num_envs + len(self.spare)

    def ending(self) -> np.ndarray:
        """(B,) bool: envs whose next step is their episode's last."""
        return self.t + 1 >= self.n_steps

    def _reward_inputs(self) -> RewardInputs:
        W, fpt = self.window, self.frames_per_token
        end = self.t * fpt
        idx = np.maximum(end[:, None] - W + np.arange(W), 0)  # before the start: the first frame
        rows = self._rows
        needs = self.reward.needs
        return RewardInputs(
            fps=self.fps,
            skeleton=self.codec.skeleton,
            motion=rows.gather("motion", idx),
            new_frames=fpt,
            audio=rows.gather("audio_raw", idx) if "audio" in needs else None,
            audio_layout=self.audio_layout,
            audio_beats=rows.gather("beats", idx),
            tokens=self.history.copy(),
            frame_start=end - fpt,
            clip_ids=tuple(self._clip_ids),
            ground_truth=rows.gather("ground_truth", idx) if "ground_truth" in needs else None,
        )

    def _metrics(self, done: np.ndarray) -> dict[str, np.ndarray]:
        """``episode_metrics`` of the finished envs ``done`` (NaN for the others)."""
        out = {name: np.full(self.num_envs, np.nan) for name in METRIC_NAMES}
        for i in done:
            ep = self.episodes[i]
            motion = self._rows["motion"][i, : ep.n_frames]
            for name, value in episode_metrics(motion, ep.beat_times, self.fps).items():
                out[name][i] = value
        return out

    def observe(self) -> Any:
        """The B current observations (flat array, or dict of arrays)."""
        B, spec = self.num_envs, self.spec
        window = (self.t * self.frames_per_token)[:, None] + np.arange(spec.audio_frames)
        audio = self._rows.gather("audio", window)
        progress = (self.t / self.n_steps).astype(np.float32)[:, None]
        words = self._rows.gather("words", window) if spec.text else None
        if spec.mode == "dict":
            obs = {
                "audio": audio,
                "tokens": self.history.reshape(B, -1).copy(),
                "progress": progress,
            }
            if words is not None:
                obs["words"] = words
            return obs
        out = np.empty((B, spec.size), np.float32)
        out[:, self.slices["audio"]] = audio.reshape(B, -1)
        out[:, self.slices["tokens"]] = self.code_vectors(self.history).reshape(B, -1)
        out[:, self.slices["progress"]] = progress
        if words is not None:
            bag = np.zeros((B, WORD_BUCKETS), np.float32)
            bag[np.arange(B)[:, None], words] = 1.0
            bag[:, 0] = 0.0
            out[:, self.slices["text"]] = bag
        return out

    def code_vectors(self, tokens: np.ndarray) -> np.ndarray:
        """(..., H) or (..., H, P) tokens -> (..., H, sum C_p) normalised code vectors."""
        if len(self._codes) == 1:
            return self._codes[0].take(tokens, axis=0)  # take: faster than fancy indexing
        if self._stacked_codes is not None:
            rows = tokens + self._code_offsets
            return self._stacked_codes.take(rows, axis=0).reshape(rows.shape[:-1] + (-1,))
        return np.concatenate([c[tokens[..., p]] for p, c in enumerate(self._codes)], axis=-1)

    # --- for agents, renderers and exports -----------------------------------------------------------
    def expert_tokens(self) -> np.ndarray:
        """(B,) or (B, P) ground-truth token of each env's next step (the last one when finished)."""
        out = np.empty((self.num_envs,) + self.codec.token_shape, np.int64)
        for i, ep in enumerate(self.episodes):
            if ep is None or ep.tokens is None:
                raise ValueError(
                    f"{self.task.env_id}: env {i} has no ground-truth tokens "
                    f"({'not reset' if ep is None else f'user audio {ep.clip_id!r}'})"
                )
            out[i] = ep.tokens[min(self.t[i], ep.n_steps - 1)]
        return out

    def motion(self, i: int) -> np.ndarray:
        """(frames decoded so far, J, 3) generated motion of env i's episode (a copy)."""
        return self._rows["motion"][i, : self.t[i] * self.frames_per_token].copy()

    def render(self, i: int, size: tuple[int, int] = (480, 480)) -> np.ndarray:
        """An RGB frame of env i: the current pose and the audio strip with beats."""
        from gesture_gym.render import render_frame

        ep = self.episodes[i]
        if ep is None:
            raise RuntimeError(f"{self.task.env_id}: call reset() before render()")
        cur = int(self.t[i] * self.frames_per_token - 1)
        half = int(round(RENDER_SECONDS * self.fps))
        idx = cur + np.arange(-half, half + 1)
        inside = (idx >= 0) & (idx < ep.n_frames)
        safe = np.clip(idx, 0, ep.n_frames - 1)
        strip = np.where(inside, ep.onset[safe], 0.0)
        beats = inside & ep.beat_frames[safe]
        pose = self._rows["motion"][i, cur]
        return render_frame(pose, self.codec.skeleton, strip, beats, half, size=size)
