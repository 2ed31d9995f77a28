"""Reconstruction quality of a tokenizer on a corpus split (``gesture-gym tokenizer eval``).

MPJPE and velocity error are measured on the part's root-relative joint positions in the frame
the tokenizer works in (the body frame for dance parts), over non-root joints; the fraction
divides MPJPE by the data's mean per-joint standard deviation (RMS distance of a joint from its
mean position over the split). Tokenizers that carry the root add its position error (for
trajectories, after integrating decoded and original root channels from the same start). Beat
alignment (Bailando's BAS, against ``clip.beats``) is computed on the positions ``decode``
returns, for the original passed through the same representation and for the reconstruction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gesture_gym.data.clip import Clip
from gesture_gym.metrics.beat_align import beat_align_score
from gesture_gym.motion.tokenizer.api import DanceTokenizer, Tokenizer
from gesture_gym.motion.tokenizer.representation import RootState

TARGET_MPJPE_FRACTION = 0.10  # of the per-joint standard deviation
TARGET_PERPLEXITY_FRACTION = 0.25  # of the codebook size
TARGET_BAS_TOLERANCE = 0.05  # relative to the original's BAS


@dataclass(frozen=True)
class Evaluation:
    """Figures of one tokenizer on one split; per-codebook lists for the dance pair."""

    tokenizer: str
    split: str
    clips: int
    mpjpe_cm: float
    joint_std_cm: float
    velocity_error_cm_s: float
    root_error_cm: float | None
    perplexity: tuple[float, ...]
    codebook_size: tuple[int, ...]
    used_fraction: tuple[float, ...]
    bas_original: float
    bas_reconstructed: float

    @property
    def mpjpe_fraction(self) -> float:
        return self.mpjpe_cm / self.joint_std_cm

    @property
    def bas_ratio(self) -> float:
        return self.bas_reconstructed / self.bas_original if self.bas_original else float("nan")

    def targets_met(self) -> dict[str, bool]:
        return {
            "mpjpe": self.mpjpe_fraction <= TARGET_MPJPE_FRACTION,
            "perplexity": all(
                p >= TARGET_PERPLEXITY_FRACTION * k
                for p, k in zip(self.perplexity, self.codebook_size, strict=True)
            ),
            "bas": abs(self.bas_ratio - 1.0) <= TARGET_BAS_TOLERANCE,
        }


def _views(tok: Tokenizer | DanceTokenizer, motion: np.ndarray, what: str):
    """Tokens per codebook, then (body-frame, decoded) positions of original and reconstruction."""
    parts = [tok.upper, tok.lower] if isinstance(tok, DanceTokenizer) else [tok]
    ds = tok.frames_per_token
    feats = [p.features(motion, what) for p in parts]
    n = len(feats[0]) // ds * ds
    feats = [f[:n] for f in feats]
    tokens = [p.encode_features(f) for p, f in zip(parts, feats, strict=True)]
    recs = [p.decode_features(t) for p, t in zip(parts, tokens, strict=True)]
    out = []
    for fs in (feats, recs):
        batch = [f[None] for f in fs]
        if isinstance(tok, DanceTokenizer):
            body = tok.body(*batch)[0]
            world = tok.features_to_motion(*batch, RootState(1))[0]
        else:
            body = tok.representation.body(batch[0])[0]
            world = tok.features_to_motion(batch[0], RootState(1))[0]
        out.append((body, world))
    return tokens, out[0], out[1]


def evaluate(tok: Tokenizer | DanceTokenizer, clips: Sequence[Clip], split: str = "") -> Evaluation:
    """Encode and decode every clip; see the module docstring for the figures."""
    if not clips:
        raise ValueError("evaluate: no clips")
    joints = tok.skeleton.parts["full"] if isinstance(tok, DanceTokenizer) else tok.joints
    keep = [i for i, j in enumerate(joints) if j != 0]
    fps = tok.fps
    sizes = tok.codebook_sizes if isinstance(tok, DanceTokenizer) else (tok.codebook_size,)
    counts = [np.zeros(k) for k in sizes]
    err, verr, rerr, gts, bas = [], [], [], [], []
    for clip in clips:
        tokens, (body, world), (body_r, world_r) = _views(tok, clip.motion, f"clip {clip.id}")
        for c, t in zip(counts, tokens, strict=True):
            c += np.bincount(t, minlength=len(c))
        b, br = body[:, keep], body_r[:, keep]
        err.append(np.linalg.norm(br - b, axis=-1).ravel())
        verr.append(np.linalg.norm(np.diff(br, axis=0) - np.diff(b, axis=0), axis=-1).ravel() * fps)
        gts.append(b)
        if joints[0] == 0 and _root_mode(tok) != "none":
            rerr.append(np.linalg.norm(world_r[:, 0] - world[:, 0], axis=-1))
        bas.append([beat_align_score(m, clip.beats, fps) for m in (world, world_r)])
    allgt = np.concatenate(gts)
    joint_std = np.sqrt(((allgt - allgt.mean(0)) ** 2).sum(-1).mean(0)).mean()
    probs = [c / c.sum() for c in counts]
    bas_arr = np.mean(bas, axis=0)
    return Evaluation(
        tokenizer=tok.name,
        split=split or clips[0].split,
        clips=len(clips),
        mpjpe_cm=100 * float(np.concatenate(err).mean()),
        joint_std_cm=100 * float(joint_std),
        velocity_error_cm_s=100 * float(np.concatenate(verr).mean()),
        root_error_cm=100 * float(np.concatenate(rerr).mean()) if rerr else None,
        perplexity=tuple(float(np.exp(-(p[p > 0] * np.log(p[p > 0])).sum())) for p in probs),
        codebook_size=tuple(sizes),
        used_fraction=tuple(float((c > 0).mean()) for c in counts),
        bas_original=float(bas_arr[0]),
        bas_reconstructed=float(bas_arr[1]),
    )


def _root_mode(tok: Tokenizer | DanceTokenizer) -> str:
    return tok.lower.config.root if isinstance(tok, DanceTokenizer) else tok.config.root


def markdown_table(rows: Sequence[Evaluation]) -> str:
    """The eval table as Markdown (the README's format)."""
    head = (
        "| tokenizer | split | clips | MPJPE cm | MPJPE / joint std | velocity err cm/s "
        "| root err cm | perplexity (K) | codes used | BAS orig | BAS rec | rec / orig | targets |"
    )
    lines = [
        head,
        "|" + " --- |" * head.count("|")[:-1] if False else "|" + "---|" * (head.count("|") - 1),
    ]
    for r in rows:
        met = r.targets_met()
        ppl = " / ".join(
            f"{p:.0f} ({k})" for p, k in zip(r.perplexity, r.codebook_size, strict=True)
        )
        used = " / ".join(f"{u:.0%}" for u in r.used_fraction)
        root = "-" if r.root_error_cm is None else f"{r.root_error_cm:.1f}"
        lines.append(
            f"| {r.tokenizer} | {r.split} | {r.clips} | {r.mpjpe_cm:.2f} | {r.mpjpe_fraction:.3f} "
            f"| {r.velocity_error_cm_s:.1f} | {root} | {ppl} | {used} | {r.bas_original:.3f} "
            f"| {r.bas_reconstructed:.3f} | {r.bas_ratio:.3f} "
            f"| {' '.join(k + (' ok' if v else ' MISSED') for k, v in met.items())} |"
        )
    return "\n".join(lines)
