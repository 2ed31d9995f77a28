"""The metrics sanity table (issue 5): every metric on the embedded corpora for the ground truth,
its tokenizer reconstruction, the ground truth with noise, and random tokens decoded.

The evaluated clips are scored against the train split of corpus seed 0 (the reference
distribution, which the tokenizers and the FGD extractor were trained on); MAJE and MAD compare
each row's clip i with ground-truth clip i. By default the evaluated clips are a fresh draw from
the same distribution, the train split of corpus seed 1: with the 18 clips of the dance test
split, a 72-d FID is mostly finite-sample noise (a slightly smoothed reconstruction of the test
clips scored below the test clips themselves). Ground truth must score best on every metric with
a direction; the script says so or lists the exceptions.

    python -m benchmarks.metrics_table [--noise 0.01 0.03 0.1] [--seed 0] [--split train]
        [--corpus-seed 1] [--corpora music-dance speech-gesture]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gesture_gym.data import Clip, load_corpus
from gesture_gym.metrics.cli import markdown_table
from gesture_gym.metrics.evaluate import DIRECTIONS, MotionSample, evaluate

CORPORA = {
    "music-dance": ("aist", "music-dance"),
    "speech-gesture": ("beat", "speech-gesture-upper"),
}


@dataclass(frozen=True)
class Args:
    noise: tuple[float, ...] = (0.01, 0.03, 0.1)  # std of Gaussian jitter on every coordinate, m
    seed: int = 0  # of the jitter and the random tokens
    split: str = "train"  # split of the evaluated clips
    corpus_seed: int = 1  # corpus seed of the evaluated clips (the reference is seed 0's train)
    corpora: tuple[str, ...] = tuple(CORPORA)


def _place(tokenizer, tokens: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Decode ``tokens`` starting where and facing as ``truth`` starts, as a full-body motion
    (joints the tokenizer does not cover keep the ground truth's)."""
    from gesture_gym.motion.tokenizer import DanceTokenizer
    from gesture_gym.motion.tokenizer.representation import RootState

    dance = isinstance(tokenizer, DanceTokenizer)
    carrier = tokenizer.lower if dance else tokenizer  # the part that carries the root motion
    root = RootState(1)
    if carrier.representation.root == "trajectory":
        root.yaw[:] = carrier.representation.yaw(truth)[0]
        root.xz[:] = truth[0, 0, [0, 2]]
    if dance:
        parts = (tokenizer.upper, tokens[:, 0]), (tokenizer.lower, tokens[:, 1])
        features = [part.decode_features(t)[None] for part, t in parts]
    else:
        features = [tokenizer.decode_features(tokens)[None]]
    decoded = tokenizer.features_to_motion(*features, root)[0]
    motion = truth.copy()
    motion[:, slice(None) if dance else tokenizer.joints] = _fit_length(decoded, len(truth))
    return motion


def _fit_length(motion: np.ndarray, n: int) -> np.ndarray:
    """Cut, or pad by holding the last frame, to n frames."""
    if len(motion) >= n:
        return motion[:n]
    return np.concatenate([motion, np.repeat(motion[-1:], n - len(motion), axis=0)])


def tokenizer_rows(name: str, clips: Sequence[Clip], seed: int) -> dict[str, list[np.ndarray]]:
    """ "tokenizer reconstruction" and "random tokens" motions, or {} while no weights are shipped."""
    from gesture_gym.assets import WeightsError
    from gesture_gym.motion.tokenizer import load_tokenizer

    try:
        tok = load_tokenizer(name)
    except (WeightsError, KeyError, FileNotFoundError) as e:
        print(f"[{name}] tokenizer rows left out: {e}")
        return {}
    rng = np.random.default_rng(seed)
    sizes = np.atleast_1d(getattr(tok, "codebook_sizes", getattr(tok, "codebook_size", None)))
    rec, rand = [], []
    for c in clips:
        tokens = tok.encode(c.motion)
        rec.append(_place(tok, tokens, c.motion))
        random = np.stack([rng.integers(0, k, len(tokens)) for k in sizes], axis=-1)
        rand.append(_place(tok, random.reshape(tokens.shape), c.motion))
    return {"tokenizer reconstruction": rec, "random tokens decoded": rand}


def corpus_table(name: str, args: Args) -> pd.DataFrame:
    protocol, tokenizer = CORPORA[name]
    clips = list(load_corpus(name, args.split, seed=args.corpus_seed))
    train = list(load_corpus(name, "train"))
    rng = np.random.default_rng(args.seed)
    rows: dict[str, list[np.ndarray]] = {"ground truth": [c.motion for c in clips]}
    extra = tokenizer_rows(tokenizer, clips, args.seed)
    if "tokenizer reconstruction" in extra:
        rows["tokenizer reconstruction"] = extra["tokenizer reconstruction"]
    for sigma in args.noise:
        rows[f"noise {sigma:g} m"] = [
            c.motion + rng.normal(scale=sigma, size=c.motion.shape) for c in clips
        ]
    if "random tokens decoded" in extra:
        rows["random tokens decoded"] = extra["random tokens decoded"]
    scores = {
        label: evaluate(
            [MotionSample.from_clip(c, m) for c, m in zip(clips, motions, strict=True)],
            train,
            protocol,
            ground_truth=clips,
        )
        for label, motions in rows.items()
    }
    table = pd.DataFrame(scores)
    table.insert(0, "better", [DIRECTIONS[m] or "near GT" for m in table.index])
    table.index.name = (
        f"{name} ({protocol}; {len(clips)} {args.split} clips of corpus seed {args.corpus_seed} "
        f"vs {len(train)} train clips of seed 0)"
    )
    return table


def sanity(table: pd.DataFrame) -> list[str]:
    """Metrics with a direction on which some row beats the ground truth."""
    bad = []
    for metric, row in table.iterrows():
        direction, values = row["better"], row.drop("better").astype(float)
        gt, others = values["ground truth"], values.drop("ground truth")
        if (
            direction == "lower"
            and (others < gt).any()
            or direction == "higher"
            and (others > gt).any()
        ):
            bad.append(str(metric))
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=list(Args.noise))
    parser.add_argument("--seed", type=int, default=Args.seed)
    parser.add_argument("--split", default=Args.split)
    parser.add_argument("--corpus-seed", type=int, default=Args.corpus_seed)
    parser.add_argument("--corpora", nargs="+", choices=list(CORPORA), default=list(CORPORA))
    ns = parser.parse_args()
    if ns.split == "train" and ns.corpus_seed == 0:
        parser.error("--split train --corpus-seed 0 is the reference set itself; pick another")
    args = Args(
        noise=tuple(ns.noise),
        seed=ns.seed,
        split=ns.split,
        corpus_seed=ns.corpus_seed,
        corpora=tuple(ns.corpora),
    )
    for name in args.corpora:
        table = corpus_table(name, args)
        print()
        print(markdown_table(table))
        bad = sanity(table)
        directed = sum(d in ("lower", "higher") for d in table["better"])
        verdict = "ground truth best on all" if not bad else f"NOT best on {bad} of the"
        print(f"sanity: {verdict} {directed} metrics with a direction")


if __name__ == "__main__":
    main()
