"""BVH and npz export: written files read back to the same motion."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesture_gym.data import load_corpus
from gesture_gym.data.readers.bvh import read_bvh
from gesture_gym.motion.skeleton import Skeleton
from gesture_gym.render import export_bvh, export_npz


@pytest.fixture(scope="module", params=["speech-gesture", "music-dance"])
def clip(request):
    return load_corpus(request.param, "train")[1]


def test_bvh_round_trip_reproduces_the_positions(clip, tmp_path):
    """BVH -> forward kinematics (the BVH reader's) -> positions within 0.1 mm of the input."""
    motion = clip.motion[:120]
    path = export_bvh(tmp_path / "motion.bvh", motion, clip.skeleton, clip.fps)
    bvh = read_bvh(path)
    assert bvh.fps == pytest.approx(clip.fps, rel=1e-6) and len(bvh.frames) == len(motion)
    joints = [bvh.skeleton.index(name) for name in clip.skeleton.joint_names]
    positions = bvh.positions()[:, joints] / 100.0  # the file is in centimetres
    np.testing.assert_allclose(positions, motion, atol=1e-4)


def test_bvh_hierarchy_follows_the_skeleton(clip, tmp_path):
    path = export_bvh(tmp_path / "motion.bvh", clip.motion[:10], clip.skeleton, clip.fps)
    sk = read_bvh(path).skeleton
    for j, name in enumerate(clip.skeleton.joint_names[1:], start=1):
        parent = clip.skeleton.joint_names[clip.skeleton.parents[j]]
        assert sk.joint_names[sk.parents[sk.index(name)]] == parent
        rest = np.linalg.norm(clip.skeleton.offsets[j])
        assert np.linalg.norm(sk.offsets[sk.index(name)]) / 100.0 == pytest.approx(rest, abs=1e-4)


def test_npz_round_trip(clip, tmp_path):
    motion, tokens = clip.motion[:64], np.arange(8)
    path = export_npz(tmp_path / "motion.npz", motion, clip.fps, clip.skeleton, tokens=tokens)
    with np.load(path, allow_pickle=False) as f:
        data = dict(f)
    np.testing.assert_array_equal(data["positions"], motion)
    np.testing.assert_array_equal(data["tokens"], tokens)
    assert float(data["fps"]) == clip.fps
    skeleton = Skeleton.from_dict(json.loads(str(data["skeleton"])))
    assert skeleton.joint_names == clip.skeleton.joint_names == tuple(data["joint_names"])
    np.testing.assert_allclose(skeleton.offsets, clip.skeleton.offsets)
    # the rotations with their offsets give the positions back (AMASS-style poses + trans)
    fk = Skeleton("x", skeleton.joint_names, skeleton.parents, data["offsets"])
    rotations = data["poses"].reshape(len(motion), -1, 3)
    again = fk.forward_kinematics(rotations, data["trans"], axis_angle=True)
    np.testing.assert_allclose(again, motion, atol=1e-4)


def test_export_refuses_bad_motion_naming_the_file(clip, tmp_path):
    bad = clip.motion[:10].copy()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"m\.bvh: motion contains NaN"):
        export_bvh(tmp_path / "m.bvh", bad, clip.skeleton, clip.fps)
    with pytest.raises(ValueError, match=r"m\.npz: motion must be \(T, \d+, 3\)"):
        export_npz(tmp_path / "m.npz", clip.motion[:, :3], clip.fps, clip.skeleton)
    assert not list(tmp_path.iterdir())
