"""`gesture-gym demo`: the README's first command, on the embedded corpora."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from gesture_gym.data.corpus import ProceduralCorpus
from gesture_gym.metrics import beat_align_score


def _demo(args: argparse.Namespace) -> int:
    from gesture_gym.render.plots import plot_clip

    out = Path(args.out)
    for name in ("speech-gesture", "music-dance"):
        corpus = ProceduralCorpus(name, "val", n_clips=args.n_clips)
        start = time.perf_counter()
        clips = list(corpus)
        seconds = time.perf_counter() - start
        duration = sum(c.duration for c in clips)
        print(f"\n== {name}: {len(clips)} val clips, {duration:.0f} s of motion "
              f"({seconds:.2f} s to generate or load) ==")  # fmt: skip
        for key, value in corpus.summary().items():
            if key not in ("corpus", "split"):
                print(f"  {key:>12}: {value}")
        own = np.mean([beat_align_score(c.motion, c.beats, c.fps) for c in clips])
        other = np.mean([beat_align_score(c.motion, clips[i - 1].beats, c.fps)
                         for i, c in enumerate(clips)])  # fmt: skip
        print(f"  beat alignment of motion with its own audio {own:.3f}, with another clip's {other:.3f}")
        print(f"  picture: {plot_clip(clips[0], out / f'{name}.png')}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the main demo on the embedded data")
    demo.add_argument("--out", default="demo_out", help="folder for the pictures")
    demo.add_argument("--n-clips", type=int, default=6)
    demo.set_defaults(func=_demo)
