"""Metric speed (issue 5): every AIST++ metric (FID_k, FID_g, DIV_k, DIV_g, both BAS, the
corrected variants, MAJE, MAD) over 100 dance clips of 20 s, at the corpus's 30 fps and
resampled to AIST++'s 60 fps; goal: under 30 s. Against references measured in the same run:
the geometric features evaluated frame by frame (the structure of fairmotion's extractor, which
the vectorised one replaces, on a few clips) and the Frechet distance through scipy's sqrtm.

    python -m benchmarks.metrics_speed [--clips 100] [--loop-clips 2]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from gesture_gym.data import load_corpus
from gesture_gym.metrics import dance
from gesture_gym.metrics.evaluate import MotionSample, evaluate
from gesture_gym.metrics.fgd import resample
from gesture_gym.metrics.frechet import frechet_feature_distance, gaussian_stats


@dataclass(frozen=True)
class Args:
    clips: int = 100  # generated clips (the train split's first ones, 20 s each)
    loop_clips: int = 2  # clips for the frame-by-frame reference (it is slow)


def geometric_per_frame(p: np.ndarray, fps: float) -> np.ndarray:
    """The reference structure: every test of every frame evaluated on its own, 3-vectors only."""
    scale = 2.0 * fps  # the reference's 1/120 s frame time at 60 fps (see dance.py)
    virtual = {
        "zero": np.zeros(3),
        "y_unit": np.array([0, 1.0, 0]),
        "minus_y_unit": np.array([0, -1.0, 0]),
    }

    def at(f: int, name: str) -> np.ndarray:
        if name in virtual:
            return virtual[name]
        if name == "y_min":
            return np.array([0.0, p[f, :, 1].min(), 0.0])
        return p[f, dance.AIST_JOINTS.index(name)]

    rows = []
    for f in range(1, len(p)):
        row = []
        for test, joints, th in dance.GEOMETRIC_FEATURES:
            c = [at(f, j) for j in joints]
            prev = [
                p[f - 1, dance.AIST_JOINTS.index(j)] if j in dance.AIST_JOINTS else None
                for j in joints
            ]
            with np.errstate(divide="ignore", invalid="ignore"):
                if test == "angle":
                    u, v = c[1] - c[0], c[3] - c[2]
                    cos = np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)
                    row.append(th[0] < np.degrees(np.arccos(cos)) < th[1])
                    continue
                if test == "fast":
                    value = np.linalg.norm(c[0] - prev[0]) * scale
                elif test == "plane":
                    n = np.cross(c[2] - c[0], c[1] - c[0])
                    value = n @ (c[3] - c[0]) / np.linalg.norm(n)
                elif test == "nplane":
                    n = c[1] - c[0]
                    value = n @ (c[3] - c[2]) / np.linalg.norm(n)
                elif test == "nmove":
                    n = np.cross(c[2] - c[0], c[1] - c[0])
                    value = ((c[3] - c[0]) - (prev[3] - prev[0])) @ n / np.linalg.norm(n) * scale
                else:
                    d = c[1] - c[0]
                    value = ((c[2] - c[0]) - (prev[2] - prev[0])) @ d / np.linalg.norm(d) * scale
            row.append(value > th)
        rows.append(row)
    return np.array(rows, dtype=np.float32).mean(axis=0)


def timed(fn, repeats: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls (the machine is shared) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=Args.clips)
    parser.add_argument("--loop-clips", type=int, default=Args.loop_clips)
    ns = parser.parse_args()
    args = Args(clips=ns.clips, loop_clips=ns.loop_clips)
    train = list(load_corpus("music-dance", "train"))
    if len(train) < args.clips + 2:
        raise SystemExit(f"music-dance train has {len(train)} clips; need {args.clips + 2}")
    gen, ref = train[: args.clips], train[args.clips :]
    seconds = sum(c.duration for c in gen)
    print(
        f"{len(gen)} generated clips ({seconds / len(gen):.0f} s each) vs {len(ref)} reference clips"
    )

    print("\n| figure | value | goal |\n|---|---|---|")
    for fps in (gen[0].fps, 60.0):
        g, r = (
            [MotionSample(resample(c.motion, c.fps, fps), fps, c.beats) for c in clips]
            for clips in (gen, ref)
        )
        t, _ = timed(lambda g=g, r=r: evaluate(g, r, "aist", ground_truth=g), repeats=2)
        print(f"| every AIST++ metric, {len(gen)} clips at {fps:g} fps | {t:.2f} s "
              f"({seconds / t:,.0f}x real time) | < 30 s |")  # fmt: skip

    clips = [resample(c.motion, c.fps, 60.0) for c in gen[: args.loop_clips]]
    t_vec, fast = timed(lambda: [dance.geometric_features(m, 60.0) for m in clips])
    t_loop, slow = timed(lambda: [geometric_per_frame(m, 60.0) for m in clips], repeats=1)
    diff = np.abs(np.array(fast) - np.array(slow)).max()
    print(f"| geometric features, vectorised vs frame by frame ({len(clips)} clips at 60 fps) | "
          f"{t_loop / t_vec:,.0f}x faster (max difference {diff:g}) | |")  # fmt: skip

    fk = dance.feature_set([c.motion for c in gen], "kinetic", gen[0].fps)
    fk_ref = dance.feature_set([c.motion for c in ref], "kinetic", gen[0].fps)
    a, b = dance.normalise(fk, fk_ref)

    def sqrtm_fid(x: np.ndarray, y: np.ndarray) -> float:
        """The references' formula: sqrtm of the product, imaginary part dropped."""
        (m1, s1), (m2, s2) = gaussian_stats(x), gaussian_stats(y)
        covmean = linalg.sqrtm(s1 @ s2).real
        return float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * covmean))

    t_eig, d_eig = timed(lambda: frechet_feature_distance(a, b), repeats=5)
    t_sqrtm, d_sqrtm = timed(lambda: sqrtm_fid(a, b), repeats=5)
    print(f"| FID_k (72-d), {len(a)} vs {len(b)} clips: eigen formulation vs scipy sqrtm | "
          f"{t_eig * 1e3:.1f} ms vs {t_sqrtm * 1e3:.1f} ms ({d_eig:.6g} vs {d_sqrtm:.6g}) | |")  # fmt: skip
    few = a[:20]  # fewer clips than dimensions: a singular covariance
    print(f"| FID_k of 20 clips against themselves (singular covariance) | eigen "
          f"{frechet_feature_distance(few, few):.3g}, sqrtm {sqrtm_fid(few, few):.3g} | 0 |")  # fmt: skip


if __name__ == "__main__":
    main()
