"""Audio features aligned exactly to motion frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class AudioFeatures:
    """Frame-aligned features of one audio signal: row t describes motion frame t.

    Attributes:
        fps: the motion frame rate the rows are aligned to.
        sample_rate: the analysis sample rate (fps * hop_length exactly).
        mel: (T, n_mels) log-mel spectrogram in dB.
        mfcc: (T, n_mfcc).
        onset_strength: (T,) spectral-flux onset envelope (percussive part for music).
        rms: (T,) RMS energy.
        pitch: (T,) f0 in Hz, 0 where unvoiced (speech), or None when not computed.
        onsets: (N,) onset times in seconds.
        beats: (B,) beat times in seconds.
        tempo: estimated tempo in BPM.
    """

    fps: float
    sample_rate: int
    mel: np.ndarray
    mfcc: np.ndarray
    onset_strength: np.ndarray
    rms: np.ndarray
    pitch: np.ndarray | None
    onsets: np.ndarray
    beats: np.ndarray
    tempo: float

    @property
    def n_frames(self) -> int:
        return int(self.mel.shape[0])
