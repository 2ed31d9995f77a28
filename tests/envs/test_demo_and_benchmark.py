"""Tiny-budget runs of the main demo and of the throughput benchmark (they must keep working)."""

import numpy as np
import torch

from benchmarks.throughput import Args, report
from gesture_gym.cli import main

torch.set_num_threads(1)


def test_throughput_benchmark_prints_every_ratio(capsys):
    args = Args(
        envs=("MusicDanceFullBody-v0",), num_envs=4, vector_steps=5, n_clips=2, cartpole_steps=500,
        flat_steps=(4, 12), flat_window=4, ppo_envs=2, ppo_steps=128, ppo_n_steps=32, repeats=1,
    )  # fmt: skip
    figures = report(args)
    table = capsys.readouterr().out
    assert table.count("\n|") == 5 + 3  # the figures (one vector row) and the step breakdown
    for key in ("flat", "ppo", "MusicDanceFullBody-v0"):
        assert np.isfinite(figures[key]["ratio"]) and figures[key]["ratio"] > 0


def test_demo_writes_videos_plots_and_frames(tmp_path, capsys):
    args = ["--out", str(tmp_path), "--episodes", "1", "--n-clips", "2", "--clip-length", "6"]
    assert main(["demo", *args]) == 0
    out = capsys.readouterr().out
    for name in ("ground_truth_replay", "uniform_random", "ground truth motion", "beat_align"):
        assert name in out
    for slug in ("cospeechgesture", "musicdance"):
        for suffix in (
            "_ground_truth_replay.mp4",
            "_uniform_random.mp4",
            "_baselines.png",
            "_frame.png",
        ):
            assert (tmp_path / f"{slug}{suffix}").stat().st_size > 1000
    assert (tmp_path / "speech-gesture.png").exists() and (tmp_path / "music-dance.png").exists()
