import json
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from gesture_gym.cli import main
from gesture_gym.data import load_corpus


def copy_clips(corpus_name: str, folder, n: int) -> list:
    corpus = load_corpus(corpus_name, "test")
    folder.mkdir()
    clips = list(corpus[:n])  # makes (and caches) the clips
    for i in range(n):
        shutil.copy(corpus.path(i), folder / corpus.path(i).name)
    return clips


def test_eval_dance_folders_writes_csv_and_markdown(tmp_path, capsys):
    clips = copy_clips("music-dance", tmp_path / "ref", 6)  # clip files written by gesture_gym
    gen = tmp_path / "gen"
    gen.mkdir()
    rng = np.random.default_rng(0)
    for i, c in enumerate(clips):
        motion = c.motion + rng.normal(scale=0.01, size=c.motion.shape)
        if i == 0:  # beats from an audio file beside the motion
            np.savez(gen / f"{i:05d}.npz", motion=motion, fps=c.fps)
            sf.write(gen / f"{i:05d}.wav", c.audio, c.sample_rate)
        else:
            np.savez(gen / f"{i:05d}.npz", motion=motion, fps=c.fps, beats=c.beats)
    out = tmp_path / "scores"
    assert main(["eval", str(gen), str(tmp_path / "ref"), "--paired", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "FID_k" in printed and "6 generated clips vs 6 reference clips" in printed
    table = pd.read_csv(out.with_suffix(".csv"), index_col="metric")
    assert {"FID_k", "FID_g", "DIV_k", "DIV_g", "BAS", "BAS_FACT", "MAJE", "MAD"} <= set(
        table.index
    )
    assert table.loc["MAJE", "value"] == pytest.approx(0.01 * np.sqrt(2 / np.pi), rel=0.05)
    markdown = out.with_suffix(".md").read_text()
    assert markdown.startswith("| metric | value | better |\n|---|---|---|\n| FID_k |")


def test_train_extractor_and_eval_speech_with_it(tmp_path, capsys):
    folder = tmp_path / "weights"
    args = ["metrics", "train-extractor", "--dataset", "speech-gesture", "--n-clips", "4"]
    assert main(args + ["--steps", "3", "--name", "mine", "--folder", str(folder)]) == 0
    entry = json.loads((folder / "manifest.json").read_text())["mine"]
    assert "--steps 3" in entry["command"] and "--n-clips 4" in entry["command"]
    assert entry["sha256"] in capsys.readouterr().out

    copy_clips("speech-gesture", tmp_path / "clips", 4)
    out = tmp_path / "m"
    clips = str(tmp_path / "clips")
    cmd = ["eval", clips, clips, "--protocol", "beat", "--out", str(out)]
    assert main(cmd + ["--extractor", "mine", "--extractor-folder", str(folder)]) == 0
    table = pd.read_csv(out.with_suffix(".csv"), index_col="metric")
    assert list(table.index) == ["FGD", "BC", "L1div", "PMB", "BC_corrected"]
    assert table.loc["FGD", "value"] == pytest.approx(0.0, abs=1e-6)


def test_eval_reports_bad_input_with_the_file(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "missing"), str(tmp_path)]) == 2
    assert "missing: not a folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["eval", str(empty), str(empty)]) == 2
    assert "no .npz" in capsys.readouterr().err

    bad = tmp_path / "bad"
    bad.mkdir()
    np.savez(bad / "a.npz", positions=np.zeros((10, 24, 3)))
    assert main(["eval", str(bad), str(bad)]) == 2
    assert "a.npz: no 'motion' array" in capsys.readouterr().err

    nobeats = tmp_path / "nobeats"
    nobeats.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        np.savez(nobeats / f"{i}.npz", motion=rng.normal(size=(60, 24, 3)), fps=30.0)
    assert main(["eval", str(nobeats), str(nobeats)]) == 2
    assert "0.npz): no beats" in capsys.readouterr().err
