"""`gesture-gym data generate|info|plot`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from gesture_gym.data.corpus import SPLITS, ProceduralCorpus, load_corpus

EMBEDDED = ("speech-gesture", "music-dance")


def _generate(args: argparse.Namespace) -> int:
    splits = SPLITS if args.split == "all" else (args.split,)
    for name in args.corpus or EMBEDDED:
        for split in splits:
            corpus = ProceduralCorpus(name, split, args.seed, args.n_clips)
            made = corpus.build(workers=args.workers)
            print(f"{name}/{split}: {len(corpus)} clips ({made} generated) in {corpus.folder}")
    return 0


def _info(args: argparse.Namespace) -> int:
    corpus = load_corpus(args.corpus, args.split, seed=args.seed, n_clips=args.n_clips)
    if isinstance(corpus, ProceduralCorpus):
        summary = corpus.summary()
    else:
        clips = list(corpus)
        summary = {
            "corpus": args.corpus,
            "split": args.split,
            "clips": len(clips),
            "hours": sum(c.duration for c in clips) / 3600.0,
        }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    for key, value in summary.items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k}: {v}" for k, v in list(value.items())[:12])
            more = f" (+{len(value) - 12} more)" if len(value) > 12 else ""
            print(f"{key:>12}  {shown}{more}")
        elif isinstance(value, float):
            print(f"{key:>12}  {value:.3f}")
        else:
            print(f"{key:>12}  {value}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from gesture_gym.render.plots import plot_clip

    corpus = load_corpus(args.corpus, args.split, seed=args.seed)
    clip = corpus[corpus.index_of(args.clip)]
    out = args.out or Path(f"{clip.id.replace('/', '_')}.png")
    print(plot_clip(clip, out))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="generate, inspect and plot corpora")
    cmds = data.add_subparsers(dest="data_command", required=True)

    def common(p: argparse.ArgumentParser, split_default: str = "train") -> None:
        p.add_argument("--split", default=split_default, help=f"one of {SPLITS}")
        p.add_argument("--seed", type=int, default=0)

    gen = cmds.add_parser("generate", help="build and cache embedded corpora (progress bar)")
    gen.add_argument("corpus", nargs="*", help=f"default: {' and '.join(EMBEDDED)}")
    common(gen, "all")
    gen.add_argument("--n-clips", type=int, default=None, help="only the first N clips per split")
    gen.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    gen.set_defaults(func=_generate)

    info = cmds.add_parser("info", help="summary of a corpus split or data set")
    info.add_argument("corpus", help="speech-gesture, music-dance or <format>:<path>")
    common(info)
    info.add_argument("--n-clips", type=int, default=None)
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=_info)

    plot = cmds.add_parser("plot", help="PNG of one clip: audio, beats, joint speed, key frames")
    plot.add_argument("corpus")
    plot.add_argument(
        "clip",
        help="clip id or name, e.g. speech-gesture/train/00003, or an index for the embedded corpora",
    )
    common(plot)
    plot.add_argument("--out", type=Path, default=None)
    plot.set_defaults(func=_plot)
