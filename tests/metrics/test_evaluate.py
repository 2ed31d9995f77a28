import numpy as np
import pytest

from gesture_gym.data import load_corpus
from gesture_gym.metrics.evaluate import DIRECTIONS, MotionSample, evaluate


@pytest.fixture(scope="module")
def dance():
    return list(load_corpus("music-dance", "test")), list(load_corpus("music-dance", "val"))


def test_aist_protocol_on_the_dance_corpus(dance):
    test, val = dance
    scores = evaluate(test, val, "aist", ground_truth=test)
    assert list(scores) == [
        "FID_k", "FID_g", "DIV_k", "DIV_g", "BAS", "BAS_FACT",
        "FID_k_corrected", "FID_g_corrected", "DIV_k_corrected", "DIV_g_corrected", "MAJE", "MAD",
    ]  # fmt: skip
    assert set(scores) <= set(DIRECTIONS)
    assert all(np.isfinite(v) and v >= 0 for v in scores.values())
    assert scores["MAJE"] == 0.0 and scores["MAD"] == 0.0
    itself = evaluate(test, test, "aist")
    assert itself["FID_k"] == pytest.approx(0.0, abs=1e-6)
    assert itself["FID_g_corrected"] == pytest.approx(0.0, abs=1e-6)
    # generated motion for a clip keeps the clip's music
    still = [MotionSample.from_clip(c, np.repeat(c.motion[:1], len(c.motion), 0)) for c in test]
    assert evaluate(still, val, "aist")["BAS"] == 0.0


def test_beat_protocol_on_the_speech_corpus():
    test = list(load_corpus("speech-gesture", "test"))[:12]
    val = list(load_corpus("speech-gesture", "val"))
    scores = evaluate(test, val, "beat", ground_truth=test)
    assert list(scores) == ["FGD", "BC", "L1div", "PMB", "BC_corrected", "MAJE", "MAD"]
    assert 0 < scores["BC"] <= 1 and 0 < scores["PMB"] <= 100 and scores["L1div"] > 0
    assert evaluate(test, test, "beat")["FGD"] == pytest.approx(0.0, abs=1e-6)


def test_bad_input_is_named():
    m = np.zeros((100, 24, 3))
    with pytest.raises(ValueError, match="protocol"):
        evaluate([MotionSample(m, 30)], [MotionSample(m, 30)], "dance")
    with pytest.raises(ValueError, match="several frame rates"):
        evaluate([MotionSample(m, 30), MotionSample(m, 60)], [MotionSample(m, 30)], "aist")
    rng = np.random.default_rng(0)
    clips = [MotionSample(rng.normal(size=(100, 24, 3)), 30, name=f"c{i}") for i in range(3)]
    with pytest.raises(ValueError, match=r"clip 0 \(c0\): no beats"):
        evaluate(clips, clips, "aist")
