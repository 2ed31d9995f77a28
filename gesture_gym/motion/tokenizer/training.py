"""Training a tokenizer on CPU: seeded, resumable from periodic checkpoints, logged to CSV.

A run folder holds ``checkpoint-<step>.safetensors`` (model, optimiser and random-generator state),
``checkpoint.json`` (step, configs, the data's fingerprint, the sha256 of the tensors file) and
``log.csv`` (losses and codebook usage). Re-running the same command in the same folder resumes
where the last checkpoint left off and gives the same weights as an uninterrupted run.
"""

from __future__ import annotations

import csv
import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from gesture_gym.assets import sha256_file
from gesture_gym.cache import atomic_write, content_hash
from gesture_gym.motion.tokenizer.api import Tokenizer

LOG_COLUMNS = ("step", "loss", "recon", "commit", "perplexity", "used", "lr", "seconds")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the architecture is the TokenizerConfig's).

    Attributes:
        steps: optimiser steps.
        batch_size: windows per step.
        window: frames per training window (a multiple of the tokenizer's downsample).
        lr: Adam's peak learning rate; cosine decay to ``lr * min_lr_fraction``.
        min_lr_fraction: final learning rate as a fraction of ``lr``.
        grad_clip: maximum gradient norm.
        checkpoint_every: steps between checkpoints.
        log_every: steps per CSV row (losses averaged, codebook usage counted over them).
        threads: torch CPU threads.
    """

    steps: int = 6000
    batch_size: int = 32
    window: int = 96
    lr: float = 1e-3
    min_lr_fraction: float = 0.1
    grad_clip: float = 1.0
    checkpoint_every: int = 250
    log_every: int = 25
    threads: int = 2

    def lr_at(self, step: int) -> float:
        cos = 0.5 * (1.0 + math.cos(math.pi * step / max(self.steps, 1)))
        return self.lr * (self.min_lr_fraction + (1.0 - self.min_lr_fraction) * cos)


class Windows:
    """Random training windows over the features of many clips (one tensor, no copies per clip)."""

    def __init__(self, features: list[np.ndarray], window: int) -> None:
        usable = [f for f in features if len(f) >= window]
        if not usable:
            longest = max((len(f) for f in features), default=0)
            raise ValueError(
                f"no clip has {window} frames for a training window (longest: {longest})"
            )
        self.data = torch.from_numpy(np.concatenate(usable))
        offsets = np.cumsum([0] + [len(f) for f in usable[:-1]])
        self.starts = torch.from_numpy(
            np.concatenate(
                [o + np.arange(len(f) - window + 1) for o, f in zip(offsets, usable, strict=True)]
            )
        )
        self.span = torch.arange(window)
        self.n_clips = len(usable)

    def sample(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        pick = self.starts[torch.randint(len(self.starts), (batch,), generator=generator)]
        return self.data[pick[:, None] + self.span]  # (B, window, C)


def fit_normalisation(
    tokenizer: Tokenizer, motions: Sequence[np.ndarray], features: list[np.ndarray]
) -> None:
    """Per-channel mean/std of the features and the mean root position, into the model's buffers."""
    allf = np.concatenate(features).astype(np.float64)
    model = tokenizer.model
    model.mean.copy_(torch.from_numpy(allf.mean(0)))
    model.std.copy_(torch.from_numpy(np.maximum(allf.std(0), 1e-3)))
    root = np.concatenate([np.asarray(m)[:, 0] for m in motions]).mean(0)
    if tokenizer.config.canonical_yaw:
        root[[0, 2]] = 0.0  # a travelling dancer has no meaningful mean ground position
    model.root_offset.copy_(torch.from_numpy(root))


def train(
    tokenizer: Tokenizer,
    motions: Sequence[np.ndarray],
    config: TrainConfig,
    run_dir: Path | str,
    *,
    fresh: bool = False,
    progress: bool = True,
) -> Tokenizer:
    """Train ``tokenizer`` (as created by ``Tokenizer.create``) on (T, J, 3) motions.

    Resumes from ``run_dir``'s checkpoint when its configs and data match, unless ``fresh``.
    """
    from tqdm import tqdm

    torch.set_num_threads(config.threads)
    cfg = tokenizer.config
    if config.window % cfg.downsample:
        raise ValueError(f"window {config.window} is not a multiple of downsample {cfg.downsample}")
    features = [tokenizer.features(m, f"training motion {i}") for i, m in enumerate(motions)]
    windows = Windows(features, config.window)
    field = tokenizer.model.decoder.receptive_field(cfg.downsample)
    if config.window <= field:
        warnings.warn(
            f"training window of {config.window} frames is within the decoder's receptive field "
            f"({field} frames): no frame is decoded from the full context it has on long "
            f"sequences; use --window > {field}",
            stacklevel=2,
        )
    fingerprint = content_hash(*(f.tobytes() for f in features))
    model = tokenizer.model
    fit_normalisation(tokenizer, motions, features)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    meta = {"tokenizer": cfg.to_dict(), "train": asdict(config), "data": fingerprint}
    step = 0
    if (run / "checkpoint.json").exists() and not fresh:
        step = _load_checkpoint(run, meta, model, optimiser, generator)
    log = _Log(run / "log.csv", step)
    model.train()
    bar = tqdm(total=config.steps, initial=step, desc=cfg.name, disable=not progress)
    while step < config.steps:
        for group in optimiser.param_groups:
            group["lr"] = config.lr_at(step)
        out = model(windows.sample(config.batch_size, generator), generator)
        optimiser.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimiser.step()
        step += 1
        row = log.add(step, out, cfg.codebook_size, config.lr_at(step - 1), config.log_every)
        if row:
            bar.set_postfix(loss=f"{row['loss']:.4f}", ppl=f"{row['perplexity']:.0f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            _save_checkpoint(run, meta, step, model, optimiser, generator)
        bar.update()
    bar.close()
    model.eval()
    return Tokenizer(model, tokenizer.skeleton)


class _Log:
    """CSV rows of losses averaged over ``log_every`` steps and the codes used in them."""

    def __init__(self, path: Path, step: int) -> None:
        self.path = path
        rows = []
        if path.exists() and step > 0:  # drop rows past the checkpoint: they will be redone
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= step]
        atomic_write(path, lambda tmp: _write_rows(tmp, rows))
        self.start = time.perf_counter() - (float(rows[-1]["seconds"]) if rows else 0.0)
        self._reset()

    def _reset(self) -> None:
        self.sums = {"loss": 0.0, "recon": 0.0, "commit": 0.0}
        self.counts: torch.Tensor | None = None
        self.n = 0

    def add(self, step: int, out: dict, k: int, lr: float, every: int) -> dict | None:
        for key in self.sums:
            self.sums[key] += float(out[key].detach())
        c = torch.bincount(out["tokens"].reshape(-1), minlength=k)
        self.counts = c if self.counts is None else self.counts + c
        self.n += 1
        if step % every:
            return None
        p = self.counts.double() / self.counts.sum()
        entropy = -(p[p > 0] * p[p > 0].log()).sum()
        row = {key: v / self.n for key, v in self.sums.items()}
        row.update(
            step=step,
            perplexity=float(entropy.exp()),
            used=float((self.counts > 0).double().mean()),
            lr=lr,
            seconds=time.perf_counter() - self.start,
        )
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, LOG_COLUMNS).writerow({c: _fmt(row[c]) for c in LOG_COLUMNS})
        self._reset()
        return row


def _fmt(v: float) -> str:
    return str(v) if isinstance(v, int) else f"{v:.6g}"


def _write_rows(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, LOG_COLUMNS)
        w.writeheader()
        w.writerows(rows)


def _save_checkpoint(run: Path, meta: dict, step: int, model, optimiser, generator) -> None:
    from safetensors.torch import save_file

    state = optimiser.state_dict()
    tensors = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    for i, s in state["state"].items():
        tensors.update({f"optim.{i}.{k}": v.contiguous() for k, v in s.items()})
    tensors["generator"] = generator.get_state()
    # A new file per step, named in checkpoint.json: a run killed between the two writes still
    # finds the previous pair intact and resumes from it.
    weights = run / f"checkpoint-{step:07d}.safetensors"
    atomic_write(weights, lambda tmp: save_file(tensors, tmp))
    body = {
        **meta,
        "step": step,
        "param_groups": state["param_groups"],
        "weights": weights.name,
        "sha256": sha256_file(weights),
    }
    atomic_write(run / "checkpoint.json", lambda tmp: tmp.write_text(json.dumps(body, indent=2)))
    for old in run.glob("checkpoint-*.safetensors"):
        if old != weights:
            old.unlink()


def _load_checkpoint(run: Path, meta: dict, model, optimiser, generator) -> int:
    from safetensors.torch import load_file

    info = json.loads((run / "checkpoint.json").read_text())
    for key in ("tokenizer", "train", "data"):
        if info.get(key) != meta[key]:
            raise ValueError(
                f"{run / 'checkpoint.json'}: its {key} differs from this run's; "
                "train in another run folder or start afresh (--fresh)"
            )
    weights = run / str(info.get("weights", ""))
    if not info.get("weights") or not weights.exists() or sha256_file(weights) != info["sha256"]:
        raise ValueError(
            f"{weights}: missing or does not match checkpoint.json; start afresh (--fresh)"
        )
    tensors = load_file(weights)
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v
    optimiser.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    generator.set_state(tensors["generator"])
    return int(info["step"])
