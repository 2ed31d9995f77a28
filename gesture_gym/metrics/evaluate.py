"""``evaluate``: every metric of a protocol over a generated set against a reference set.

Protocols:
  * "aist" (music-to-dance, AIST++ as Bailando evaluates it): FID_k, FID_g, DIV_k, DIV_g (and
    their ``_corrected`` variants), BAS (Bailando) and BAS_FACT. SMPL-24 joint positions.
  * "beat" (co-speech, BEAT/EMAGE and RACER): FGD, BC (and BC_corrected), L1div, PMB.
With ``ground_truth`` (clip i of it is the target of generated clip i), MAJE and MAD are added.

The reference set supplies the normalisation statistics (FID/DIV), the Gaussian FID compares
against, and BC's per-joint mean speed; the beats and onsets of each generated clip come with
it (its own audio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gesture_gym.metrics import co_speech, dance
from gesture_gym.metrics.beat_align import beat_align_score, beat_align_score_fact
from gesture_gym.metrics.common import check_fps
from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY, Skeleton

if TYPE_CHECKING:
    from gesture_gym.data.clip import Clip
    from gesture_gym.metrics.fgd import FGDExtractor

PROTOCOLS = ("aist", "beat")

# Every metric in reporting order, with which way is better; None where closeness to the ground
# truth's value is what counts, so no direction is defined: diversity, and BC, which EMAGE
# reports as higher-is-better but which jitter raises above the ground truth's (it averages over
# audio onsets, and every spurious motion beat can only bring one closer; docs/metrics.md).
DIRECTIONS: dict[str, str | None] = {
    "FID_k": "lower",
    "FID_g": "lower",
    "DIV_k": None,
    "DIV_g": None,
    "BAS": "higher",
    "BAS_FACT": "higher",
    "FID_k_corrected": "lower",
    "FID_g_corrected": "lower",
    "DIV_k_corrected": None,
    "DIV_g_corrected": None,
    "FGD": "lower",
    "BC": None,
    "L1div": None,
    "PMB": "higher",
    "BC_corrected": None,
    "MAJE": "lower",
    "MAD": "lower",
}


@dataclass(frozen=True, eq=False)
class MotionSample:
    """One clip to evaluate: (T, J, 3) joint positions at ``fps`` and its audio's timing.

    Attributes:
        beats: music beats (dance) or beat/stress times (speech), seconds.
        onsets: audio onsets in seconds (BC).
        skeleton: names the joints (BC picks EMAGE's upper-body joints by name); default by
            joint count, SMPL-24 or the co-speech upper body.
    """

    motion: np.ndarray
    fps: float
    beats: np.ndarray | None = None
    onsets: np.ndarray | None = None
    name: str = ""
    skeleton: Skeleton | None = None

    @classmethod
    def from_clip(cls, clip: Clip, motion: np.ndarray | None = None) -> MotionSample:
        """A clip's audio timing with its own motion, or with ``motion`` generated for it."""
        m = clip.motion if motion is None else motion
        if m is None:
            raise ValueError(f"clip {clip.id}: has no motion and none was given")
        return cls(m, clip.fps, clip.beats, clip.features.onsets, clip.id, clip.skeleton)


def as_sample(item: MotionSample | Clip) -> MotionSample:
    """A MotionSample as it is; anything else is read as a Clip."""
    return item if isinstance(item, MotionSample) else MotionSample.from_clip(item)


def _set_fps(samples: Sequence[MotionSample], which: str) -> float:
    if not samples:
        raise ValueError(f"{which}: no clips given")
    rates = {check_fps(s.fps, f"{which} fps") for s in samples}
    if len(rates) > 1:
        raise ValueError(f"{which}: clips at several frame rates {sorted(rates)}; resample first")
    return rates.pop()


def _times(s: MotionSample, i: int, what: str) -> np.ndarray:
    value = s.beats if what == "beats" else s.onsets
    if value is None:
        raise ValueError(f"generated clip {i} ({s.name or 'unnamed'}): no {what}; give its audio")
    return value


def _bc_joints(s: MotionSample) -> list[int] | None:
    skeleton = s.skeleton or {24: SMPL24, 16: UPPER_BODY}.get(s.motion.shape[1])
    if skeleton is None or skeleton.n_joints != s.motion.shape[1]:
        return None
    names = set(skeleton.joint_names)
    if not names.issuperset(co_speech.BC_JOINTS):
        return None
    return [skeleton.index(j) for j in co_speech.BC_JOINTS]


def evaluate(
    generated: Sequence[MotionSample | Clip],
    reference: Sequence[MotionSample | Clip],
    protocol: str = "aist",
    *,
    ground_truth: Sequence[MotionSample | Clip] | None = None,
    extractor: FGDExtractor | str | None = None,
) -> dict[str, float]:
    """Every metric of ``protocol`` ("aist" or "beat"); see the module docstring.

    Args:
        generated: the clips to score, each with its audio's beats (and onsets for "beat").
        reference: real clips: the distribution FID/FGD compare against.
        ground_truth: optional targets, clip i for generated clip i: adds MAJE and MAD.
        extractor: the FGD extractor ("beat"), or the name of shipped weights; default
            ``fgd.DEFAULT_EXTRACTOR`` (trained on the embedded speech-gesture corpus).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; one of {PROTOCOLS}")
    gen, ref = [as_sample(s) for s in generated], [as_sample(s) for s in reference]
    fps, ref_fps = _set_fps(gen, "generated"), _set_fps(ref, "reference")
    motions, ref_motions = [s.motion for s in gen], [s.motion for s in ref]
    out: dict[str, float] = {}
    if protocol == "aist":
        feats = {
            kind: (
                dance.feature_set(motions, kind, fps, "generated"),
                dance.feature_set(ref_motions, kind, ref_fps, "reference"),
            )
            for kind in dance.FEATURE_KINDS
        }
        for variant, (kind, corrected) in dance.VARIANTS.items():
            g, r = feats[kind]
            out[f"FID_{variant}"] = dance.fid_from_features(g, r, corrected=corrected)
            out[f"DIV_{variant}"] = dance.div_from_features(g, r, corrected=corrected)
        for name, score in (("BAS", beat_align_score), ("BAS_FACT", beat_align_score_fact)):
            out[name] = float(
                np.mean([score(s.motion, _times(s, i, "beats"), fps) for i, s in enumerate(gen)])
            )
    else:
        from gesture_gym.metrics.fgd import DEFAULT_EXTRACTOR, fgd

        ext = DEFAULT_EXTRACTOR if extractor is None else extractor
        out["FGD"] = fgd(motions, ref_motions, fps, ext, reference_fps=ref_fps)
        onsets = [_times(s, i, "onsets") for i, s in enumerate(gen)]
        bc = {
            "mean_velocity": co_speech.mean_joint_speed(ref_motions, ref_fps),
            "joints": _bc_joints(gen[0]),
        }
        out["BC"] = co_speech.beat_consistency_set(motions, onsets, fps, **bc)
        out["BC_corrected"] = co_speech.beat_consistency_set(
            motions, onsets, fps, corrected=True, **bc
        )
        out["L1div"] = co_speech.l1div(motions)
        out["PMB"] = co_speech.pmb_set(
            motions, [_times(s, i, "beats") for i, s in enumerate(gen)], fps
        )
    if ground_truth is not None:
        truth = [as_sample(s) for s in ground_truth]
        if _set_fps(truth, "ground truth") != fps:
            raise ValueError("ground truth and generated clips must have the same frame rate")
        targets = [s.motion for s in truth]
        out["MAJE"] = co_speech.maje(motions, targets)
        out["MAD"] = co_speech.mad(motions, targets, fps)
    return {k: out[k] for k in DIRECTIONS if k in out}
