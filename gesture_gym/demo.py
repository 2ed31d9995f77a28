"""`gesture-gym demo`: the README's first command, on the embedded corpora.

For each corpus it prints a summary and writes the corpus picture; then it runs episodes of
CoSpeechGesture-v0 and MusicDance-v0 on validation clips with the two baselines (ground-truth
token replay and uniform random tokens), prints their rewards and episode metrics side by side
(with the ground-truth motion's metrics for reference), and writes for each env a video of
each baseline's first episode (with its audio), a plot of both baselines and one rendered frame.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from gesture_gym.data.corpus import ProceduralCorpus
from gesture_gym.metrics import beat_align_score

DEMO_ENVS = ("CoSpeechGesture-v0", "MusicDance-v0")


def _corpus_summary(name: str, n_clips: int, out: Path) -> None:
    from gesture_gym.render.plots import plot_clip

    corpus = ProceduralCorpus(name, "val", n_clips=n_clips)
    start = time.perf_counter()
    clips = list(corpus)
    seconds = time.perf_counter() - start
    duration = sum(c.duration for c in clips)
    print(f"\n== {name}: {len(clips)} val clips, {duration:.0f} s of motion "
          f"({seconds:.2f} s to generate or load) ==")  # fmt: skip
    for key, value in corpus.summary().items():
        if key not in ("corpus", "split"):
            print(
                f"  {key:>12}: {value:.3g}" if isinstance(value, float) else f"  {key:>12}: {value}"
            )
    own = np.mean([beat_align_score(c.motion, c.beats, c.fps) for c in clips])
    other = np.mean([beat_align_score(c.motion, clips[i - 1].beats, c.fps)
                     for i, c in enumerate(clips)])  # fmt: skip
    print(
        f"  beat alignment of motion with its own audio {own:.3f}, with another clip's {other:.3f}"
    )
    print(f"  picture: {plot_clip(clips[0], out / f'{name}.png')}")


def _baselines(env_id: str, episodes: int, clip_length: int | None, out: Path) -> None:
    """Both baselines on the first ``episodes`` val clips: table, videos, plot and a frame."""
    import gymnasium as gym
    import pandas as pd
    from PIL import Image

    from agents import rollout
    from agents.baselines import GroundTruthReplay, UniformRandom
    from gesture_gym.envs.core import episode_metrics
    from gesture_gym.render import save_video

    env = gym.make(
        env_id, split="val", n_clips=episodes, clip_length=clip_length, render_mode="rgb_array"
    )
    core = env.unwrapped.core
    agents = [GroundTruthReplay(env), UniformRandom(env.action_space, seed=0)]
    start = time.perf_counter()
    runs = {
        a.name: [rollout(env, a, seed=k, options={"clip": k}) for k in range(episodes)]
        for a in agents
    }
    steps = sum(len(e.actions) for eps in runs.values() for e in eps)
    print(f"\n== {env_id}: {episodes} val clips per baseline, {steps} steps in "
          f"{time.perf_counter() - start:.1f} s ==")  # fmt: skip
    table: dict[str, dict[str, float]] = {}
    for name, eps in runs.items():
        col = {"return": np.mean([e.episode_return for e in eps])}
        for term in eps[0].reward_terms:
            col[f"{term} (mean/step)"] = np.mean([e.reward_terms[term].mean() for e in eps])
        for metric in eps[0].metrics:
            col[metric] = np.mean([e.metrics[metric] for e in eps])
        table[name] = col
    truth = [core.corpus_episode(k) for k in range(episodes)]
    truth = [episode_metrics(e.ground_truth, e.beat_times, core.fps) for e in truth]
    table["ground truth motion"] = {m: np.mean([t[m] for t in truth]) for m in truth[0]}
    print(pd.DataFrame(table).to_string(float_format=lambda v: f"{v:.3f}", na_rep=""))

    slug = env_id.split("-")[0].lower()
    clip, first = core.clips[0], core.corpus_episode(0)
    for name, eps in runs.items():
        path = save_video(out / f"{slug}_{name}.mp4", eps[0].motion, core.codec.skeleton, core.fps,
                          audio=clip.audio, sample_rate=clip.sample_rate, beats=first.beat_times)  # fmt: skip
        print(f"  video: {path}")
    print(f"  plot: {_plot(env_id, runs, table, out / f'{slug}_baselines.png')}")
    frame = out / f"{slug}_frame.png"
    Image.fromarray(_frame_at(env, agents[0], first.n_steps // 2)).save(frame)
    print(f"  frame: {frame}")


def _frame_at(env, agent, step: int) -> np.ndarray:
    """The rgb frame after ``step`` steps of ``agent`` on the first clip."""
    obs, info = env.reset(options={"clip": 0})
    for _ in range(step):
        obs, *_, info = env.step(agent.act(obs, info))
    return env.render()


def _plot(env_id: str, runs: dict, table: dict, path: Path) -> Path:
    """Per-step reward of each baseline (mean over episodes) and their episode metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_r, *ax_m) = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True,
                                      gridspec_kw={"width_ratios": [2.2, 1, 1]})  # fmt: skip
    for name, eps in runs.items():
        n = min(len(e.rewards) for e in eps)
        r = np.stack([e.rewards[:n] for e in eps])
        x = np.arange(1, n + 1)
        ax_r.plot(x, r.mean(axis=0), label=name)
        ax_r.fill_between(x, r.min(axis=0), r.max(axis=0), alpha=0.2)
    ax_r.set(xlabel="step (token)", ylabel="reward", title=f"{env_id}: reward per step")
    ax_r.legend(fontsize=8)
    names = list(table)
    metrics = {"beat_align": "beat alignment (BAS)", "jerk": "mean jerk (m/s^3)"}
    for ax, (metric, label) in zip(ax_m, metrics.items(), strict=True):
        ax.bar(range(len(names)), [table[n].get(metric, np.nan) for n in names],
               color=["tab:blue", "tab:orange", "tab:gray"])  # fmt: skip
        ax.set_xticks(
            range(len(names)), [n.replace("_", " ") for n in names], rotation=20, fontsize=8
        )
        ax.set_title(label)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _demo(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(1)  # small networks: one thread is fastest (and fair on shared cores)
    out = Path(args.out)
    for name in ("speech-gesture", "music-dance"):
        _corpus_summary(name, args.n_clips, out)
    for env_id in DEMO_ENVS:
        _baselines(env_id, args.episodes, args.clip_length, out)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the main demo on the embedded data")
    demo.add_argument("--out", default="demo_out", help="folder for the pictures and videos")
    demo.add_argument("--n-clips", type=int, default=6, help="val clips in the corpus summaries")
    demo.add_argument("--episodes", type=int, default=3, help="val episodes per baseline and env")
    demo.add_argument("--clip-length", type=int, default=None, help="cap on tokens per episode")
    demo.set_defaults(func=_demo)
