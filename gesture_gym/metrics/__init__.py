"""Motion-generation metrics (dance: AIST++/Bailando protocol; co-speech: BEAT/EMAGE, RACER)."""

from gesture_gym.metrics.beat_align import beat_align_score

__all__ = ["beat_align_score"]
