"""Frame-aligned audio features: alignment, onsets, beats, pitch, rate independence, layout."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from hypothesis import given
from hypothesis import strategies as st

from gesture_gym.audio import (
    AudioError,
    AudioFeatures,
    analysis_rate,
    extract_features,
    load_audio,
    warmup,
)

RATES = [(16000, 20), (15360, 30)]  # the procedural corpora: speech and music


def click_track(times: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """10 ms 1 kHz bursts starting at ``times`` (seconds)."""
    y = np.zeros(round(seconds * sr), np.float32)
    n = round(0.01 * sr)
    burst = np.sin(2 * np.pi * 1000 * np.arange(n) / sr) * np.hanning(n)
    for t in times:
        start = round(t * sr)
        y[start : start + n] += burst
    return y


def harmonic(f0: float, seconds: float, sr: int) -> np.ndarray:
    """A 5-partial harmonic tone, a crude voiced vowel."""
    t = np.arange(round(seconds * sr)) / sr
    return (0.2 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))).astype(np.float32)


def test_analysis_rate_keeps_corpus_rates_and_resamples_others() -> None:
    assert analysis_rate(16000, 20) == (16000, 800)
    assert analysis_rate(15360, 30) == (15360, 512)
    assert analysis_rate(44100, 30) == (44100, 1470)
    assert analysis_rate(22050, 20) == (16000, 800)  # 22050 is not a multiple of 20
    assert analysis_rate(16000, 30) == (15990, 533)
    assert analysis_rate(8000, 20) == (16000, 800)  # too low to keep
    assert analysis_rate(96000, 30) == (15990, 533)  # too high to keep


@given(sr=st.integers(1000, 200_000), fps=st.integers(1, 240))
def test_analysis_rate_hop_times_fps_is_the_rate(sr: int, fps: int) -> None:
    rate, hop = analysis_rate(sr, fps)
    assert hop * fps == rate
    assert rate == sr or abs(rate - 16000) <= fps / 2


@pytest.mark.parametrize(("sr", "fps"), [(16000, 0), (16000, 29.97), (0, 30), (16000.5, 30)])
def test_analysis_rate_rejects_bad_arguments(sr: float, fps: float) -> None:
    with pytest.raises(ValueError, match="fps|sample_rate"):
        analysis_rate(sr, fps)


@pytest.mark.parametrize(("sr", "fps"), RATES)
@pytest.mark.parametrize("kind", ["speech", "music"])
def test_rows_match_requested_frames(sr: int, fps: int, kind: str) -> None:
    hop = sr // fps
    y = harmonic(150, 3.0, sr)[: 3 * sr - hop // 2]  # not a whole number of frames
    full = extract_features(y, sr, fps, kind=kind)
    assert full.n_frames == 3 * fps  # ceil(len / hop)
    for n in (10, 3 * fps + 7):
        feats = extract_features(y, sr, fps, kind=kind, n_frames=n)
        per_frame = [feats.mel, feats.mfcc, feats.onset_strength, feats.rms]
        per_frame += [feats.pitch] if kind == "speech" else []
        assert all(a.shape[0] == n for a in per_frame)
        assert feats.matrix().shape[0] == n
    # a row depends only on the audio around its own time: cutting the clip keeps earlier rows
    short = extract_features(y, sr, fps, kind=kind, n_frames=10)
    np.testing.assert_allclose(short.mel, full.mel[:10], atol=1e-3)
    # (HPSS's 9-frame median along time also sees 4 frames ahead)
    same = 10 - (4 if kind == "music" else 0)
    np.testing.assert_allclose(short.onset_strength[:same], full.onset_strength[:same], atol=1e-3)


@pytest.mark.parametrize(("sr", "fps"), RATES)
def test_row_t_is_centred_on_frame_time(sr: int, fps: int) -> None:
    frame = 37
    y = click_track(np.array([frame / fps - 0.005]), sr, 4.0)  # burst centred on frame 37
    feats = extract_features(y, sr, fps)
    assert int(np.argmax(feats.rms)) == frame
    assert int(np.argmax(feats.mel.max(axis=1))) == frame


@pytest.mark.parametrize(("sr", "fps"), RATES)
@pytest.mark.parametrize("kind", ["speech", "music"])
def test_click_onsets_within_one_frame(sr: int, fps: int, kind: str) -> None:
    rng = np.random.default_rng(3)
    times = np.arange(0.4, 9.0, 0.43) + rng.uniform(0, 0.1, 20)
    feats = extract_features(click_track(times, sr, 10.0), sr, fps, kind=kind)
    distance = np.abs(feats.onsets[:, None] - times[None, :]) * fps  # frames
    assert distance.min(axis=0).max() <= 1.0  # every click found
    assert distance.min(axis=1).max() <= 1.0  # nothing else found


@pytest.mark.parametrize(("sr", "fps"), RATES)
@pytest.mark.parametrize("kind", ["speech", "music"])
def test_beat_tracking_finds_120_bpm(sr: int, fps: int, kind: str) -> None:
    grid = np.arange(0.25, 12.0, 0.5)  # 120 BPM
    t = np.arange(12 * sr) / sr
    pad = (0.1 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)  # a held note under the clicks
    feats = extract_features(click_track(grid, sr, 12.0) + pad, sr, fps, kind=kind)
    assert feats.tempo == pytest.approx(120, rel=0.03)
    assert feats.beats.size >= 0.8 * grid.size
    assert (np.abs(feats.beats[:, None] - grid[None, :]).min(axis=1) * fps).max() <= 2.0


@pytest.mark.parametrize(("sr", "fps"), RATES)
def test_pitch_of_harmonic_tone_and_unvoiced_silence_and_noise(sr: int, fps: int) -> None:
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(sr)).astype(np.float32)
    y = np.concatenate([harmonic(200, 2.0, sr), np.zeros(sr, np.float32), noise])
    pitch = extract_features(y, sr, fps, kind="speech").pitch
    inner = 3  # frames next to a boundary see both sides
    tone, silence, hiss = (
        pitch[a * fps + inner : b * fps - inner] for a, b in [(0, 2), (2, 3), (3, 4)]
    )
    assert np.all(tone > 0)
    assert np.abs(tone - 200).max() < 2.0
    assert np.all(silence == 0) and np.all(hiss == 0)


def test_music_has_no_pitch_and_a_shorter_layout() -> None:
    y = harmonic(220, 1.0, 15360)
    music = extract_features(y, 15360, 30, kind="music")
    speech = extract_features(y, 15360, 30, kind="speech")
    assert music.pitch is None
    assert set(speech.layout()) - set(music.layout()) == {"log_f0", "voiced"}


def test_rms_is_calibrated() -> None:
    """RMS is the signal's, not the Hann-windowed frame's: a sine of amplitude a gives a / sqrt 2."""
    t = np.arange(16000) / 16000
    sine = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    feats = extract_features(sine, 16000, 20)
    assert np.median(feats.rms) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_other_sample_rates_and_stereo_give_nearly_the_same_features(tmp_path: Path) -> None:
    """A 44.1 kHz (analysed natively) and a 22.05 kHz (resampled) stereo file vs 16 kHz mono."""
    rng = np.random.default_rng(1)
    sr0, seconds, fps = 44100, 4.0, 20
    t = np.arange(round(seconds * sr0)) / sr0
    phase = 2 * np.pi * np.cumsum(150 + 20 * np.sin(2 * np.pi * 0.7 * t)) / sr0  # vibrato
    syllables = np.sin(2 * np.pi * 1.5 * t) > -0.3
    x = 0.2 * sum(np.sin(k * phase) / k for k in range(1, 6)) * syllables
    x += 0.02 * soxr.resample(rng.standard_normal(t.size // 4), sr0 // 4, sr0)[: t.size]
    x = x.astype(np.float32)
    sf.write(tmp_path / "mono16k.wav", soxr.resample(x, sr0, 16000), 16000, subtype="FLOAT")
    for sr in (44100, 22050):
        y = soxr.resample(x, sr0, sr) if sr != sr0 else x
        sf.write(tmp_path / f"stereo{sr}.wav", np.stack([1.6 * y, 0.4 * y], 1), sr, subtype="FLOAT")

    ref = extract_features(*load_audio(tmp_path / "mono16k.wav"), fps)
    for sr in (44100, 22050):
        audio, rate = load_audio(tmp_path / f"stereo{sr}.wav")
        assert audio.ndim == 1 and rate == sr
        feats = extract_features(audio, rate, fps, n_frames=ref.n_frames)
        mel_error = np.abs(feats.mel - ref.mel)
        assert np.median(mel_error) < 1.0 and np.percentile(mel_error, 90) < 3.0  # dB
        assert np.percentile(np.abs(feats.rms - ref.rms), 90) < 0.05 * ref.rms.max()
        assert np.corrcoef(feats.mfcc.ravel(), ref.mfcc.ravel())[0, 1] > 0.99
        assert np.mean((feats.pitch > 0) == (ref.pitch > 0)) > 0.95
        voiced = (feats.pitch > 0) & (ref.pitch > 0)
        np.testing.assert_allclose(feats.pitch[voiced], ref.pitch[voiced], rtol=0.02)
        frames, ref_frames = np.rint(feats.onsets * fps), np.rint(ref.onsets * fps)
        assert np.abs(frames[:, None] - ref_frames[None, :]).min(axis=0).max() <= 1


@pytest.mark.parametrize("kind", ["speech", "music"])
def test_matrix_and_layout_agree(kind: str) -> None:
    y = harmonic(180, 2.0, 16000) + click_track(np.array([0.5, 1.2]), 16000, 2.0)
    feats = extract_features(y, 16000, 20, kind=kind)
    matrix, layout = feats.matrix(), feats.layout()
    assert matrix.dtype == np.float32 and np.isfinite(matrix).all()
    assert matrix.shape == (feats.n_frames, max(s.stop for s in layout.values()))
    assert sum(s.stop - s.start for s in layout.values()) == matrix.shape[1]
    assert (layout["mel"].stop - layout["mel"].start, layout["mfcc"].stop) == (64, 84)
    np.testing.assert_array_equal(matrix[:, layout["mel"]], feats.mel)
    np.testing.assert_array_equal(matrix[:, layout["mfcc"]], feats.mfcc)
    np.testing.assert_array_equal(matrix[:, layout["onset_strength"]][:, 0], feats.onset_strength)
    np.testing.assert_array_equal(matrix[:, layout["rms"]][:, 0], feats.rms)
    if kind == "speech":
        voiced = matrix[:, layout["voiced"]][:, 0]
        np.testing.assert_array_equal(voiced, feats.pitch > 0)
        log_f0 = matrix[:, layout["log_f0"]][:, 0]
        np.testing.assert_allclose(
            np.exp(log_f0[voiced == 1]), feats.pitch[feats.pitch > 0], rtol=1e-6
        )
        assert np.all(log_f0[voiced == 0] == 0)


@pytest.mark.parametrize("kind", ["speech", "music"])
def test_arrays_round_trip_exactly_through_npz(tmp_path: Path, kind: str) -> None:
    feats = extract_features(harmonic(150, 2.0, 15360), 15360, 30, kind=kind)
    np.savez(tmp_path / "f.npz", **feats.to_arrays())
    with np.load(tmp_path / "f.npz") as data:
        back = AudioFeatures.from_arrays(dict(data))
    for name, value in feats.to_arrays().items():
        restored = np.asarray(getattr(back, name))
        assert restored.dtype == value.dtype and np.array_equal(restored, value), name
    assert (back.pitch is None) == (kind == "music")
    assert (back.fps, back.sample_rate, back.tempo) == (feats.fps, feats.sample_rate, feats.tempo)


def test_bad_audio_and_arguments_name_the_source() -> None:
    y = harmonic(150, 1.0, 16000)
    with pytest.raises(AudioError, match="take-3.*NaN"):
        extract_features(np.where(np.arange(y.size) == 5, np.nan, y), 16000, 20, source="take-3")
    with pytest.raises(AudioError, match="take-3.*silent"):
        extract_features(np.zeros(16000, np.float32), 16000, 20, source="take-3")
    with pytest.raises(ValueError, match="take-3.*kind"):
        extract_features(y, 16000, 20, kind="noise", source="take-3")
    with pytest.raises(ValueError, match="take-3.*n_frames"):
        extract_features(y, 16000, 20, n_frames=0, source="take-3")


def test_warm_extraction_is_far_faster_than_real_time() -> None:
    """Loose guard (the corpus pipeline needs >100x; measured ~400x): 20 s of music in < 1 s."""
    warmup()
    y = click_track(np.arange(0.25, 20, 0.5), 15360, 20.0) + harmonic(220, 20.0, 15360)
    start = time.perf_counter()
    extract_features(y, 15360, 30, kind="music")
    assert time.perf_counter() - start < 1.0
