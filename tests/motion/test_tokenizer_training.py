"""Training a tokenizer: the loss falls, an interrupted run resumes to the same weights, the CLI
trains, saves and evaluates, and the token cache is keyed by weights and clip."""

import csv
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_tokenizer import FPS, synthetic_motion, tiny_config

from gesture_gym.audio import AudioFeatures
from gesture_gym.data.clip import Clip
from gesture_gym.motion.skeleton import SMPL24
from gesture_gym.motion.tokenizer import Tokenizer, TrainConfig, clip_tokens, train, with_tokens
from gesture_gym.motion.tokenizer import training as training_module


@pytest.fixture(scope="module")
def motions():
    rng = np.random.default_rng(3)
    return [synthetic_motion(SMPL24, 96, rng) for _ in range(4)]


def read_log(run):
    with open(run / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_short_training_lowers_the_loss_and_reconstructs_what_it_saw(motions, tmp_path):
    m = motions[0][:80]
    tc = TrainConfig(steps=100, batch_size=8, window=64, lr=1e-2, log_every=10, threads=1)
    cfg = tiny_config("lower", depth=2, velocity_weight=1.0, acceleration_weight=1.0)
    tok = train(Tokenizer.create(cfg), [m], tc, tmp_path, progress=False)
    rows = read_log(tmp_path)
    assert [int(r["step"]) for r in rows] == list(range(10, 101, 10))
    assert float(rows[-1]["recon"]) < 0.6 * float(rows[0]["recon"])
    assert 0 < float(rows[-1]["used"]) <= 1 and float(rows[-1]["perplexity"]) >= 1
    rep = tok.representation
    body = rep.body(rep.features(m))
    rec = rep.body(tok.decode_features(tok.encode(m)))
    err = np.linalg.norm(rec - body, axis=-1).mean()
    assert err < 0.5 * np.linalg.norm(body - body.mean(0), axis=-1).mean()  # beats the mean pose


RESUME_CONFIG = TrainConfig(
    steps=12, batch_size=4, window=32, checkpoint_every=4, log_every=2, threads=1
)


def killed_then_resumed(motions, tmp_path, monkeypatch, name: str, killer) -> None:
    """Train once whole, once killed by ``killer`` (patched over ``training.<name>``) and resumed
    in the same folder; the resumed weights must equal the whole run's exactly."""

    def fit(run):
        return train(
            Tokenizer.create(tiny_config("lower")), motions, RESUME_CONFIG, run, progress=False
        )

    whole = fit(tmp_path / "a")
    monkeypatch.setattr(training_module, name, killer(getattr(training_module, name)))
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path / "b")
    monkeypatch.undo()
    resumed = fit(tmp_path / "b")
    for key, value in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=0, msg=key)


def test_interrupted_run_resumes_to_the_same_weights_and_log(motions, tmp_path, monkeypatch):
    def crash_after_step_8(save):
        def wrapped(run, meta, step, *args):
            save(run, meta, step, *args)
            if step == 8:
                raise KeyboardInterrupt

        return wrapped

    killed_then_resumed(motions, tmp_path, monkeypatch, "_save_checkpoint", crash_after_step_8)
    steps = [int(r["step"]) for r in read_log(tmp_path / "b")]
    assert steps == list(range(2, 13, 2))  # no row lost or written twice
    other = TrainConfig(**{**RESUME_CONFIG.__dict__, "lr": RESUME_CONFIG.lr / 2})
    with pytest.raises(ValueError, match="its train differs"):
        train(
            Tokenizer.create(tiny_config("lower")), motions, other, tmp_path / "b", progress=False
        )


def test_a_run_killed_between_the_checkpoint_files_resumes_from_the_previous_pair(
    motions, tmp_path, monkeypatch
):
    def killed_before_the_second_json(write):
        json_writes = []

        def wrapped(path, fn):
            if path.name == "checkpoint.json":
                json_writes.append(path)
                if len(json_writes) == 2:  # step 8's tensors are on disk, its json is not
                    raise KeyboardInterrupt
            write(path, fn)

        return wrapped

    killed_then_resumed(
        motions, tmp_path, monkeypatch, "atomic_write", killed_before_the_second_json
    )
    assert len(list((tmp_path / "b").glob("checkpoint-*.safetensors"))) == 1


def synthetic_clip(i, motion, split="train"):
    n = len(motion)
    zeros = np.zeros(n, np.float32)
    feats = AudioFeatures(fps=FPS, sample_rate=FPS * 100, mel=np.zeros((n, 8), np.float32),
                          mfcc=np.zeros((n, 4), np.float32), onset_strength=zeros, rms=zeros,
                          pitch=None, onsets=np.zeros(0), beats=np.arange(0.5, n / FPS, 0.5),
                          tempo=120.0)  # fmt: skip
    return Clip(id=f"synthetic/{split}/{i:05d}", split=split, fps=FPS, skeleton=SMPL24,
                motion=motion, audio=np.zeros(n * 100, np.float32), sample_rate=FPS * 100,
                features=feats, beats=np.arange(0.5, n / FPS, 0.5))  # fmt: skip


def test_cli_trains_saves_with_its_command_and_evaluates(motions, tmp_path, monkeypatch, capsys):
    import gesture_gym.data
    from gesture_gym.cli import main

    clips = [synthetic_clip(i, m) for i, m in enumerate(motions)]
    monkeypatch.setattr(gesture_gym.data, "load_corpus", lambda name, split="train", **kw: clips)
    out = tmp_path / "weights"
    args = ["tokenizer", "train", "--corpus", "synthetic", "--part", "lower", "--out", str(out),
            "--run-dir", str(tmp_path / "run"), "--steps", "4", "--batch-size", "4",
            "--window", "32", "--width", "16", "--depth", "1", "--codebook-size", "16",
            "--code-dim", "8", "--downsample", "4", "--threads", "1", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    entry = json.loads((out / "manifest.json").read_text())["synthetic-lower"]
    assert entry["command"].startswith(
        "gesture-gym tokenizer train --corpus synthetic --part lower"
    )
    assert "--width 16" in entry["command"] and "--steps 4" in entry["command"]
    tok = Tokenizer.load("synthetic-lower", out)
    assert (
        tok.config.root == "trajectory" and tok.config.canonical_yaw
    )  # SMPL-24 lower body carries the root
    capsys.readouterr()
    ev = ["tokenizer", "eval", "--name", "synthetic-lower", "--folder", str(out), "--corpus", "x",
          "--split", "test"]  # fmt: skip
    assert main(ev) == 0
    table = capsys.readouterr().out
    assert "| synthetic-lower | test | 4 |" in table and "perplexity" in table
    assert main(["tokenizer", "train", "--corpus", "synthetic", "--part", "hands"]) == 2


def test_token_cache_is_keyed_by_weights_and_clip(motions, private_cache, monkeypatch):
    tok = Tokenizer.create(tiny_config("lower"))
    clip = synthetic_clip(0, motions[0])
    tokens = clip_tokens(tok, clip)
    np.testing.assert_array_equal(tokens, tok.encode(clip.motion))
    assert len(list(private_cache.glob(f"tokens/{tok.sha256[:24]}/*.npy"))) == 1
    monkeypatch.setattr(tok, "encode", lambda m: pytest.fail("cached tokens were encoded again"))
    np.testing.assert_array_equal(with_tokens(clip, tok).tokens["tiny-lower"], tokens)
    monkeypatch.undo()
    other = synthetic_clip(0, motions[1])  # same id, different motion: not the cached tokens
    np.testing.assert_array_equal(clip_tokens(tok, other), tok.encode(motions[1]))
    retrained = Tokenizer.create(tiny_config("lower", seed=1))
    assert retrained.sha256 != tok.sha256
    clip60 = synthetic_clip(1, motions[0])
    slow = replace(clip60, fps=60.0, features=replace(clip60.features, fps=60.0))
    with pytest.raises(
        ValueError, match="60.0 fps, but tokenizer 'tiny-lower' reads 'smpl24' at 30"
    ):
        clip_tokens(tok, slow)


def test_windows_within_the_decoders_receptive_field_are_flagged(motions, tmp_path):
    tok = Tokenizer.create(tiny_config("lower", depth=2))  # receptive field: 62 frames
    assert tok.model.decoder.receptive_field(4) == 62
    tc = TrainConfig(steps=1, batch_size=2, window=48, threads=1)
    with pytest.warns(UserWarning, match=r"receptive field \(62 frames\).*--window > 62"):
        train(tok, motions, tc, tmp_path, progress=False)
