"""Loading audio files into validated mono float32 arrays.

Every failure is an ``AudioError`` naming the file and what is wrong with it, so a bad file in a
folder of thousands is found from the message alone.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import audioread
import numpy as np
import soundfile as sf
import soxr

SILENCE_PEAK = 1e-4  # below this peak amplitude a signal carries nothing to align motion to

# libsndfile clamps a WAV/AIFF data chunk to the bytes present and only logs the mismatch, e.g.
# "data : 32000 (should be 15978)"; 0xFFFFFFFF is the "unknown length" of streamed files.
_DATA_CHUNK_LOG = re.compile(r"^\s*(?:data|SSND) : (\d+) \(should be (\d+)\)", re.MULTILINE)
_STREAMED_SIZE = 0xFFFFFFFF


class AudioError(ValueError):
    """An audio file or array that cannot be used: missing, unreadable, truncated or degenerate."""


def validate_audio(samples: np.ndarray, source: str) -> np.ndarray:
    """Check that a mono signal is non-empty, finite and not silent; return it unchanged.

    Args:
        samples: (S,) waveform.
        source: the file name or description used in error messages.

    Raises:
        AudioError: naming ``source`` and the problem.
    """
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise AudioError(f"{source}: expected a mono (S,) signal, got shape {samples.shape}")
    if samples.size == 0:
        raise AudioError(f"{source}: audio is empty (0 samples)")
    finite = np.isfinite(samples)
    if not finite.all():
        bad = int(samples.size - np.count_nonzero(finite))
        raise AudioError(f"{source}: audio contains {bad} NaN or infinite samples")
    peak = float(np.max(np.abs(samples)))
    if peak < SILENCE_PEAK:
        raise AudioError(f"{source}: audio is silent (peak amplitude {peak:.3g} < {SILENCE_PEAK})")
    return samples


def load_audio(path: str | Path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32, optionally resampled.

    soundfile reads wav, flac, ogg, mp3, aiff...; other formats go through audioread when it
    has a backend for them. Channels are averaged; resampling uses soxr.

    Args:
        path: the audio file.
        sample_rate: target rate in Hz, or None to keep the file's rate.

    Returns:
        (samples (S,) float32, sample rate).

    Raises:
        AudioError: the file is missing, not audio, truncated, empty, silent or has NaN/inf.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not an audio file" if path.is_dir() else "file not found"
        raise AudioError(f"{path}: {what}")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes)")
    if sample_rate is not None and (int(sample_rate) != sample_rate or sample_rate <= 0):
        raise AudioError(f"{path}: sample_rate must be a positive integer, got {sample_rate!r}")
    try:
        frames, sr = _read_soundfile(path)
    except sf.LibsndfileError as sf_error:
        frames, sr = _read_audioread(path, sf_error)
    samples = validate_audio(frames.mean(axis=1, dtype=np.float32), str(path))
    if sample_rate is not None and int(sample_rate) != sr:
        samples = soxr.resample(samples, sr, int(sample_rate), quality="HQ").astype(np.float32)
        sr = int(sample_rate)
    return samples, sr


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    """(frames (S, channels) float32, rate) via libsndfile, detecting truncated files."""
    with sf.SoundFile(path) as f:
        chunk = _DATA_CHUNK_LOG.search(f.extra_info)
        if chunk:
            declared, present = int(chunk[1]), int(chunk[2])
            if declared > present and declared != _STREAMED_SIZE:
                raise AudioError(
                    f"{path}: file is truncated: the header declares {declared} bytes of audio "
                    f"data but only {present} are present"
                )
        expected = f.frames
        try:
            frames = f.read(dtype="float32", always_2d=True)
        except sf.LibsndfileError as e:
            raise AudioError(f"{path}: file is truncated or corrupt ({e.error_string})") from e
        if frames.shape[0] < expected:
            raise AudioError(
                f"{path}: file is truncated: the header declares {expected} frames but only "
                f"{frames.shape[0]} could be read"
            )
        return frames, int(f.samplerate)


def _read_audioread(path: Path, sf_error: sf.LibsndfileError) -> tuple[np.ndarray, int]:
    """Fallback for formats libsndfile lacks (e.g. m4a with an ffmpeg or gstreamer backend)."""
    try:
        with warnings.catch_warnings():
            # its stdlib backend imports aifc/sunau/audioop, deprecated since Python 3.11
            warnings.simplefilter("ignore", DeprecationWarning)
            with audioread.audio_open(str(path)) as f:
                channels, sr = f.channels, f.samplerate
                pcm = b"".join(f)
    except (audioread.DecodeError, EOFError, OSError) as e:
        reason = str(e) or "no backend can decode it"
        raise AudioError(
            f"{path}: not a readable audio file (soundfile: {sf_error.error_string.rstrip('.')}; "
            f"audioread: {reason})"
        ) from e
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return samples[: samples.size // channels * channels].reshape(-1, channels), int(sr)
