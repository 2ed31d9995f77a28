"""Readers of real data sets, on tiny fixture data sets written in each exact format: what comes
back, the on-disk cache, and clear errors for missing, corrupted, truncated and hostile files."""

import os
import pickle
import warnings

import numpy as np
import pytest
from readers_fixtures import (
    BVH_JOINTS,
    BVH_WIDTH,
    SEQUENCES,
    WORDS,
    Payload,
    bvh_frames,
    bvh_text,
    music,
    textgrid_long,
    textgrid_short,
    write_aistpp,
    write_beat2,
    write_bvh_dataset,
    write_folder,
    write_pats,
    write_smplx_model,
    write_wav,
)

from gesture_gym.data import load_corpus
from gesture_gym.data.readers import (
    READERS,
    DatasetError,
    LengthMismatchWarning,
    UnsafePickleError,
    common,
    read_aistpp,
    read_beat2,
    read_bvh,
    read_bvh_dataset,
    read_folder,
    read_pats,
    safe_load_pickle,
)
from gesture_gym.data.readers.beat2 import read_textgrid_words
from gesture_gym.motion.rotations import axis_rotation
from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY
from gesture_gym.motion.smplx import SMPLX_NEUTRAL, SMPLX_TO_UPPER_BODY, retarget
from gesture_gym.motion.smplx import smplx_joint_positions as smplx_fk


def assert_bone_lengths(motion, skeleton):
    parents = list(skeleton.parents[1:])
    lengths = np.linalg.norm(motion[:, 1:] - motion[:, parents], axis=-1)
    np.testing.assert_allclose(
        lengths, np.broadcast_to(skeleton.bone_lengths(), lengths.shape), atol=1e-5
    )


def test_every_format_is_registered():
    assert sorted(READERS) == ["aistpp", "beat2", "bvh", "folder", "pats"]


# --- BEAT2 ----------------------------------------------------------------------------------------


def test_beat2_clips_carry_retargeted_smplx_motion_words_and_labels(tmp_path, private_cache):
    root = write_beat2(tmp_path / "beat_english_v2.0.0")
    clips = load_corpus(f"beat2:{root}", "train")
    assert len(clips) == 2
    clip = clips[0]
    assert clip.id == "beat2/train/2_scott_0_1_1" and clip.split == "train"
    assert clip.skeleton is UPPER_BODY and clip.fps == 30.0 and clip.sample_rate == 16000
    with np.load(root / "smplxflame_30" / "2_scott_0_1_1.npz") as z:
        expected = retarget(
            smplx_fk(z["poses"], z["trans"]), SMPLX_NEUTRAL, UPPER_BODY, SMPLX_TO_UPPER_BODY
        )
    np.testing.assert_allclose(clip.motion, expected[: clip.n_frames], atol=1e-5)
    assert (
        clip.n_frames == 90 and clip.features.n_frames == 90 and clip.audio.size == 90 * 16000 // 30
    )
    assert_bone_lengths(clip.motion, UPPER_BODY)
    assert [(w.start, w.end, w.text) for w in clip.words] == [w for w in WORDS if w[2]]
    np.testing.assert_array_equal(clip.beats, clip.features.onsets)  # speech: audio onsets
    assert clip.beats.size > 0
    assert clip.annotations["speaker"] == "scott"
    assert clip.annotations["semantic"][1] == {
        "name": "deictic_l", "start": 2.2, "end": 2.9, "duration": 0.7, "score": 0.3,
        "keywords": "world there",
    }  # fmt: skip
    test = read_beat2(root, "test")
    assert [c.id for c in test] == ["beat2/test/4_lawrence_0_3_3"]


def test_beat2_resamples_to_the_requested_frame_rate(tmp_path, private_cache):
    root = write_beat2(tmp_path / "beat")
    at30, at20 = read_beat2(root, "train")[1], read_beat2(root, "train", fps=20)[1]
    assert at20.fps == 20.0 and at20.n_frames == 60  # floor((90 - 1) * 20 / 30) + 1 frames
    np.testing.assert_allclose(
        at20.motion[::2], at30.motion[::3][: at20.motion[::2].shape[0]], atol=1e-5
    )
    assert at20.words == at30.words


def test_a_second_open_reads_the_cache_and_a_changed_file_is_converted_again(
    tmp_path, private_cache
):
    root = write_beat2(tmp_path / "beat")
    first = read_beat2(root, "train")
    assert first.missing() == [0, 1]
    clips = list(first)  # converts both (with a progress bar)
    again = read_beat2(root, "train")
    assert again.missing() == []
    again._convert = lambda source: pytest.fail(f"{source.name} was converted again")
    np.testing.assert_array_equal(again[1].motion, clips[1].motion)
    assert again[1].words == clips[1].words
    assert again.index_of("beat2/train/2_scott_0_2_2") == again.index_of("2_scott_0_2_2") == 1
    with pytest.raises(KeyError, match="no clip 'nope'"):
        again.index_of("nope")
    wav = root / "wave16k" / "2_scott_0_2_2.wav"
    os.utime(wav, ns=(wav.stat().st_atime_ns, wav.stat().st_mtime_ns + 10**9))  # an edited file
    assert read_beat2(root, "train").missing() == [1]
    assert read_beat2(root, "train", fps=15).missing() == [0, 1]  # other parameters, other clips


def test_slices_are_lazy_views_and_build_converts_only_what_is_missing(
    tmp_path, private_cache, monkeypatch
):
    root = write_beat2(tmp_path / "beat")
    every = read_beat2(root, "all")
    tail = every[1:]
    assert len(tail) == 2 and tail.missing() == [0, 1]  # slicing converts nothing
    assert tail.clip_id(0) == every.clip_id(1) and tail.index_of(every.clip_id(2)) == 1
    assert tail.build(progress=False) == 2 and tail.build(progress=False) == 0
    assert every.missing() == [0] and tail[1].id == every.clip_id(2)
    monkeypatch.setattr(common, "FEATURES_VERSION", "audio-features-changed")
    assert read_beat2(root, "all").missing() == [0, 1, 2]  # new audio features, new clips


def test_beat2_missing_corrupted_and_truncated_files_are_named(tmp_path, private_cache):
    root = write_beat2(tmp_path / "beat")
    (root / "wave16k" / "2_scott_0_1_1.wav").unlink()
    with pytest.raises(FileNotFoundError, match=r"wave16k/2_scott_0_1_1\.wav"):
        read_beat2(root, "train")[0]
    npz = root / "smplxflame_30" / "2_scott_0_2_2.npz"
    npz.write_bytes(npz.read_bytes()[:300])
    with pytest.raises(DatasetError, match=r"2_scott_0_2_2\.npz: not a readable npz"):
        read_beat2(root, "train")[1]
    np.savez(npz, poses=np.zeros((10, 156)), trans=np.zeros((10, 3)), mocap_frame_rate=30)
    with pytest.raises(DatasetError, match=r"2_scott_0_2_2\.npz: poses must be .*\(10, 156\)"):
        read_beat2(root, "train")[1]
    np.savez(npz, poses=np.zeros((10, 165)), mocap_frame_rate=30)
    with pytest.raises(DatasetError, match="missing trans"):
        read_beat2(root, "train")[1]
    with pytest.raises(KeyError, match="no split 'dev'"):
        read_beat2(root, "dev")
    (root / "train_test_split.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"train_test_split\.csv"):
        read_beat2(root, "train")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_beat2(tmp_path / "nowhere", "train")


def test_beat2_with_the_official_model_file_uses_the_clip_betas(
    tmp_path, private_cache, monkeypatch
):
    root = write_beat2(tmp_path / "beat")
    write_smplx_model(tmp_path / "SMPLX_NEUTRAL.npz")
    monkeypatch.setenv("GESTURE_GYM_SMPLX_MODEL", str(tmp_path / "SMPLX_NEUTRAL.npz"))
    with_model = read_beat2(root, "train")[0]
    monkeypatch.delenv("GESTURE_GYM_SMPLX_MODEL")
    mean_shape = read_beat2(root, "train")[0]
    assert_bone_lengths(with_model.motion, UPPER_BODY)  # both land on the gesture skeleton
    assert np.abs(with_model.motion - mean_shape.motion).max() > 1e-3  # from other rest offsets


def test_textgrid_long_and_short_formats_give_the_same_words(tmp_path):
    (tmp_path / "long.TextGrid").write_text(textgrid_long(WORDS, 3.0))
    (tmp_path / "short.TextGrid").write_text(textgrid_short(WORDS, 3.0))
    (tmp_path / "utf16.TextGrid").write_text(textgrid_long(WORDS, 3.0), encoding="utf-16")
    words = read_textgrid_words(tmp_path / "long.TextGrid")
    assert [w.text for w in words] == ["hello", 'say "hi"', "[1]", "world"]
    assert read_textgrid_words(tmp_path / "short.TextGrid") == words
    assert read_textgrid_words(tmp_path / "utf16.TextGrid") == words
    text = textgrid_long(WORDS, 3.0)
    (tmp_path / "cut.TextGrid").write_text(text[: len(text) * 2 // 3])
    with pytest.raises(DatasetError, match=r"cut\.TextGrid: truncated TextGrid"):
        read_textgrid_words(tmp_path / "cut.TextGrid")
    (tmp_path / "other.TextGrid").write_text("just some text\n")
    with pytest.raises(DatasetError, match=r"other\.TextGrid: not a Praat TextGrid"):
        read_textgrid_words(tmp_path / "other.TextGrid")


# --- AIST++ ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 5])
def test_aistpp_reads_smpl_dance_with_music_beats(tmp_path, private_cache, protocol):
    root = write_aistpp(tmp_path / "aist", protocol=protocol)
    clips = read_aistpp(root, "train", fps=30)
    assert [c.id for c in clips] == [f"aistpp/train/{SEQUENCES[0]}"]  # the second is ignored
    clip = clips[0]
    assert clip.skeleton is SMPL24 and clip.fps == 30.0
    data = safe_load_pickle(root / "motions" / f"{SEQUENCES[0]}.pkl")
    root_pos = data["smpl_trans"] / 93.5
    expected = SMPL24.forward_kinematics(
        data["smpl_poses"].reshape(-1, 24, 3), root_pos, axis_angle=True
    )
    np.testing.assert_allclose(clip.motion, expected[::2][: clip.n_frames], atol=1e-5)
    np.testing.assert_allclose(clip.motion[:, 0], root_pos[::2][: clip.n_frames], atol=1e-5)
    np.testing.assert_array_equal(clip.beats, clip.features.beats)  # music: tracked beats
    assert 3 <= clip.beats.size <= 6  # 120 bpm over 2.5 s
    assert clip.annotations == {"music": "mWA2", "genre": "WA"}


def test_aistpp_hand_checked_rest_pose_and_root_units(tmp_path, private_cache):
    root = write_aistpp(tmp_path / "aist")
    n = 150
    data = {"smpl_poses": np.zeros((n, 72)), "smpl_trans": np.tile([10.0, 180.0, -20.0], (n, 1)),
            "smpl_scaling": np.array([100.0])}  # fmt: skip
    (root / "motions" / f"{SEQUENCES[0]}.pkl").write_bytes(pickle.dumps(data))
    clip = read_aistpp(root, "train")[0]
    np.testing.assert_allclose(
        clip.motion,
        np.broadcast_to(SMPL24.rest_pose() + [0.1, 1.8, -0.2], clip.motion.shape),
        atol=1e-6,
    )


def test_aistpp_with_an_official_smpl_model_uses_its_regressed_joints(
    tmp_path, private_cache, monkeypatch
):
    root = write_aistpp(tmp_path / "aist")
    model = write_smplx_model(tmp_path / "SMPL_MALE.npz", parents=SMPL24.parents)
    monkeypatch.setenv("GESTURE_GYM_SMPL_MODEL", str(tmp_path / "SMPL_MALE.npz"))
    clip = read_aistpp(root, "train")[0]
    rest = model["J_regressor"] @ model["v_template"]  # betas 0
    assert clip.skeleton.joint_names == SMPL24.joint_names
    np.testing.assert_allclose(clip.skeleton.rest_pose(), rest, atol=1e-6)
    data = safe_load_pickle(root / "motions" / f"{SEQUENCES[0]}.pkl")
    expected = clip.skeleton.forward_kinematics(
        data["smpl_poses"].reshape(-1, 24, 3), rest[0] + data["smpl_trans"] / 93.5, axis_angle=True
    )  # the pelvis at its rest position plus the translation, as the model places it
    np.testing.assert_allclose(clip.motion, expected[: clip.n_frames], atol=1e-5)
    monkeypatch.setenv("GESTURE_GYM_SMPL_MODEL", str(tmp_path / "absent.npz"))
    with pytest.raises(FileNotFoundError, match=r"absent\.npz: SMPL model file not found"):
        read_aistpp(root, "train")


def test_a_malicious_pickle_is_refused_and_its_payload_never_runs(tmp_path, private_cache):
    root = write_aistpp(tmp_path / "aist")
    marker = tmp_path / "payload_ran"
    evil = root / "motions" / f"{SEQUENCES[0]}.pkl"
    evil.write_bytes(pickle.dumps({"smpl_poses": Payload(marker)}))
    with pytest.raises(
        UnsafePickleError, match=r"gWA_sFM_cAll_d27_mWA2_ch21\.pkl: refused .*system"
    ):
        read_aistpp(root, "train")[0]
    assert not marker.exists()
    for payload in (eval, exec, getattr, __import__):
        evil.write_bytes(pickle.dumps(payload))
        with pytest.raises(UnsafePickleError, match=f"builtins.{payload.__name__}"):
            safe_load_pickle(evil)
    assert pickle.loads(pickle.dumps(Payload(tmp_path / "control"))) == 0  # the payload is real
    assert (tmp_path / "control").exists()


def test_aistpp_truncated_and_wrong_pickles_are_named(tmp_path, private_cache):
    root = write_aistpp(tmp_path / "aist")
    pkl = root / "motions" / f"{SEQUENCES[0]}.pkl"
    pkl.write_bytes(pkl.read_bytes()[:-200])
    with pytest.raises(DatasetError, match=r"mWA2_ch21\.pkl: truncated or corrupt pickle"):
        read_aistpp(root, "train")[0]
    pkl.write_bytes(pickle.dumps({"smpl_poses": np.zeros((5, 69)), "smpl_trans": np.zeros((5, 3)),
                                  "smpl_scaling": np.ones(1)}))  # fmt: skip
    with pytest.raises(DatasetError, match=r"smpl_poses must be \(N >= 2, 72\), got \(5, 69\)"):
        read_aistpp(root, "train")[0]
    (root / "wavs" / "mWA2.wav").unlink()
    with pytest.raises(FileNotFoundError, match="music 'mWA2'"):
        read_aistpp(root, "train")


# --- BVH ------------------------------------------------------------------------------------------


def test_bvh_forward_kinematics_follows_the_declared_rotation_order(tmp_path):
    frames = np.zeros((3, BVH_WIDTH))
    frames[:, :3] = [5.0, 95.0, -3.0]
    arm = 6 + 3 * (BVH_JOINTS.index("LeftArm") - 1)  # channels Zrotation Xrotation Yrotation
    frames[1, arm : arm + 3] = [0, 90, 90]  # R = Rx(90) Ry(90): (25, 0, 0) -> (0, 25, 0)
    frames[2, arm : arm + 3] = [90, 0, 0]  # R = Rz(90): (25, 0, 0) -> (0, 25, 0) as well
    frames[2, 3:6] = [0, 0, 90]  # and the root turned 90 degrees about y: (x, y, z) -> (z, y, -x)
    (tmp_path / "a.bvh").write_text(bvh_text(frames))
    bvh = read_bvh(tmp_path / "a.bvh")
    assert bvh.skeleton.joint_names[:3] == ("Hips", "Spine", "Spine1") and bvh.fps == 30.0
    assert {"Head_end", "LeftHandMiddle1_end"} <= set(bvh.skeleton.joint_names)  # End Sites
    pos = bvh.positions()
    j = bvh.skeleton.index
    shoulder = np.array([5.0, 95.0 + 36 + 8, -3.0]) + [4 + 14, 0, 0]
    np.testing.assert_allclose(pos[0, j("LeftArm")], shoulder)
    np.testing.assert_allclose(pos[0, j("LeftForeArm")], shoulder + [25, 0, 0])
    np.testing.assert_allclose(pos[1, j("LeftForeArm")], shoulder + [0, 25, 0], atol=1e-9)
    np.testing.assert_allclose(pos[1, j("LeftHand")], shoulder + [0, 50, 0], atol=1e-9)
    turned = np.array([5.0, 95.0 + 36 + 8, -3.0 - 18.0])  # the shoulder, 18 cm along -z now
    np.testing.assert_allclose(pos[2, j("LeftArm")], turned, atol=1e-9)
    np.testing.assert_allclose(pos[2, j("LeftForeArm")], turned + [0, 25, 0], atol=1e-9)
    ry = axis_rotation(np.pi / 2, "y")
    np.testing.assert_allclose(ry @ [25, 0, 0], [0, 0, -25], atol=1e-12)  # the convention used


def test_bvh_dataset_retargets_the_upper_body_and_reads_splits(tmp_path, private_cache):
    root = write_bvh_dataset(tmp_path / "bvh")
    train = read_bvh_dataset(root, "train", fps=20)
    assert [c.id for c in train] == ["bvh/train/take_a", "bvh/train/take_b"]
    clip = train[0]
    assert clip.skeleton is UPPER_BODY and clip.fps == 20.0
    assert_bone_lengths(clip.motion, UPPER_BODY)  # centimetres in, the gesture skeleton out
    bvh = read_bvh(root / "train" / "take_a.bvh")
    out = clip.motion[::2]  # 20 fps frames 2k and 30 fps frames 3k share their instants
    src = bvh.positions()[::3][: out.shape[0]]
    d_src = src[:, bvh.skeleton.index("LeftForeArm")] - src[:, bvh.skeleton.index("LeftArm")]
    d_out = out[:, UPPER_BODY.index("left_elbow")] - out[:, UPPER_BODY.index("left_shoulder")]
    cos = (
        np.sum(d_src * d_out, -1) / np.linalg.norm(d_src, axis=-1) / np.linalg.norm(d_out, axis=-1)
    )
    np.testing.assert_allclose(cos, 1.0, atol=1e-5)
    assert [c.id for c in read_bvh_dataset(root, "test")] == ["bvh/test/take_c"]


def test_bvh_user_mapping_overrides_the_table(tmp_path, private_cache):
    root = write_bvh_dataset(
        tmp_path / "bvh", config={"mapping": {"left_hand": "LeftHandMiddle1_end"}}
    )
    with_end_site = read_bvh_dataset(root, "train")[0]
    plain = read_bvh_dataset(write_bvh_dataset(tmp_path / "plain"), "train")[0]
    hand = UPPER_BODY.index("left_hand")
    a, b = (c.motion - c.motion[:, :1] for c in (with_end_site, plain))  # root-relative
    np.testing.assert_allclose(a[:, :hand], b[:, :hand], atol=1e-5)  # the same bone directions
    assert np.abs(a[:, hand] - b[:, hand]).max() > 1e-3  # but the hand points at the fingertip
    bad = write_bvh_dataset(tmp_path / "bad", config={"mapping": {"head": "Nose"}})
    with pytest.raises(DatasetError, match=r"take_a\.bvh: .*head <- Nose"):
        read_bvh_dataset(bad, "train")[0]


def test_bvh_truncated_and_malformed_files_are_named(tmp_path):
    text = bvh_text(bvh_frames(30))
    (tmp_path / "cut.bvh").write_text(text[: len(text) - 400])
    with pytest.raises(DatasetError, match=r"cut\.bvh: truncated: header declares 30 frames"):
        read_bvh(tmp_path / "cut.bvh")
    (tmp_path / "head.bvh").write_text(text[: text.index("MOTION") // 2])
    with pytest.raises(DatasetError, match=r"head\.bvh: no MOTION section"):
        read_bvh(tmp_path / "head.bvh")
    (tmp_path / "chan.bvh").write_text(
        text.replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation", 1)
    )
    with pytest.raises(DatasetError, match=r"chan\.bvh: malformed hierarchy .*Wrotation"):
        read_bvh(tmp_path / "chan.bvh")
    lines = text.splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith("Frame Time")) + 1
    lines[first] = "nan " + lines[first].split(" ", 1)[1]
    (tmp_path / "nan.bvh").write_text("\n".join(lines))
    with pytest.raises(DatasetError, match=r"nan\.bvh: frames contain NaN"):
        read_bvh(tmp_path / "nan.bvh")


# --- a plain folder -------------------------------------------------------------------------------


def test_folder_of_audio_and_npy_motion(tmp_path, private_cache):
    rng = np.random.default_rng(0)
    motion = UPPER_BODY.forward_kinematics(rng.normal(0, 0.3, (75, 16, 3)), axis_angle=True)
    root = write_folder(tmp_path / "f", {"a": motion, "b": motion[::-1]},
                        {"fps": 25, "skeleton": "upper_body", "splits": {"train": ["a"], "test": ["b"]}})  # fmt: skip
    clip = read_folder(root, "train")[0]
    assert clip.id == "folder/train/a" and clip.fps == 25.0 and clip.skeleton is UPPER_BODY
    np.testing.assert_allclose(clip.motion, motion[: clip.n_frames], atol=1e-6)
    assert [c.id for c in read_folder(root, "test")] == ["folder/test/b"]
    with pytest.raises(KeyError, match="no split 'val'"):
        read_folder(root, "val")


def test_folder_with_its_own_skeleton_retargets_by_name(tmp_path, private_cache):
    rng = np.random.default_rng(1)
    smpl = SMPL24.forward_kinematics(
        rng.normal(0, 0.3, (60, 24, 3)), rng.normal(0, 0.1, (60, 3)), axis_angle=True
    )
    config = {"fps": 30, "joints": list(SMPL24.joint_names), "parents": list(SMPL24.parents),
              "target": "upper_body"}  # fmt: skip
    clip = read_folder(
        write_folder(tmp_path / "f", {"x": 100 * smpl}, config, seconds=2.0), "train"
    )[0]
    assert clip.skeleton is UPPER_BODY
    assert_bone_lengths(clip.motion, UPPER_BODY)  # centimetres in, metres out


def test_folder_errors_name_the_file(tmp_path, private_cache):
    motion = np.zeros((40, 16, 3)) + UPPER_BODY.rest_pose()
    bare = write_folder(tmp_path / "a", {"x": motion}, {"fps": 30})
    (bare / "dataset.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"a/dataset\.json: not found"):
        read_folder(bare, "train")
    root = write_folder(
        tmp_path / "b", {"x": motion[:, :15]}, {"fps": 30, "skeleton": "upper_body"}
    )
    with pytest.raises(DatasetError, match=r"x\.npy: 15 joints, but .*dataset\.json declares 16"):
        read_folder(root, "train")[0]
    (root / "x.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"x\.wav: no motion beside it"):
        read_folder(root, "train")
    (root / "dataset.json").write_text('{"fps": 30, "skeleton": "upper_body", "target": "nope"}')
    with pytest.raises(DatasetError, match=r"dataset\.json: .*nope"):
        read_folder(root, "train")
    (root / "dataset.json").write_text('{"fps": 30, "skeleton": ')
    with pytest.raises(DatasetError, match=r"dataset\.json: not valid JSON"):
        read_folder(root, "train")


def test_audio_and_motion_of_different_lengths_are_trimmed_with_a_warning(tmp_path, private_cache):
    motion = np.zeros((90, 16, 3)) + UPPER_BODY.rest_pose()  # 3 s at 30 fps
    root = write_folder(
        tmp_path / "f", {"x": motion}, {"fps": 30, "skeleton": "upper_body"}, seconds=2.0
    )
    with pytest.warns(LengthMismatchWarning, match=r"motion lasts 3\.00 s but audio 2\.00 s"):
        clip = read_folder(root, "train")[0]
    assert clip.n_frames == 60 and clip.audio.size == 32000
    write_wav(root / "x.wav", music(0.05))
    with pytest.raises(DatasetError, match="no frame in common"), warnings.catch_warnings():
        warnings.simplefilter("ignore", LengthMismatchWarning)
        read_folder(root, "train", fps=10)[0]


# --- PATS -----------------------------------------------------------------------------------------


def test_pats_gives_2d_clips_from_pose_and_log_mel(tmp_path, private_cache):
    root = write_pats(tmp_path / "pats" / "data")
    train = read_pats(root, "train")
    assert [c.id for c in train] == ["pats/train/oliver/c1"]  # c3 is a missing interval
    clip = train[0]
    assert clip.skeleton.name == "pats2d" and clip.skeleton.n_joints == 49 and clip.fps == 15.0
    assert clip.n_frames == 45 and clip.features.mel.shape == (45, 64) and clip.audio.size == 0
    np.testing.assert_array_equal(clip.motion[:, :, 2], 0)  # 2-D: z is 0
    np.testing.assert_array_equal(clip.motion[:, 0], 0)  # the neck at the origin
    sk = clip.skeleton
    shoulders = np.linalg.norm(
        clip.motion[:, [sk.index("LShoulder"), sk.index("RShoulder")]], axis=-1
    )
    np.testing.assert_allclose(np.median(shoulders), 0.2023, atol=1e-3)  # SMPL's neck-shoulder
    assert np.all(clip.motion[:, sk.index("LWrist"), 1] < clip.motion[:, sk.index("LShoulder"), 1])
    assert np.all(clip.motion[:, sk.index("LShoulder"), 0] > 0)  # image x kept: the body's left
    assert clip.beats.size > 0 and np.all(np.isfinite(clip.features.mfcc))
    assert clip.annotations["speaker"] == "oliver" and clip.annotations["text_tokens"].shape == (
        12,
    )
    assert clip.annotations["confidence"].shape == (45, 49)
    assert [c.id for c in read_pats(root, "val")] == ["pats/val/oliver/c2"]  # PATS's "dev"
    assert len(read_pats(root / "processed" / "oliver", "all")) == 3


def test_pats_uses_the_raw_speech_when_it_is_there(tmp_path, private_cache):
    root = write_pats(tmp_path / "data", raw_audio=True)
    clip = read_pats(root, "test", fps=30)[0]
    assert clip.fps == 30.0 and abs(clip.audio.size - clip.n_frames * 16000 / 30) < 1
    assert clip.features.pitch is not None  # speech features of the waveform


def test_pats_bad_files_are_named(tmp_path, private_cache):
    import h5py

    root = write_pats(tmp_path / "data")
    h5 = root / "processed" / "oliver" / "c1.h5"
    h5.write_bytes(h5.read_bytes()[:500])
    with pytest.raises(DatasetError, match=r"c1\.h5: not a readable HDF5 file"):
        read_pats(root, "train")[0]
    with h5py.File(h5, "w") as f:
        f["pose/data"] = np.zeros((10, 98))
        f["audio/log_mel_400"] = np.zeros((70, 64))
    with pytest.raises(
        DatasetError, match=r"c1\.h5: pose/data must be \(T >= 2, 104\), got \(10, 98\)"
    ):
        read_pats(root, "train")[0]
    with pytest.raises(KeyError, match="no split 'dev'"):
        read_pats(root, "dev")


# --- through the environments ---------------------------------------------------------------------


def test_a_fixture_dataset_runs_a_full_episode_through_gym_make(tmp_path, private_cache):
    import gymnasium as gym

    import gesture_gym  # noqa: F401  (registers the environments)

    root = write_beat2(tmp_path / "beat", seconds=8.0, sem=False)
    env = gym.make("CoSpeechGesture-v0", dataset=f"beat2:{root}")
    env.reset(seed=0)
    terminated = truncated = False
    steps = 0
    while not (terminated or truncated):
        _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(reward)
        steps += 1
    assert terminated and steps > 1
    env.close()


def test_clips_survive_the_cache_round_trip_unchanged(tmp_path, private_cache):
    root = write_beat2(tmp_path / "beat")
    fresh = read_beat2(root, "train")[0]
    cached = read_beat2(root, "train")[0]
    for field in ("id", "split", "fps", "sample_rate", "words"):
        assert getattr(cached, field) == getattr(fresh, field)
    np.testing.assert_array_equal(cached.motion, fresh.motion)
    np.testing.assert_array_equal(cached.beats, fresh.beats)
    assert cached.annotations == fresh.annotations
