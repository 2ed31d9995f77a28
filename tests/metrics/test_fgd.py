import numpy as np
import pytest
import torch

from gesture_gym.assets import WeightsError
from gesture_gym.data import load_corpus
from gesture_gym.metrics.fgd import (
    DEFAULT_EXTRACTOR,
    ExtractorConfig,
    FGDExtractor,
    fgd,
    motion_windows,
    resample,
    train_extractor,
)

TINY = dict(n_joints=4, fps=20.0, window=16, channels=8, latent=3, steps=6, batch_size=8)


def waves(seed: int, n_clips: int = 4, frames: int = 80) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / 20.0
    return [
        np.sin(2 * np.pi * rng.uniform(0.2, 2, (1, 4, 3)) * t + rng.uniform(0, 6, (1, 4, 3)))
        for _ in range(n_clips)
    ]


def test_training_is_deterministic_and_weights_round_trip(tmp_path):
    config = ExtractorConfig(**TINY)
    a = train_extractor(waves(0), 20.0, config)
    b = train_extractor(waves(0), 20.0, config)
    for (k, va), vb in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(va, vb), k
    assert not torch.equal(a.model.mean, torch.zeros(12))  # normalisation learnt from the data

    a.save("tiny", command="test", folder=tmp_path, source="waves")
    loaded = FGDExtractor.load("tiny", tmp_path)
    assert loaded.config == config
    clips = waves(1)
    np.testing.assert_array_equal(loaded.features(clips, 20.0), a.features(clips, 20.0))

    weights = tmp_path / "tiny.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(WeightsError, match="sha256"):
        FGDExtractor.load("tiny", tmp_path)


def test_windows_resampling_and_input_errors():
    line = np.zeros((21, 2, 3))
    line[:, :, 0] = np.arange(21)[:, None] / 20.0  # 1 m/s along x, 1 s at 20 fps
    up = resample(line, 20.0, 30.0)
    assert up.shape == (31, 2, 3)
    np.testing.assert_allclose(up[:, 0, 0], np.arange(31) / 30.0, atol=1e-12)

    w = motion_windows(line, window=8, stride=8)
    assert w.shape == (2, 8, 6)  # 21 frames -> two whole windows, the rest dropped
    np.testing.assert_allclose(w[:, :, 0].mean(axis=1), 0.0, atol=1e-12)  # root-centred

    ext = train_extractor(waves(0), 20.0, ExtractorConfig(**TINY))
    with pytest.raises(ValueError, match="window"):
        ext.features([np.zeros((20, 4, 3))], 20.0)  # one window: no covariance
    with pytest.raises(ValueError, match="joints"):
        ext.features([np.zeros((80, 5, 3))], 20.0)
    with pytest.raises(ValueError, match="multiple of 8"):
        ExtractorConfig(n_joints=4, fps=20.0, window=12)


@pytest.fixture(scope="module")
def speech_splits():
    train = [c.motion for c in load_corpus("speech-gesture", "train")]
    test = [c.motion for c in load_corpus("speech-gesture", "test")]
    return train, test


def test_shipped_extractor_separates_real_from_corrupted_motion(speech_splits):
    train, test = speech_splits
    ext = FGDExtractor.load(DEFAULT_EXTRACTOR)
    fps = ext.config.fps
    real = fgd(test, train, fps, ext)
    rng = np.random.default_rng(0)
    noisy = fgd([m + rng.normal(scale=0.01, size=m.shape) for m in test], train, fps, ext)
    reversed_ = fgd([m[::-1] for m in test], train, fps, ext)
    assert real < noisy / 10 and real < reversed_ / 10, (real, noisy, reversed_)
    # the same clips at another frame rate are resampled to the extractor's
    at_40 = [resample(m, fps, 40.0) for m in test]
    assert fgd(at_40, train, 40.0, ext, reference_fps=fps) < noisy / 10
