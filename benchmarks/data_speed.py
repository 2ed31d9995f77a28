"""Corpus speed figures (issue 2): generation, feature extraction and cached loading, each as a
multiple of real time, measured in one run on a private cache folder.

    python -m benchmarks.data_speed [--clips 12]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass

from gesture_gym.audio import extract_features, warmup


@dataclass(frozen=True)
class Args:
    clips: int = 12  # clips per corpus (from the train split)


def measure(name: str, n: int) -> dict[str, float]:
    from gesture_gym.data.corpus import ProceduralCorpus

    corpus = ProceduralCorpus(name, "train", n_clips=n)
    g = corpus.generator
    seconds = n * g.clip_seconds

    start = time.perf_counter()
    raw = [g.generate(0, "train", i) for i in range(n)]
    t_raw = time.perf_counter() - start

    start = time.perf_counter()
    for r in raw:
        extract_features(r.audio, g.sample_rate, g.fps, kind=g.audio_kind, n_frames=len(r.motion))
    t_feat = time.perf_counter() - start

    start = time.perf_counter()
    corpus.build(progress=False)  # generate + features + write the cache
    t_build = time.perf_counter() - start

    fresh = ProceduralCorpus(name, "train", n_clips=n)
    start = time.perf_counter()
    for i in range(n):
        fresh[i]
    t_load = time.perf_counter() - start
    return {
        "audio+motion": seconds / t_raw,
        "features (warm)": seconds / t_feat,
        "generate+features+write": seconds / t_build,
        "cached load": seconds / t_load,
        "cached load vs generating": t_build / t_load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=Args.clips)
    args = Args(**vars(parser.parse_args()))
    warmup()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GESTURE_GYM_CACHE"] = tmp
        rows = {name: measure(name, args.clips) for name in ("speech-gesture", "music-dance")}
    print(f"\n| figure ({args.clips} clips per corpus) | speech-gesture | music-dance | goal |")
    print("|---|---|---|---|")
    goals = {"generate+features+write": ">= 100x real time", "cached load vs generating": ">= 20x"}
    for key in rows["speech-gesture"]:
        unit = "x" if "vs" in key else "x real time"
        print(f"| {key} | {rows['speech-gesture'][key]:.0f}{unit} | "
              f"{rows['music-dance'][key]:.0f}{unit} | {goals.get(key, '')} |")  # fmt: skip


if __name__ == "__main__":
    main()
