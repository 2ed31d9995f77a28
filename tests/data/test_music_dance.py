"""The procedural music-dance generator: determinism, physical plausibility, music-motion
alignment and the annotations the corpus promises."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesture_gym.data.procedural.music_dance import (
    CONTACT_HEIGHT,
    FLOOR_TOL,
    FOOT_JOINTS,
    GENRES,
    HELD_OUT_GENRES,
    MAX_SLIDE,
    MAX_STEP,
    PEAK,
    SEEN_GENRES,
    MusicDanceGenerator,
    genre_for,
)
from gesture_gym.metrics.beat_align import beat_align_score
from gesture_gym.motion.features import joint_speed
from gesture_gym.motion.skeleton import SMPL24

GEN = MusicDanceGenerator()
# every genre twice: train covers the four seen genres, unseen the two held-out ones
CASES = (
    [("train", i) for i in range(8)] + [("val", 0), ("test", 1)] + [("unseen", i) for i in range(4)]
)


@pytest.fixture(scope="module")
def clips():
    return [GEN.generate(3, split, i) for split, i in CASES]


def test_same_seed_split_index_gives_the_same_clip_byte_for_byte(clips):
    again = GEN.generate(3, "train", 2)
    first = clips[2]
    assert again.audio.tobytes() == first.audio.tobytes()
    assert again.motion.tobytes() == first.motion.tobytes()
    assert again.beats.tobytes() == first.beats.tobytes()
    assert set(again.annotations) == set(first.annotations)
    for key, value in first.annotations.items():
        if isinstance(value, np.ndarray):
            assert again.annotations[key].tobytes() == value.tobytes()
        else:
            assert again.annotations[key] == value
    other_index = GEN.generate(3, "train", 6)  # the same genre as index 2
    other_seed = GEN.generate(4, "train", 2)
    for other in (other_index, other_seed):
        assert not np.array_equal(other.audio, first.audio)
        assert not np.array_equal(other.motion, first.motion)


def test_shapes_dtypes_and_audio_level(clips):
    n_frames = int(GEN.clip_seconds * GEN.fps)
    for clip in clips:
        assert clip.motion.shape == (n_frames, SMPL24.n_joints, 3)
        assert clip.motion.dtype == np.float32
        assert clip.audio.shape == (n_frames * GEN.sample_rate // GEN.fps,)
        assert clip.audio.dtype == np.float32
        # 16-bit quantised, peak at -3 dBFS, never clipping
        assert np.array_equal(clip.audio * 32768, np.round(clip.audio * 32768))
        assert np.abs(clip.audio).max() == pytest.approx(PEAK, abs=1e-3)
        # no silent stretch: every second of music has sound
        rms = np.sqrt(np.mean(clip.audio.reshape(-1, GEN.sample_rate) ** 2, axis=1))
        assert rms.min() > 0.005


def test_forward_kinematics_keeps_bone_lengths(clips):
    parents = np.array(SMPL24.parents[1:])
    for clip in clips:
        m = clip.motion.astype(np.float64)
        lengths = np.linalg.norm(m[:, 1:] - m[:, parents], axis=-1)
        # float32 positions within a few metres of the origin round by well under 1e-6 m
        assert np.abs(lengths - SMPL24.bone_lengths()).max() < 1e-6


def test_motion_is_smooth_and_finite(clips):
    for clip in clips:
        assert np.all(np.isfinite(clip.motion))
        step = np.linalg.norm(np.diff(clip.motion, axis=0), axis=-1)
        assert step.max() <= MAX_STEP, f"{clip.annotations['genre']}: {step.max():.3f} m"


def test_feet_touch_the_floor_and_do_not_slide(clips):
    jumping = {m.name for g in GENRES.values() for m in g.moves if m.air.any()}
    for clip in clips:
        m = clip.motion.astype(np.float64)
        airborne = clip.annotations["contacts"] < 0
        feet = m[:, list(FOOT_JOINTS)]
        lowest = feet[:, :, 1].min(axis=1)
        assert np.abs(lowest[~airborne]).max() <= FLOOR_TOL
        assert m[:, :, 1].min() > -1e-4  # nothing goes through the floor, in the air either
        # jumps are marked airborne only while a jumping move is danced, and never for long
        assert airborne.mean() < 0.2
        t = np.arange(len(m)) / GEN.fps
        in_jump = np.zeros(len(m), bool)
        for move in clip.annotations["moves"]:
            if move["label"] in jumping:
                in_jump |= (t >= move["start"]) & (t <= move["end"])
        assert np.all(in_jump[airborne])
        # a foot joint near the floor stays put: mean horizontal speed over its contact frames
        speed = np.linalg.norm(np.diff(feet[:, :, [0, 2]], axis=0), axis=-1) * GEN.fps
        low = feet[:, :, 1] < CONTACT_HEIGHT
        contact = low[1:] & low[:-1] & ~airborne[1:, None] & ~airborne[:-1, None]
        assert contact.sum() > len(m)  # both feet are down most of the time
        assert speed[contact].mean() <= MAX_SLIDE


def test_kinematic_beats_fall_on_the_clips_own_musical_beats(clips):
    own = [beat_align_score(c.motion, c.beats, GEN.fps) for c in clips]
    wins = total = 0
    for i, clip in enumerate(clips):
        for j, other in enumerate(clips):
            if i != j:
                wins += own[i] > beat_align_score(clip.motion, other.beats, GEN.fps)
                total += 1
    assert wins >= 0.9 * total


def test_tempo_meter_beats_and_genre_split(clips):
    for (split, _), clip in zip(CASES, clips, strict=True):
        a = clip.annotations
        assert 80 <= a["tempo"] <= 160
        assert a["meter"] == GENRES[a["genre"]].meter
        assert (a["genre"] in HELD_OUT_GENRES) == (split == "unseen")
        beat = 60 / a["tempo"]
        assert np.array_equal(a["beat_times"], clip.beats)
        assert np.allclose(np.diff(clip.beats), beat, atol=1e-4)
        assert clip.beats[0] >= 0 and clip.beats[-1] < GEN.clip_seconds
        assert np.isin(a["downbeat_times"], clip.beats).all()
        assert np.allclose(np.diff(a["downbeat_times"]), a["meter"] * beat, atol=1e-4)
    assert {c.annotations["genre"] for c in clips} == set(GENRES)
    for split, size in GEN.split_sizes.items():
        genres = {genre_for(split, i).name for i in range(size)}
        assert genres == set(HELD_OUT_GENRES if split == "unseen" else SEEN_GENRES)


def test_motion_and_loudness_follow_section_energy(clips):
    energy, motion_speed, loudness = [], [], []
    for clip in clips:
        speed = joint_speed(clip.motion, GEN.fps).mean(axis=1)
        for s in clip.annotations["sections"]:
            f0, f1 = int(s["start"] * GEN.fps), int(s["end"] * GEN.fps)
            if f1 - f0 >= GEN.fps:
                a0, a1 = (int(x * GEN.sample_rate) for x in (s["start"], s["end"]))
                energy.append(s["energy"])
                motion_speed.append(speed[f0:f1].mean())
                loudness.append(np.sqrt(np.mean(clip.audio[a0:a1] ** 2)))
    assert len(energy) >= 2 * len(clips)
    assert np.corrcoef(energy, motion_speed)[0, 1] > 0.3
    assert np.corrcoef(energy, loudness)[0, 1] > 0.3


def test_annotations_are_consistent_and_json_friendly(clips):
    for clip in clips:
        a = clip.annotations
        plain = {k: v for k, v in a.items() if not isinstance(v, np.ndarray)}
        json.dumps(plain)
        assert all(v.ndim == 1 for v in a.values() if isinstance(v, np.ndarray))
        assert len(a["contacts"]) == len(clip.motion)
        for seq in (a["sections"], a["moves"]):  # back to back, covering the clip
            assert seq[0]["start"] == 0.0 and seq[-1]["end"] == GEN.clip_seconds
            assert all(x["end"] == y["start"] for x, y in zip(seq, seq[1:], strict=False))
        labels = {m.name for m in GENRES[a["genre"]].moves}
        assert {m["label"] for m in a["moves"]} <= labels
        for m in a["moves"][1:-1]:  # not clipped by the clip's ends
            assert m["end"] - m["start"] == pytest.approx(m["beats"] * 60 / a["tempo"], abs=1e-3)


@pytest.mark.parametrize(
    ("seed", "split", "index", "message"),
    [
        (0, "dev", 0, "split"),
        (0, "val", 12, "index"),
        (0, "train", -1, "index"),
        (-1, "train", 0, "seed"),
    ],
)
def test_bad_arguments_are_named(seed, split, index, message):
    with pytest.raises(ValueError, match=message):
        GEN.generate(seed, split, index)
