"""rgb_array frames: the pose and the audio strip are drawn where they should be, quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gesture_gym.data import load_corpus
from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY
from gesture_gym.render import render_frame
from gesture_gym.render.frames import BEAT, CURSOR, Renderer
from gesture_gym.render.stick import front_view

STRIP = np.abs(np.sin(np.arange(81) / 4.0))
BEATS = np.arange(81) % 20 == 0


def standing(skeleton):
    return skeleton.rest_pose() + [0.0, 0.95 if skeleton is SMPL24 else 1.0, 0.0]


def ink(frame: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of the figure area that are not background."""
    view = frame[: Renderer(SMPL24).view_height]
    return np.any(view < 250, axis=-1)


@pytest.mark.parametrize("skeleton", [UPPER_BODY, SMPL24])
def test_a_frame_is_an_rgb_image_of_the_requested_size(skeleton):
    frame = render_frame(standing(skeleton), skeleton, STRIP, BEATS, 40, size=(320, 240))
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert ink(render_frame(standing(skeleton), skeleton, STRIP, BEATS, 40)).sum() > 500


def test_the_figure_follows_the_pose():
    """Raising the left arm above the head puts ink there, on the side where stick.front_view
    puts the left shoulder."""
    pose = standing(UPPER_BODY)
    raised = pose.copy()
    for name in ("left_elbow", "left_wrist", "left_hand"):
        j, s = UPPER_BODY.index(name), UPPER_BODY.index("left_shoulder")
        raised[j] = pose[s] + [0.0, np.linalg.norm(pose[j] - pose[s]), 0.0]
    a = ink(render_frame(pose, UPPER_BODY, STRIP, BEATS, 40))
    b = ink(render_frame(raised, UPPER_BODY, STRIP, BEATS, 40))
    new = b & ~a
    rows, cols = np.nonzero(new)
    head_row = np.nonzero(a)[0].min()
    left_side = np.sign(front_view(pose[UPPER_BODY.index("left_shoulder")] - pose[0])[0])
    assert len(rows) > 50 and rows.min() < head_row
    assert np.sign(cols.mean() - a.shape[1] / 2) == left_side


def test_the_strip_marks_beats_and_the_cursor():
    renderer = Renderer(UPPER_BODY, (400, 400))
    strip = renderer.strip(STRIP, BEATS, cursor=30)
    columns = np.all(strip == BEAT, axis=(0, 2))
    beat_columns = np.flatnonzero(columns)
    expected = np.flatnonzero(BEATS) * 400 / len(BEATS)
    assert len(beat_columns) >= np.sum(BEATS)
    assert np.all(np.abs(beat_columns[:, None] - expected[None]).min(axis=1) < 400 / len(BEATS))
    cursor = np.flatnonzero(np.all(strip == CURSOR, axis=(0, 2)))
    assert abs(cursor.mean() - 30.5 * 400 / len(BEATS)) < 3


def test_an_episode_of_frames_renders_in_a_fraction_of_its_duration():
    """The env's rgb_array mode records a 10 s episode (200 frames at 20 fps) in a few seconds."""
    clip = load_corpus("speech-gesture", "train")[0]
    start = time.perf_counter()
    for t in range(clip.n_frames):
        render_frame(clip.motion[t], clip.skeleton, STRIP, BEATS, 40)
    assert time.perf_counter() - start < 4.0  # about 0.3 s on an idle core


def test_bad_frames_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"\(24, 3\) array for skeleton 'smpl24'"):
        render_frame(standing(UPPER_BODY), SMPL24, STRIP, BEATS, 40)
    with pytest.raises(ValueError, match="cursor 81 is outside"):
        render_frame(standing(SMPL24), SMPL24, STRIP, BEATS, 81)
    with pytest.raises(ValueError, match="same non-zero length"):
        render_frame(standing(SMPL24), SMPL24, STRIP, BEATS[:-1], 4)
