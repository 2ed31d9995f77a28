"""Clips, the embedded procedural corpora and readers for real data sets."""

from gesture_gym.data.clip import Clip, Word
from gesture_gym.data.corpus import SPLITS, ProceduralCorpus, load_corpus

__all__ = ["SPLITS", "Clip", "ProceduralCorpus", "Word", "load_corpus"]
