"""Env throughput (issue 4), every figure a ratio against a reference measured in the same run:

1. step cost flat in episode length: a single CoSpeechGesture-v0 env on a long speech file, mean
   step time around step 512 over the mean around step 32 (goal <= 1.2);
2. the batched vector env (64 envs, default reward): env-steps per second over CartPole-v1's
   single-env steps per second (goal >= 0.25);
3. training overhead: SB3 PPO env-steps per second through the adapter over the same PPO on a
   dummy VecEnv with identical spaces that does no work (goal >= 0.8).

Measurements alternate with their references and keep the best of ``repeats`` (the machine is
shared), with torch on one thread.

    python -m benchmarks.throughput [--envs CoSpeechGesture-v0 MusicDance-v0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import soundfile as sf
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv


@dataclass(frozen=True)
class Args:
    envs: tuple[str, ...] = ("CoSpeechGesture-v0", "MusicDance-v0")  # vector env rows
    num_envs: int = 64  # envs of the batched vector env
    vector_steps: int = 200  # timed vector steps per repeat
    n_clips: int = 0  # training clips episodes cycle through, 0 = all (precomputed in warm-up)
    cartpole_steps: int = 50_000  # timed CartPole-v1 steps per repeat
    flat_steps: tuple[int, int] = (32, 512)  # steps compared for flatness
    flat_window: int = 32  # steps averaged around each of them
    ppo_env: str = "CoSpeechGesture-v0"
    ppo_envs: int = 16  # envs of the PPO VecEnv
    ppo_steps: int = 8192  # env-steps per PPO run (SB3 defaults otherwise, n_steps below)
    ppo_n_steps: int = 256  # PPO rollout length per env
    repeats: int = 3
    threads: int = 1


def best_rate(run: Callable[[], tuple[int, float]], repeats: int) -> float:
    """The best items-per-second of ``repeats`` runs; ``run`` returns (items, seconds)."""
    return max(n / s for n, s in (run() for _ in range(repeats)))


def cartpole(steps: int) -> tuple[int, float]:
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(2, size=steps)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(int(a))
        if terminated or truncated:
            env.reset()
    return steps, time.perf_counter() - start


def vector(venv: gym.vector.VectorEnv, steps: int) -> tuple[int, float]:
    actions = [venv.action_space.sample() for _ in range(steps)]
    start = time.perf_counter()
    for a in actions:
        venv.step(a)
    return steps * venv.num_envs, time.perf_counter() - start


def long_speech_file(folder: Path, seconds: float) -> Path:
    """Training clips' speech joined into one file long enough for the flatness episode."""
    from gesture_gym.data import load_corpus

    clips = load_corpus("speech-gesture", "train")
    parts, total, i = [], 0.0, 0
    while total < seconds:
        parts.append(clips[i].audio)
        total += clips[i].duration
        i += 1
    path = folder / "long_speech.wav"
    sf.write(path, np.concatenate(parts), clips[0].sample_rate)
    return path


def step_times(env: gym.Env, audio: Path, last: int) -> np.ndarray:
    """Seconds of each step of one episode on ``audio``, up to step ``last``."""
    env.reset(options={"audio": audio})
    actions = [env.action_space.sample() for _ in range(last)]
    times = np.empty(last)
    for k, a in enumerate(actions):
        start = time.perf_counter()
        env.step(a)
        times[k] = time.perf_counter() - start
    return times


def flatness(args: Args) -> dict[str, float]:
    env = gym.make("CoSpeechGesture-v0")
    early, late = args.flat_steps
    half = args.flat_window // 2
    last = late + half + 1
    fpt, fps = env.unwrapped.core.frames_per_token, env.unwrapped.core.fps
    with tempfile.TemporaryDirectory() as tmp:
        audio = long_speech_file(Path(tmp), (last + 2) * fpt / fps)
        step_times(env, audio, last)  # warm: features cached, episode precomputed
        runs = np.stack([step_times(env, audio, last) for _ in range(args.repeats)])
    # steps are numbered from 1 (the first action): step k is index k - 1
    a = np.median(runs[:, early - 1 - half : early - 1 + half], axis=0).mean()
    b = np.median(runs[:, late - 1 - half : late - 1 + half], axis=0).mean()
    return {"early_us": a * 1e6, "late_us": b * 1e6, "ratio": b / a}


class DummyVecEnv(VecEnv):
    """An SB3 VecEnv with another's spaces and episode length that does no work (zeros, reward 0)."""

    def __init__(self, like: VecEnv, episode_steps: int) -> None:
        self.render_mode = None
        super().__init__(like.num_envs, like.observation_space, like.action_space)
        self.obs = np.zeros((like.num_envs, *like.observation_space.shape), np.float32)
        self.episode_steps, self.t = episode_steps, 0

    def reset(self) -> np.ndarray:
        self.t = 0
        return self.obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        pass

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        self.t += 1
        done = self.t % self.episode_steps == 0
        infos = [
            {"terminal_observation": self.obs[0]} if done else {} for _ in range(self.num_envs)
        ]
        return (
            self.obs.copy(),
            np.zeros(self.num_envs, np.float32),
            np.full(self.num_envs, done),
            infos,
        )

    def close(self) -> None:
        pass

    def get_attr(self, name, indices=None):
        return [getattr(self, name)] * self.num_envs

    def set_attr(self, name, value, indices=None) -> None:
        setattr(self, name, value)

    def env_method(self, name, *args, indices=None, **kwargs):
        return [getattr(self, name)(*args, **kwargs)] * self.num_envs

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * self.num_envs


def ppo_rate(venv: VecEnv, args: Args) -> tuple[int, float]:
    model = PPO("MlpPolicy", venv, n_steps=args.ppo_n_steps, seed=0, device="cpu")
    start = time.perf_counter()
    model.learn(args.ppo_steps)
    return model.num_timesteps, time.perf_counter() - start


def training_overhead(args: Args) -> dict[str, float]:
    from gesture_gym.envs import make_sb3_vec_env

    venv = make_sb3_vec_env(
        args.ppo_env, num_envs=args.ppo_envs, monitor=False, n_clips=args.n_clips or None
    )
    venv.reset()
    dummy = DummyVecEnv(venv, episode_steps=int(venv.venv.core.n_steps[0]) - 1)
    env_rate = dummy_rate = 0.0
    for _ in range(args.repeats):  # alternate, keep the best of each
        env_rate = max(env_rate, np.divide(*ppo_rate(venv, args)))
        dummy_rate = max(dummy_rate, np.divide(*ppo_rate(dummy, args)))
    return {"env": env_rate, "dummy": dummy_rate, "ratio": env_rate / dummy_rate}


def vector_throughput(env_id: str, args: Args, cartpole_rate: list[float]) -> dict[str, float]:
    venv = gym.make_vec(
        env_id,
        num_envs=args.num_envs,
        vectorization_mode="vector_entry_point",
        n_clips=args.n_clips or None,
    )
    venv.reset(seed=0)
    core = venv.unwrapped.core
    for i in range(len(core.clips)):  # precompute every episode, as a long training run has
        core.choose_episode(venv.unwrapped.np_random, {"clip": i})
    vector(venv, 2 * int(core.n_steps.max()))  # warm: whole episodes, resets included
    rate = 0.0
    for _ in range(args.repeats):
        rate = max(rate, np.divide(*vector(venv, args.vector_steps)))
        cartpole_rate.append(np.divide(*cartpole(args.cartpole_steps)))
    return {"env": rate, **step_breakdown(venv, args.vector_steps)}


def step_breakdown(venv: gym.vector.VectorEnv, steps: int) -> dict[str, float]:
    """Microseconds per vector step spent in the decoder, the reward model, the episode metrics
    and the rest of the env (timers wrapped around the core's three calls)."""
    core = venv.unwrapped.core
    spent = {"decoder_us": 0.0, "reward_us": 0.0, "metrics_us": 0.0}
    parts = {"decoder_us": (core.decoder, "step"), "reward_us": (core.reward, "score"),
             "metrics_us": (core, "_metrics")}  # fmt: skip

    def timed(key: str, fn: Callable) -> Callable:
        def call(*a, **k):
            start = time.perf_counter()
            out = fn(*a, **k)
            spent[key] += time.perf_counter() - start
            return out

        return call

    for key, (owner, name) in parts.items():
        setattr(owner, name, timed(key, getattr(owner, name)))
    n, seconds = vector(venv, steps)
    for owner, name in parts.values():
        delattr(owner, name)  # back to the class's method
    out = {key: value / steps * 1e6 for key, value in spent.items()}
    out["rest_us"] = seconds / steps * 1e6 - sum(out.values())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in fields(Args):
        default = getattr(Args, f.name)
        if isinstance(default, tuple):
            kind = type(default[0])
            parser.add_argument(
                f"--{f.name.replace('_', '-')}", type=kind, nargs="+", default=default
            )
        else:
            parser.add_argument(
                f"--{f.name.replace('_', '-')}", type=type(default), default=default
            )
    ns = vars(parser.parse_args())
    args = Args(**{k: tuple(v) if isinstance(v, list) else v for k, v in ns.items()})
    report(args)


def report(args: Args) -> dict[str, dict[str, float]]:
    """Measure everything and print the README table; returns the figures."""
    import gesture_gym  # noqa: F401

    torch.set_num_threads(args.threads)
    cartpole_rate: list[float] = []
    rows = {env_id: vector_throughput(env_id, args, cartpole_rate) for env_id in args.envs}
    cp = max(cartpole_rate)
    flat = flatness(args)
    ppo = training_overhead(args)
    early, late = args.flat_steps
    print(f"\n| figure (torch threads {args.threads}, best of {args.repeats}) | gesture-gym | "
          "reference | ratio | goal |")  # fmt: skip
    print("|---|---|---|---|---|")
    print(f"| CoSpeechGesture-v0 step time, step {late} vs step {early} (1 env, mean of "
          f"{args.flat_window} steps) | {flat['late_us']:.0f} us | {flat['early_us']:.0f} us | "
          f"{flat['ratio']:.2f} | <= 1.2 |")  # fmt: skip
    for env_id, row in rows.items():
        row["ratio"] = row["env"] / cp
        print(f"| {env_id} vector env, {args.num_envs} envs, default reward (env-steps/s) | "
              f"{row['env']:,.0f} | CartPole-v1 {cp:,.0f} | {row['ratio']:.2f} | >= 0.25 |")  # fmt: skip
    print(f"| SB3 PPO on {args.ppo_env} via the adapter, {args.ppo_envs} envs (env-steps/s) | "
          f"{ppo['env']:,.0f} | dummy env {ppo['dummy']:,.0f} | {ppo['ratio']:.2f} | >= 0.8 |")  # fmt: skip
    print(f"\nWhere a vector step ({args.num_envs} envs) goes, microseconds:\n")
    print("| env | decoder | reward model | episode metrics | rest of the env |")
    print("|---|---|---|---|---|")
    for env_id, row in rows.items():
        print(f"| {env_id} | {row['decoder_us']:.0f} | {row['reward_us']:.0f} | "
              f"{row['metrics_us']:.0f} | {row['rest_us']:.0f} |")  # fmt: skip
    return {"flat": flat, "ppo": ppo, **rows, "cartpole": {"env": cp}}


if __name__ == "__main__":
    main()
