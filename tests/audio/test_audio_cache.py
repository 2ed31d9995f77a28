"""The on-disk feature cache: keyed by content and parameters, identical results, faster."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import gesture_gym.audio.cache as audio_cache
from gesture_gym.audio import AudioError, features_for_file, warmup

SR, FPS = 15360, 30


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GESTURE_GYM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "features"


def write_music(path: Path, seconds: float = 20.0, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    kicks = rng.standard_normal(t.size) * np.exp(-(t % 0.5) * 60)  # a noise hit every beat
    sf.write(path, (0.2 * np.sin(2 * np.pi * 220 * t) + 0.3 * kicks).astype(np.float32), SR)
    return path


def extraction_forbidden(*args: object, **kwargs: object) -> None:
    raise AssertionError("features were recomputed instead of read from the cache")


def test_second_call_reads_identical_arrays_faster(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmup()
    path = write_music(tmp_path / "song.wav")
    start = time.perf_counter()
    first = features_for_file(path, FPS, "music")
    computed = time.perf_counter() - start
    assert len(list(cache.glob("*.npz"))) == 1

    monkeypatch.setattr(audio_cache, "extract_features", extraction_forbidden)
    start = time.perf_counter()
    second = features_for_file(path, FPS, "music")
    cached = time.perf_counter() - start
    for name, value in first.to_arrays().items():
        assert np.array_equal(value, second.to_arrays()[name]), name
    assert cached < computed


def test_key_covers_content_and_parameters_not_the_name(tmp_path: Path, cache: Path) -> None:
    path = write_music(tmp_path / "a.wav", seconds=2.0)
    features_for_file(path, FPS, "music")
    (tmp_path / "copy.wav").write_bytes(path.read_bytes())
    features_for_file(tmp_path / "copy.wav", FPS, "music")  # same bytes: same entry
    assert len(list(cache.glob("*.npz"))) == 1
    features_for_file(path, FPS, "speech")
    features_for_file(path, FPS, "music", n_frames=50)
    features_for_file(path, 60, "music")
    write_music(path, seconds=2.0, seed=1)  # edited in place
    features_for_file(path, FPS, "music")
    assert len(list(cache.glob("*.npz"))) == 5


def test_torn_cache_entry_is_recomputed(tmp_path: Path, cache: Path) -> None:
    path = write_music(tmp_path / "a.wav", seconds=2.0)
    good = features_for_file(path, FPS, "music")
    (entry,) = cache.glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])
    again = features_for_file(path, FPS, "music")
    np.testing.assert_array_equal(again.mel, good.mel)
    assert entry.stat().st_size > 100


def test_bad_files_raise_and_leave_nothing_cached(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(AudioError, match="missing.wav"):
        features_for_file(tmp_path / "missing.wav", FPS, "music")
    sf.write(tmp_path / "quiet.wav", np.zeros(SR, np.float32), SR)
    with pytest.raises(AudioError, match="quiet.wav.*silent"):
        features_for_file(tmp_path / "quiet.wav", FPS, "music")
    assert not list(cache.glob("*"))
