"""The procedural speech-gesture generator: determinism, valid motion and audio, and the
speech-gesture couplings (loudness, stress timing, semantic words, speakers) models learn from."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from gesture_gym.data.procedural.base import GeneratedClip
from gesture_gym.data.procedural.speech_gesture import (
    GESTURES,
    HOP,
    MAX_STEP,
    PEAK,
    SEEN_SPEAKERS,
    UNSEEN_SPEAKERS,
    SpeechGestureGenerator,
    plan_speech,
    speaker_for,
)
from gesture_gym.metrics import beat_align_score
from gesture_gym.motion.features import joint_speed

GEN = SpeechGestureGenerator()
N_CLIPS = 12


@pytest.fixture(scope="module")
def clips() -> list[GeneratedClip]:
    """A dozen clips over all seen speakers (two each) from the test split."""
    return [GEN.generate(7, "test", i) for i in range(N_CLIPS)]


def test_same_seed_split_index_gives_the_same_bytes():
    a, b = GEN.generate(3, "val", 5), GEN.generate(3, "val", 5)
    assert a.audio.tobytes() == b.audio.tobytes()
    assert a.motion.tobytes() == b.motion.tobytes()
    assert a.words == b.words and a.annotations["gestures"] == b.annotations["gestures"]
    for other in (GEN.generate(3, "val", 6), GEN.generate(4, "val", 5), GEN.generate(3, "test", 5)):
        assert not np.array_equal(a.audio, other.audio)
        assert not np.array_equal(a.motion, other.motion)


def test_shapes_types_and_audio_format(clips):
    for c in clips:
        assert c.motion.shape == (200, 16, 3) and c.motion.dtype == np.float32
        assert c.audio.shape == (160_000,) and c.audio.dtype == np.float32
        k = c.audio.astype(np.float64) * 32768.0
        assert np.array_equal(k, np.round(k))  # 16-bit exact, so an int16 cache copy is lossless
        assert np.abs(c.audio).max() == pytest.approx(PEAK, abs=1e-3)  # -3 dBFS, never clipping
        assert np.sqrt(np.mean(c.audio.astype(np.float64) ** 2)) > 0.02  # not silent


def test_bone_lengths_are_constant(clips):
    # The float32 output is checked at 1e-6: positions below 2 m round by at most 1.2e-7 per
    # coordinate, so a bone length moves by at most about 4e-7.
    parents = np.array(GEN.skeleton.parents[1:])
    rest = GEN.skeleton.bone_lengths()
    for c in clips:
        m = c.motion.astype(np.float64)
        lengths = np.linalg.norm(m[:, 1:] - m[:, parents], axis=-1)
        np.testing.assert_allclose(lengths, np.broadcast_to(rest, lengths.shape), rtol=0, atol=1e-6)


def test_motion_is_smooth_and_upright(clips):
    for c in clips:
        assert np.all(np.isfinite(c.motion))
        step = np.linalg.norm(np.diff(c.motion.astype(np.float64), axis=0), axis=-1)
        assert step.max() < MAX_STEP  # 3 m/s at 20 fps
        pelvis, head = c.motion[:, 0], c.motion[:, 7]
        assert np.all(np.abs(pelvis[:, 1] - 1.0) < 0.05) and np.all(head[:, 1] > 1.5)


def test_hand_speed_follows_loudness(clips):
    """Pearson r between loudness and hand speed, both smoothed with a 0.5 s moving average.

    Loudness is the RMS of each motion frame's 800 audio samples; hand speed is the faster
    hand's, so one-handed and two-handed phrases compare alike.
    """
    r = []
    for c in clips:
        rms = np.sqrt(np.mean(c.audio.astype(np.float64).reshape(-1, HOP) ** 2, axis=1))
        hand = joint_speed(c.motion, GEN.fps)[:, [14, 15]].max(axis=1)
        r.append(np.corrcoef(uniform_filter1d(rms, 10), uniform_filter1d(hand, 10))[0, 1])
    assert np.mean(r) > 0.4, np.round(r, 2)


def test_motion_beats_fall_on_own_stresses(clips):
    own = [beat_align_score(c.motion, c.beats, GEN.fps) for c in clips]
    wins = [
        own[i] > beat_align_score(clips[i].motion, clips[j].beats, GEN.fps)
        for i in range(N_CLIPS)
        for j in range(N_CLIPS)
        if i != j
    ]
    assert np.mean(wins) >= 0.9, np.mean(wins)


def test_timings_are_consistent(clips):
    for c in clips:
        a = c.annotations
        assert np.array_equal(c.beats, a["stress_times"])
        assert np.all(np.isin(a["stress_times"], a["syllable_times"]))
        assert np.all(np.diff(a["syllable_times"]) > 0)
        assert 0.0 < a["syllable_times"][0] and a["syllable_times"][-1] < GEN.clip_seconds
        starts = [w.start for w in c.words]
        assert all(w.start < w.end for w in c.words) and starts == sorted(starts)
        phrases = np.array(a["phrases"])
        assert np.all(phrases[1:, 0] > phrases[:-1, 1])  # pauses between phrases
        beats = [g["stroke"] for g in a["gestures"] if g["kind"] == "beat"]
        np.testing.assert_allclose(beats, a["stress_times"], atol=1e-4)


def test_semantic_gestures_come_with_their_words(clips):
    triggers = found = 0
    for c in clips:
        words = [w for w in c.words if w.text in GESTURES]
        semantic = [g for g in c.annotations["gestures"] if g["kind"] == "semantic"]
        for g in semantic:
            word = next(w for w in words if w.start <= g["stroke"] <= w.end)
            assert word.text == g["word"] and GESTURES[word.text].label == g["label"]
            assert g["start"] < g["stroke"] < g["end"]
        triggers += len(words)
        found += len(semantic)
    assert triggers >= 10 and found >= 0.8 * triggers


def test_speakers_of_the_unseen_split_are_held_out():
    def speakers(split: str) -> set[str]:
        return {speaker_for(split, i).name for i in range(GEN.split_sizes[split])}

    seen = speakers("train") | speakers("val") | speakers("test")
    assert seen == {s.name for s in SEEN_SPEAKERS}
    assert speakers("unseen") == {s.name for s in UNSEEN_SPEAKERS}
    assert not seen & speakers("unseen")
    for split, i in (("train", 4), ("unseen", 1)):
        assert GEN.generate(0, split, i).annotations["speaker"] == speaker_for(split, i).name


def test_rare_semantic_words_are_rare():
    rng = np.random.default_rng(0)
    words = Counter(
        w.text for i in range(1000) for w in plan_speech(rng, SEEN_SPEAKERS[i % 6]).words
    )
    total = sum(words.values())
    for rare in ("rise", "circle", "count", "heart"):
        assert 0.0003 < words[rare] / total < 0.003, (rare, words[rare], total)
    assert words["you"] > 5 * max(words[w] for w in ("rise", "circle", "count", "heart"))
    labels = {GESTURES[w].label for w in words if w in GESTURES}
    assert labels == {g.label for g in GESTURES.values()}


@pytest.mark.parametrize(
    ("seed", "split", "index", "message"),
    [
        (0, "dev", 0, "split"),
        (0, "val", 30, "index"),
        (0, "train", -1, "index"),
        (-1, "test", 0, "seed"),
    ],
)
def test_bad_arguments_are_named(seed, split, index, message):
    with pytest.raises(ValueError, match=message):
        GEN.generate(seed, split, index)
