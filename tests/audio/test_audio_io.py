"""Loading audio files: formats, mixdown, resampling, and a clear AudioError for every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gesture_gym.audio import AudioError, load_audio, validate_audio

SR = 16000


def tone(seconds: float = 1.0, sr: int = SR, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(("fmt", "tolerance"), [("wav", 1e-4), ("flac", 1e-4), ("ogg", 0.05)])
def test_reads_formats_as_mono_float32(tmp_path: Path, fmt: str, tolerance: float) -> None:
    path = tmp_path / f"tone.{fmt}"
    sf.write(path, tone(), SR)
    audio, sr = load_audio(path)
    assert sr == SR and audio.dtype == np.float32 and audio.shape == (SR,)
    assert np.abs(audio - tone()).max() < tolerance


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    x = tone()
    sf.write(tmp_path / "stereo.wav", np.stack([1.5 * x, 0.5 * x], axis=1), SR, subtype="FLOAT")
    audio, _ = load_audio(tmp_path / "stereo.wav")
    np.testing.assert_allclose(audio, x, atol=1e-6)


def test_resampling_keeps_the_signal(tmp_path: Path) -> None:
    sf.write(tmp_path / "tone.wav", tone(sr=44100), 44100, subtype="FLOAT")
    audio, sr = load_audio(tmp_path / "tone.wav", sample_rate=SR)
    assert sr == SR and audio.dtype == np.float32
    assert abs(audio.size - SR) <= 1
    inner = slice(100, SR - 100)  # resampler edge effects aside
    np.testing.assert_allclose(audio[inner], tone()[inner], atol=2e-3)


# case -> what the error message must say
BAD_FILES = {
    "missing": "file not found",
    "zero bytes": "empty",
    "no samples": "empty",
    "all zero": "silent",
    "nan": "NaN",
    "truncated": "truncated",
    "text renamed .wav": "not a readable audio file",
}


def write_bad_file(case: str, path: Path) -> None:
    if case == "zero bytes":
        path.write_bytes(b"")
    elif case == "no samples":
        sf.write(path, np.zeros(0, np.float32), SR)
    elif case == "all zero":
        sf.write(path, np.zeros(SR, np.float32), SR)
    elif case == "nan":
        sf.write(path, np.where(np.arange(SR) == 7, np.nan, tone()), SR, subtype="FLOAT")
    elif case == "truncated":
        sf.write(path, tone(), SR)
        path.write_bytes(path.read_bytes()[:SR])  # header promises 2 * SR bytes of data
    elif case == "text renamed .wav":
        path.write_text("this is not audio\n" * 50)


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_raise_audio_error_naming_the_file(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bad.wav"
    write_bad_file(case, path)
    with pytest.raises(AudioError, match=BAD_FILES[case]) as info:
        load_audio(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_compressed_file_is_reported(tmp_path: Path) -> None:
    sf.write(tmp_path / "valid.flac", tone(2.0), SR)
    data = (tmp_path / "valid.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated") as info:
        load_audio(tmp_path / "cut.flac")
    assert "cut.flac" in str(info.value)


def test_directory_is_not_audio(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        (np.zeros(0, np.float32), "empty"),
        (np.full(100, 1e-5, np.float32), "silent"),
        (np.array([0.1, np.inf, 0.2], np.float32), "infinite"),
        (np.zeros((100, 2), np.float32), "mono"),
    ],
)
def test_validate_audio_rejects_arrays(samples: np.ndarray, expected: str) -> None:
    with pytest.raises(AudioError, match=expected) as info:
        validate_audio(samples, "clip-17")
    assert "clip-17" in str(info.value)


def test_validate_audio_passes_good_audio_through() -> None:
    x = tone()
    assert validate_audio(x, "ok") is x
