"""Audio for gesture-gym: loading and validation, frame-aligned features, a feature cache.

audio, sr = load_audio("talk.wav")                       # mono float32, AudioError if unusable
feats = extract_features(audio, sr, fps=20, kind="speech")  # one row per motion frame
feats = features_for_file("song.wav", fps=30, kind="music")  # the same, cached on disk
"""

from gesture_gym.audio.cache import features_for_file
from gesture_gym.audio.features import (
    FEATURES_VERSION,
    AudioFeatures,
    analysis_rate,
    extract_features,
    warmup,
)
from gesture_gym.audio.io import AudioError, load_audio, validate_audio

__all__ = [
    "FEATURES_VERSION",
    "AudioError",
    "AudioFeatures",
    "analysis_rate",
    "extract_features",
    "features_for_file",
    "load_audio",
    "validate_audio",
    "warmup",
]
