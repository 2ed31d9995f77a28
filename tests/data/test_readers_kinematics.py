"""SMPL-X kinematics without the model file, the official-model path, retargeting, resampling and
trimming: the parts of the readers that turn a data set's numbers into the project's motion."""

import warnings

import numpy as np
import pytest
from readers_fixtures import write_smplx_model

from gesture_gym.data.readers.common import (
    LENGTH_TOLERANCE,
    LengthMismatchWarning,
    resample_motion,
    trim_to_common_length,
)
from gesture_gym.motion.skeleton import UPPER_BODY
from gesture_gym.motion.smplx import (
    SMPLX_JOINTS,
    SMPLX_NEUTRAL,
    SMPLX_PARENTS,
    SMPLX_TO_UPPER_BODY,
    retarget,
    skeleton_from_model,
    smplx_joint_positions,
)

J = SMPLX_JOINTS.index


def test_mean_shape_skeleton_matches_the_published_neutral_numbers():
    sk = SMPLX_NEUTRAL
    assert sk.n_joints == 52 and "jaw" not in sk.joint_names
    assert all(SMPLX_JOINTS[SMPLX_PARENTS[J(n)]] == sk.joint_names[p]
               for n, p in zip(sk.joint_names[1:], sk.parents[1:], strict=True))  # fmt: skip
    rest = sk.rest_pose()
    np.testing.assert_allclose(rest[0], [0.0031, -0.3514, 0.0120])  # SMPL-X's pelvis, betas = 0
    # the left elbow's offset from the shoulder: MJCF (-0.0425, 0.2541, -0.0722) in PHC's frame
    np.testing.assert_allclose(sk.offsets[sk.index("left_elbow")], [0.2541, -0.0722, -0.0425])
    left, right = rest[sk.index("left_wrist")], rest[sk.index("right_wrist")]
    np.testing.assert_allclose(left * [-1, 1, 1], right, atol=0.01)  # a near-symmetric body
    assert 1.5 < rest[sk.index("head"), 1] - rest[sk.index("left_foot"), 1] < 1.6


def test_fk_hand_checked_shoulder_rotation_and_global_orientation():
    sk = SMPLX_NEUTRAL
    rest = sk.rest_pose()
    poses = np.zeros((3, 55, 3))
    poses[1, J("left_shoulder")] = [0, 0, np.pi / 2]  # 90 degrees about z
    poses[2, 0] = [0, np.pi, 0]  # global orientation: half a turn about y (about the pelvis)
    trans = np.array([[0, 0, 0], [0, 0, 0], [1.0, 0.5, -2.0]])
    pos = smplx_joint_positions(poses, trans)
    np.testing.assert_allclose(pos[0], rest, atol=1e-12)
    # Rz(90) takes the elbow offset (0.2541, -0.0722, -0.0425) to (0.0722, 0.2541, -0.0425)
    elbow = rest[sk.index("left_shoulder")] + [0.0722, 0.2541, -0.0425]
    np.testing.assert_allclose(pos[1, sk.index("left_elbow")], elbow, atol=1e-12)
    np.testing.assert_allclose(pos[1, sk.index("right_elbow")], rest[sk.index("right_elbow")])
    # Ry(180) maps (x, y, z) to (-x, y, -z) around the pelvis, then the translation is added
    expected = (rest - rest[0]) * [-1, 1, -1] + rest[0] + trans[2]
    np.testing.assert_allclose(pos[2], expected, atol=1e-12)


def test_pose_layouts_agree_face_joints_move_nothing_and_bad_shapes_are_named():
    rng = np.random.default_rng(0)
    poses = rng.normal(0, 0.4, (4, 165))
    a = smplx_joint_positions(poses)
    np.testing.assert_array_equal(a, smplx_joint_positions(poses.reshape(4, 55, 3)))
    moved = poses.reshape(4, 55, 3).copy()
    moved[:, [J("jaw"), J("left_eye"), J("right_eye")]] = 1.0
    np.testing.assert_array_equal(a, smplx_joint_positions(moved))
    with pytest.raises(ValueError, match=r"\(T, 165\)"):
        smplx_joint_positions(np.zeros((4, 156)))
    with pytest.raises(ValueError, match="trans"):
        smplx_joint_positions(poses, np.zeros((3, 3)))


def test_official_model_file_regresses_joints_for_given_betas(tmp_path):
    model = write_smplx_model(tmp_path / "SMPLX_NEUTRAL.npz")
    betas = np.linspace(-2, 2, 300)  # more than the file has: the first 20 are used
    sk = skeleton_from_model(tmp_path / "SMPLX_NEUTRAL.npz", betas)
    assert sk.joint_names == SMPLX_JOINTS
    joints = model["J_regressor"] @ (model["v_template"] + model["shapedirs"] @ betas[:20])
    np.testing.assert_allclose(sk.rest_pose(), joints, atol=1e-12)
    mean = skeleton_from_model(tmp_path / "SMPLX_NEUTRAL.npz")
    np.testing.assert_allclose(mean.rest_pose(), model["J_regressor"] @ model["v_template"])
    trans = np.array([[0.1, 0.2, 0.3]])
    pos = smplx_joint_positions(np.zeros((1, 165)), trans, sk)
    np.testing.assert_allclose(pos[0], joints + trans, atol=1e-12)  # here the jaw has a place too


def test_bad_model_files_are_refused_with_the_file_named(tmp_path):
    write_smplx_model(tmp_path / "no_reg.npz", drop="J_regressor")
    with pytest.raises(ValueError, match=r"no_reg.npz.*J_regressor"):
        skeleton_from_model(tmp_path / "no_reg.npz")
    write_smplx_model(tmp_path / "tree.npz", parents=(-1,) + (0,) * 54)
    with pytest.raises(ValueError, match=r"tree.npz.*kintree_table"):
        skeleton_from_model(tmp_path / "tree.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="junk.npz"):
        skeleton_from_model(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        skeleton_from_model(tmp_path / "absent.npz")


def test_retarget_keeps_source_directions_with_target_bone_lengths():
    rng = np.random.default_rng(1)
    src = smplx_joint_positions(rng.normal(0, 0.5, (20, 165)), rng.normal(0, 0.2, (20, 3)))
    out = retarget(src, SMPLX_NEUTRAL, UPPER_BODY, SMPLX_TO_UPPER_BODY)
    parents = list(UPPER_BODY.parents[1:])
    lengths = np.linalg.norm(out[:, 1:] - out[:, parents], axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(UPPER_BODY.bone_lengths(), lengths.shape))
    names = [SMPLX_TO_UPPER_BODY.get(n, n) for n in UPPER_BODY.joint_names]
    idx = [SMPLX_NEUTRAL.index(n) for n in names]
    d_src = src[:, idx[1:]] - src[:, [idx[p] for p in parents]]
    d_out = out[:, 1:] - out[:, parents]
    cos = (
        np.sum(d_src * d_out, -1) / np.linalg.norm(d_src, axis=-1) / np.linalg.norm(d_out, axis=-1)
    )
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)


def test_retarget_names_what_is_missing_or_degenerate():
    rest = SMPLX_NEUTRAL.rest_pose()[None]
    with pytest.raises(KeyError, match="left_hand <- left_hand"):
        retarget(rest, SMPLX_NEUTRAL, UPPER_BODY)  # SMPL-X has no "left_hand" joint
    with pytest.raises(ValueError, match="coincide"):
        retarget(rest, SMPLX_NEUTRAL, UPPER_BODY, {**SMPLX_TO_UPPER_BODY, "spine1": "pelvis"})


def test_resampling_is_linear_in_time():
    t30 = np.arange(91) / 30.0  # 3 s at 30 fps
    motion = np.stack([t30, t30**2, np.sin(t30)], axis=-1)[:, None, :]  # (T, 1, 3)
    down = resample_motion(motion, 30, 20)
    assert down.shape == (61, 1, 3)
    t20 = np.arange(61) / 20.0
    np.testing.assert_allclose(down[:, 0, 0], t20, atol=1e-12)  # linear: exact
    np.testing.assert_allclose(down[::2, 0, 1], t30[::3] ** 2, atol=1e-12)  # shared instants
    up = resample_motion(motion, 30, 60)
    assert up.shape[0] == 181
    np.testing.assert_allclose(up[1::2, 0, 0], (t30[:-1] + t30[1:]) / 2)


def test_trimming_cuts_to_the_common_length_and_warns_past_the_tolerance():
    motion = np.zeros((60, 2, 3))  # 3 s at 20 fps
    audio = np.zeros(16000 * 2 + 4000, np.float32)  # 2.25 s
    with pytest.warns(LengthMismatchWarning, match=f"more than {LENGTH_TOLERANCE} s apart"):
        m, a = trim_to_common_length(motion, audio, 16000, 20, "clip x")
    assert m.shape[0] == 45 and a.size == 45 * 800
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m, a = trim_to_common_length(motion, np.zeros(16000 * 3 + 7000, np.float32), 16000, 20, "y")
    assert m.shape[0] == 60 and a.size == 60 * 800
