"""Tokenizer speed (issue 3): streaming decode per step for 64 envs and for 1 env at steps 16 and
512 of an episode, its ratio to a full decode's cost per token, and to re-decoding a window of
recent tokens each step (the approach the streaming decoder replaces); encode and decode
throughput as multiples of real time. All figures come from one run.

    python -m benchmarks.tokenizer_speed [--name speech-gesture-upper music-dance] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Args:
    names: tuple[str, ...] = ("speech-gesture-upper", "music-dance", "music-dance-full")
    folder: str | None = None  # weights folder (default: shipped assets)
    batch: int = 64  # envs decoded together
    repeats: int = 5  # timed blocks of 20 steps per figure (the best counts)
    window: int = 8  # tokens re-decoded per step by the reference approach
    threads: int = 1  # torch threads (one per env worker)
    clips: int = 16  # test clips encoded for the throughput figures


def per_call(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Seconds per call: the best of ``repeats`` runs of ``n`` calls (the machine is shared)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def step_cost(stream, actions: np.ndarray, start: int) -> float:
    """Seconds per step over 20 steps from step ``start`` of a fresh episode."""
    stream.reset()
    for _ in range(start):
        stream.step(actions)
    return per_call(lambda: stream.step(actions), 20, repeats=1)


def measure(name: str, args: Args) -> dict[str, float]:
    from gesture_gym.data import load_corpus
    from gesture_gym.motion.tokenizer import DanceTokenizer, load_tokenizer

    tok = load_tokenizer(name, args.folder)
    pair = isinstance(tok, DanceTokenizer)
    sizes = tok.codebook_sizes if pair else (tok.codebook_size,)
    rng = np.random.default_rng(0)

    def tokens(*shape: int) -> np.ndarray:
        t = np.stack([rng.integers(0, k, shape) for k in sizes], axis=-1)
        return t if pair else t[..., 0]

    out: dict[str, float] = {}
    for batch in (args.batch, 1):
        stream = tok.streaming_decoder(batch)
        actions = tokens(batch)
        best = {16: float("inf"), 512: float("inf")}
        for _ in range(args.repeats):  # alternate so both see the same machine load
            for start in best:
                best[start] = min(best[start], step_cost(stream, actions, start))
        seqs = tokens(batch, 64)
        full = per_call(lambda: tok.decode(seqs), 2, 2 * args.repeats)  # noqa: B023 (run here)
        out[f"step us, {batch} envs, step 16"] = best[16] * 1e6
        out[f"step us, {batch} envs, step 512"] = best[512] * 1e6
        out[f"step 512 / step 16, {batch} envs"] = best[512] / best[16]
        out[f"full decode of 64 tokens, {batch} envs, us per token"] = full / 64 * 1e6
        out[f"streaming step / (full decode / 64), {batch} envs"] = min(best.values()) / (full / 64)
    step64 = min(
        out[f"step us, {args.batch} envs, step 16"], out[f"step us, {args.batch} envs, step 512"]
    )
    recent = tokens(args.batch, args.window)
    window = per_call(lambda: tok.decode(recent), 5)
    out[f"re-decode {args.window}-token window, {args.batch} envs, us"] = window * 1e6
    out["re-decode window / streaming step"] = window / (step64 * 1e-6)
    out[f"streaming env-steps/s, {args.batch} envs"] = args.batch / (step64 * 1e-6)

    corpus = "music-dance" if name.startswith("music-dance") else "speech-gesture"
    motion = np.concatenate([c.motion for c in load_corpus(corpus, "test")[: args.clips]])
    seconds = len(motion) / tok.fps
    enc = per_call(lambda: tok.encode(motion), 1, repeats=3)
    codes = tok.encode(motion)
    dec = per_call(lambda: tok.decode(codes), 1, repeats=3)
    out["seconds of motion encoded"] = seconds
    out["encode x real time"] = seconds / enc
    out["decode x real time"] = seconds / dec
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", nargs="+", default=list(Args.names), dest="names")
    parser.add_argument("--folder", default=Args.folder)
    parser.add_argument("--batch", type=int, default=Args.batch)
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--threads", type=int, default=Args.threads)
    ns = vars(parser.parse_args())
    args = Args(**{**ns, "names": tuple(ns["names"])})
    torch.set_num_threads(args.threads)
    results = {name: measure(name, args) for name in args.names}
    print(f"torch threads: {args.threads}\n")
    print("| figure | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for key in next(iter(results.values())):
        print(f"| {key} | " + " | ".join(f"{r[key]:,.2f}" for r in results.values()) + " |")


if __name__ == "__main__":
    main()
