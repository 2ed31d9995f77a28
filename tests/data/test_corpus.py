"""The corpus layer: laziness, the on-disk cache, determinism, splits and the structure tests
that hold across both embedded corpora (audio-derived beats, not only the generators' labels)."""

import numpy as np
import pytest

from gesture_gym.data import load_corpus
from gesture_gym.data.clip_io import load_clip, save_clip
from gesture_gym.data.corpus import ProceduralCorpus
from gesture_gym.metrics import beat_align_score

CORPORA = ["speech-gesture", "music-dance"]


@pytest.mark.parametrize("name", CORPORA)
def test_clip_is_made_lazily_and_a_second_load_reads_the_cache(name, private_cache):
    corpus = load_corpus(name, "val", n_clips=3)
    assert corpus.missing() == [0, 1, 2]
    clip = corpus[1]
    assert corpus.missing() == [0, 2]  # only the clip that was read was generated
    again = ProceduralCorpus(name, "val", n_clips=3)
    again.make = lambda i: pytest.fail("a cached clip was generated again")
    cached = again[1]
    for a, b in [(clip.audio, cached.audio), (clip.motion, cached.motion),
                 (clip.features.mel, cached.features.mel), (clip.beats, cached.beats)]:  # fmt: skip
        np.testing.assert_array_equal(a, b)
    assert cached.words == clip.words and cached.id == clip.id and cached.fps == clip.fps


@pytest.mark.parametrize("name", CORPORA)
def test_same_seed_same_corpus_byte_for_byte(name, tmp_path):
    a = ProceduralCorpus(name, "test").make(2)
    b = ProceduralCorpus(name, "test").make(2)
    save_clip(tmp_path / "a.npz", a)
    save_clip(tmp_path / "b.npz", b)
    za, zb = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert za.files == zb.files
    for key in za.files:
        assert za[key].tobytes() == zb[key].tobytes(), key
    other_seed = ProceduralCorpus(name, "test", seed=1).make(2)
    assert not np.array_equal(other_seed.motion, a.motion)


def test_cache_file_round_trip_is_exact_and_torn_files_are_rebuilt(private_cache):
    corpus = load_corpus("speech-gesture", "val", n_clips=1)
    clip = corpus[0]
    back = load_clip(corpus.path(0))
    np.testing.assert_array_equal(back.audio, clip.audio)
    assert back.annotations.keys() == clip.annotations.keys()
    corpus.path(0).write_bytes(corpus.path(0).read_bytes()[:100])  # a torn write
    fresh = ProceduralCorpus("speech-gesture", "val", n_clips=1)[0]
    np.testing.assert_array_equal(fresh.motion, clip.motion)


@pytest.mark.parametrize("name", CORPORA)
def test_features_align_with_motion_frames(name):
    clip = load_corpus(name, "val")[0]
    assert clip.features.n_frames == clip.motion.shape[0] == round(clip.duration * clip.fps)
    hop = clip.sample_rate / clip.fps
    assert hop == int(hop) and len(clip.audio) == clip.n_frames * hop


def test_music_motion_beats_follow_the_detected_audio_beats():
    """Beats found in the audio by librosa (not the generator's labels) align with the dance."""
    clips = load_corpus("music-dance", "val")[:8]
    rng = np.random.default_rng(0)
    wins = 0
    pairs = [(i, j) for i in range(8) for j in range(8) if i != j]
    for i, j in (pairs[k] for k in rng.choice(len(pairs), 40, replace=False)):
        own = beat_align_score(clips[i].motion, clips[i].features.beats, clips[i].fps)
        other = beat_align_score(clips[i].motion, clips[j].features.beats, clips[i].fps)
        wins += own > other
    assert wins >= 0.9 * 40


def test_speech_hand_speed_follows_audio_loudness():
    """Across clips: frames where the speaker is loud are frames where the hands move."""
    from scipy.ndimage import uniform_filter1d

    from gesture_gym.motion.features import joint_speed

    rs = []
    for clip in load_corpus("speech-gesture", "val")[:8]:
        hands = [clip.skeleton.index("left_wrist"), clip.skeleton.index("right_wrist")]
        speed = joint_speed(clip.motion, clip.fps)[:, hands].max(axis=1)
        window = int(0.4 * clip.fps)
        rs.append(np.corrcoef(uniform_filter1d(speed, window),
                              uniform_filter1d(clip.features.rms, window))[0, 1])  # fmt: skip
    assert np.mean(rs) > 0.4


def test_unknown_names_fail_clearly():
    with pytest.raises(KeyError, match="embedded corpora"):
        load_corpus("speech")
    with pytest.raises(KeyError, match="no split"):
        load_corpus("music-dance", "dev")
    with pytest.raises(IndexError):
        load_corpus("music-dance", "val")[10_000]
