import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gesture_gym.motion.rotations import (
    axis_angle_to_matrix,
    euler_to_matrix,
    matrix_to_axis_angle,
)
from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY, Skeleton


@pytest.mark.parametrize("skeleton", [SMPL24, UPPER_BODY], ids=lambda s: s.name)
def test_forward_kinematics_keeps_bone_lengths(skeleton):
    rng = np.random.default_rng(0)
    rot = rng.normal(scale=0.8, size=(300, skeleton.n_joints, 3))
    root = rng.normal(size=(300, 3))
    pos = skeleton.forward_kinematics(rot, root, axis_angle=True)
    parents = list(skeleton.parents[1:])
    lengths = np.linalg.norm(pos[:, 1:] - pos[:, parents], axis=-1)
    np.testing.assert_allclose(
        lengths, np.broadcast_to(skeleton.bone_lengths(), lengths.shape), atol=1e-6
    )
    np.testing.assert_allclose(pos[:, 0], root)


def test_identity_rotations_give_rest_pose_and_batches_broadcast():
    rest = SMPL24.forward_kinematics(np.zeros((2, 5, 24, 3)), axis_angle=True)
    assert rest.shape == (2, 5, 24, 3)
    np.testing.assert_allclose(rest[1, 3], SMPL24.rest_pose())


def test_hand_checked_elbow_bend():
    # Bending the left elbow by 90 degrees about y swings the forearm (+x in T-pose) to -z... or +z:
    # R_y(+90deg) maps +x to -z, so the wrist moves behind the elbow by the forearm length.
    rot = np.zeros((24, 3))
    rot[SMPL24.index("left_elbow")] = [0.0, np.pi / 2, 0.0]
    pos = SMPL24.forward_kinematics(rot, axis_angle=True)
    elbow, wrist = pos[SMPL24.index("left_elbow")], pos[SMPL24.index("left_wrist")]
    off = SMPL24.offsets[SMPL24.index("left_wrist")]
    np.testing.assert_allclose(wrist - elbow, [off[2], off[1], -off[0]], atol=1e-12)


def test_upper_body_is_smpl_subset_with_same_rest_positions():
    sub = UPPER_BODY.rest_pose()
    full = SMPL24.rest_pose()
    idx = [SMPL24.index(n) for n in UPPER_BODY.joint_names]
    np.testing.assert_allclose(sub, full[idx], atol=1e-12)
    assert UPPER_BODY.n_joints == 16 and set(UPPER_BODY.parts) >= {"upper", "left_arm", "right_arm"}


def test_skeleton_round_trips_and_validates():
    again = Skeleton.from_dict(SMPL24.to_dict())
    np.testing.assert_array_equal(again.offsets, SMPL24.offsets)
    assert again.parts == SMPL24.parts and again.parents == SMPL24.parents
    with pytest.raises(ValueError, match="parents before children"):
        Skeleton("bad", ("a", "b"), (-1, 1), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="rotations have shape"):
        SMPL24.forward_kinematics(np.zeros((3, 16, 3)), axis_angle=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3))
def test_axis_angle_round_trip(v):
    aa = np.array(v)
    back = matrix_to_axis_angle(axis_angle_to_matrix(aa))
    np.testing.assert_allclose(axis_angle_to_matrix(back), axis_angle_to_matrix(aa), atol=1e-6)


def test_euler_order_matters_and_matches_axis_products():
    ang = np.array([0.3, -0.5, 1.1])
    r = euler_to_matrix(ang, "zyx")
    expected = (axis_angle_to_matrix([0, 0, 0.3]) @ axis_angle_to_matrix([0, -0.5, 0])
                @ axis_angle_to_matrix([1.1, 0, 0]))  # fmt: skip
    np.testing.assert_allclose(r, expected, atol=1e-12)
    assert not np.allclose(r, euler_to_matrix(ang, "xyz"))
