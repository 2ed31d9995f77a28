"""Motion-generation metrics whose definitions follow the references exactly (docs/metrics.md).

Dance (AIST++ protocol as Bailando computes it): fid_k, fid_g, div_k, div_g, beat_align_score
(Bailando's BAS) and beat_align_score_fact (AIST++/FACT's). Co-speech (BEAT/EMAGE, RACER): fgd
(pinned extractor weights), beat_consistency, l1div, pmb, maje, mad. ``*_corrected`` variants
fix the references' bugs under distinct names. ``evaluate`` runs a whole protocol.

The torch-based names (fgd, FGDExtractor, train_extractor, evaluate, MotionSample) load on first
use, so the array metrics stay light to import.
"""

from typing import Any

from gesture_gym.metrics.beat_align import beat_align_score, beat_align_score_fact
from gesture_gym.metrics.co_speech import (
    beat_consistency,
    beat_consistency_corrected,
    l1div,
    mad,
    maje,
    pmb,
)
from gesture_gym.metrics.dance import (
    div_g,
    div_g_corrected,
    div_k,
    div_k_corrected,
    fid_g,
    fid_g_corrected,
    fid_k,
    fid_k_corrected,
    geometric_features,
    kinetic_features,
)
from gesture_gym.metrics.frechet import frechet_distance

_LAZY = {
    "fgd": "gesture_gym.metrics.fgd",
    "FGDExtractor": "gesture_gym.metrics.fgd",
    "train_extractor": "gesture_gym.metrics.fgd",
    "evaluate": "gesture_gym.metrics.evaluate",
    "MotionSample": "gesture_gym.metrics.evaluate",
}

__all__ = [
    "FGDExtractor",
    "MotionSample",
    "beat_align_score",
    "beat_align_score_fact",
    "beat_consistency",
    "beat_consistency_corrected",
    "div_g",
    "div_g_corrected",
    "div_k",
    "div_k_corrected",
    "evaluate",
    "fgd",
    "fid_g",
    "fid_g_corrected",
    "fid_k",
    "fid_k_corrected",
    "frechet_distance",
    "geometric_features",
    "kinetic_features",
    "l1div",
    "mad",
    "maje",
    "pmb",
    "train_extractor",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gesture_gym.metrics' has no attribute {name!r}")
