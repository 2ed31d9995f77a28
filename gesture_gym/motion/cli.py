"""``gesture-gym tokenizer train|eval|tokenize``: train codebooks on any corpus the data layer
loads, print their quality, and fill the token cache."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import fields
from pathlib import Path

from gesture_gym.cache import cache_dir
from gesture_gym.motion.tokenizer import SHIPPED, TokenizerConfig, TrainConfig

_ARCH = (
    "downsample",
    "codebook_size",
    "code_dim",
    "width",
    "decoder_taper",
    "depth",
    "commitment",
    "ema_decay",
    "velocity_weight",
    "acceleration_weight",
)
_OPTIM = ("steps", "batch_size", "window", "lr", "checkpoint_every", "log_every", "threads")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tokenizer", help="train, evaluate and apply motion tokenizers")
    sub = parser.add_subparsers(dest="tokenizer_command", required=True)

    train = sub.add_parser("train", help="train a VQ-VAE tokenizer on one body part of a corpus")
    train.add_argument("--corpus", required=True, help="corpus name or <format>:<path>")
    train.add_argument("--part", required=True, help="body-part group of the corpus skeleton")
    train.add_argument("--name", help="weights name (default: <corpus>-<part>)")
    train.add_argument("--out", default="tokenizers", help="folder for weights and manifest")
    train.add_argument(
        "--run-dir", help="checkpoints and log.csv (default: the cache's tokenizer-runs/<name>)"
    )
    train.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    train.add_argument(
        "--frame",
        choices=("world", "body"),
        help="feature frame (default: body when the skeleton has hips)",
    )
    train.add_argument(
        "--root",
        choices=("none", "position", "trajectory"),
        help="what the part carries of the root (default, when the part has the root joint: "
        "'trajectory' in the body frame, 'position' in the world frame)",
    )
    train.add_argument("--seed", type=int, default=0)
    for key in _ARCH:
        default = next(f.default for f in fields(TokenizerConfig) if f.name == key)
        train.add_argument("--" + key.replace("_", "-"), type=type(default), default=default)
    for key in _OPTIM:
        default = next(f.default for f in fields(TrainConfig) if f.name == key)
        train.add_argument("--" + key.replace("_", "-"), type=type(default), default=default)
    train.add_argument("--no-progress", action="store_true")
    train.set_defaults(func=_train)

    ev = sub.add_parser("eval", help="reconstruction, codebook usage and beat alignment")
    ev.add_argument(
        "--name",
        nargs="+",
        default=[*SHIPPED, "music-dance"],
        help="tokenizers ('music-dance' = the upper + lower pair)",
    )
    ev.add_argument("--folder", help="weights folder (default: the shipped assets)")
    ev.add_argument("--corpus", help="corpus (default: from the tokenizer's name)")
    ev.add_argument("--split", nargs="+", default=["test", "unseen"])
    ev.add_argument("--max-clips", type=int, help="only the first N clips of each split")
    ev.set_defaults(func=_eval)

    tok = sub.add_parser("tokenize", help="cache the token sequences of every clip of a corpus")
    tok.add_argument("--name", required=True)
    tok.add_argument("--folder")
    tok.add_argument("--corpus", help="corpus (default: from the tokenizer's name)")
    tok.add_argument("--split", nargs="+", default=["train", "val", "test", "unseen"])
    tok.set_defaults(func=_tokenize)


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from gesture_gym.data import load_corpus
    from gesture_gym.motion.tokenizer import Tokenizer, train

    clips = load_corpus(args.corpus, "train")
    if len(clips) == 0:
        raise ValueError(f"corpus {args.corpus!r} has no training clips")
    first = clips[0]
    name = args.name or f"{args.corpus}-{args.part}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"--name {name!r}: use letters, digits, '-' and '_' only")
    skeleton = first.skeleton
    if args.part not in skeleton.parts:
        raise ValueError(
            f"--part {args.part!r}: skeleton {skeleton.name!r} has parts {sorted(skeleton.parts)}"
        )
    has_hips = {"left_hip", "right_hip"} <= set(skeleton.joint_names)
    canonical = has_hips if args.frame is None else args.frame == "body"
    root = args.root or (
        "none" if 0 not in skeleton.parts[args.part] else "trajectory" if canonical else "position"
    )
    config = TokenizerConfig(
        name=name,
        skeleton=skeleton.name,
        part=args.part,
        fps=float(first.fps),
        canonical_yaw=canonical,
        root=root,
        seed=args.seed,
        **{k: getattr(args, k) for k in _ARCH},
    )
    train_config = TrainConfig(**{k: getattr(args, k) for k in _OPTIM})
    motions = []
    for clip in clips:
        if (
            clip.motion is None
            or abs(clip.fps - first.fps) > 1e-6
            or clip.skeleton.name != skeleton.name
        ):
            raise ValueError(f"clip {clip.id}: no motion, or fps/skeleton differ from {first.id}'s")
        motions.append(np.asarray(clip.motion))
    out = Path(args.out)
    run_dir = Path(args.run_dir) if args.run_dir else cache_dir("tokenizer-runs", name)
    print(
        f"training {name}: {len(motions)} clips of {args.corpus}, part {args.part!r}, run {run_dir}"
    )
    tok = train(
        Tokenizer.create(config, skeleton),
        motions,
        train_config,
        run_dir,
        fresh=args.fresh,
        progress=not args.no_progress,
    )
    path = tok.save(name, out, _command(args, name))
    print(f"saved {path} (sha256 {tok.sha256[:12]}...)")
    return 0


def _command(args: argparse.Namespace, name: str) -> str:
    """The exact command that reproduces a run, every setting spelled out."""
    words = [
        "gesture-gym",
        "tokenizer",
        "train",
        "--corpus",
        args.corpus,
        "--part",
        args.part,
        "--name",
        name,
        "--out",
        args.out,
        "--seed",
        str(args.seed),
    ]
    if args.frame:
        words += ["--frame", args.frame]
    if args.root:
        words += ["--root", args.root]
    for key in _ARCH + _OPTIM:
        words += ["--" + key.replace("_", "-"), str(getattr(args, key))]
    return shlex.join(words)


def _corpus_of(name: str, corpus: str | None) -> str:
    if corpus:
        return corpus
    for known in ("speech-gesture", "music-dance"):
        if name.startswith(known):
            return known
    raise ValueError(f"tokenizer {name!r}: name its corpus with --corpus")


def _eval(args: argparse.Namespace) -> int:
    from gesture_gym.data import load_corpus
    from gesture_gym.motion.tokenizer import load_tokenizer
    from gesture_gym.motion.tokenizer.evaluation import evaluate, markdown_table

    rows = []
    for name in args.name:
        tok = load_tokenizer(name, args.folder)
        for split in args.split:
            clips = load_corpus(_corpus_of(name, args.corpus), split)
            clips = clips[: args.max_clips] if args.max_clips else list(clips)
            rows.append(evaluate(tok, clips, split))
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    return 0


def _tokenize(args: argparse.Namespace) -> int:
    from gesture_gym.motion.tokenizer import load_tokenizer, tokenize_corpus

    tok = load_tokenizer(args.name, args.folder)
    for split in args.split:
        tokens = tokenize_corpus(tok, _corpus_of(args.name, args.corpus), split)
        n = sum(len(t) for t in tokens.values())
        print(f"{args.name} {split}: {len(tokens)} clips, {n} tokens cached")
    return 0


__all__ = ["add_commands"]
