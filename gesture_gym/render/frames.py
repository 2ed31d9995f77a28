"""One video frame: a stick figure of the current pose above an audio strip with its beats.

Frames are drawn with PIL and numpy (no matplotlib figure per frame), about a millisecond each, so
``render_mode="rgb_array"`` can record a whole episode in a fraction of its duration.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw

from gesture_gym.motion.skeleton import Skeleton
from gesture_gym.render.stick import CENTRE, LEFT, RIGHT, front_view

BACKGROUND = (255, 255, 255)
FLOOR = (170, 170, 170)
STRIP_BACKGROUND = (245, 245, 245)
STRIP_BARS = (120, 120, 120)
BEAT = (0, 170, 200)
CURSOR = (230, 120, 0)
FEET = ("left_ankle", "right_ankle", "left_foot", "right_foot")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


class Renderer:
    """Draws frames of one skeleton at one size; the view is fixed by the skeleton's rest pose.

    The camera looks at the body from the front (stick.front_view) and follows the root
    horizontally. Skeletons with feet stand on a floor at y = 0 with ticks every metre, so jumps
    and travel show; an upper body is centred on its root.
    """

    def __init__(self, skeleton: Skeleton, size: tuple[int, int] = (480, 480)):
        self.skeleton = skeleton
        self.width, self.height = (int(s) for s in size)
        if self.width < 32 or self.height < 32:
            raise ValueError(f"frame size {size} is too small (at least 32 x 32 pixels)")
        self.strip_height = max(self.height // 6, 8)
        self.view_height = self.height - self.strip_height
        rest = front_view(skeleton.rest_pose())
        extent = max(np.ptp(rest[:, 1]), 0.75 * np.ptp(rest[:, 0]))  # arms seldom stretch wide
        self.pixels_per_metre = min(self.view_height, self.width) / (1.3 * extent)
        self.has_floor = all(n in skeleton.joint_names for n in FEET)
        # screen y of world y (metres): floor near the bottom, or the rest pose centred on the root
        if self.has_floor:
            self.y0 = 0.06 * self.view_height / self.pixels_per_metre
        else:
            centre = 0.5 * (rest[:, 1].max() + rest[:, 1].min()) - rest[0, 1]
            self.y0 = 0.5 * self.view_height / self.pixels_per_metre - centre
        self.bones = [(p, j) for j, p in enumerate(skeleton.parents) if p >= 0]
        self.colours = [
            _rgb(LEFT if n.startswith("left") else RIGHT if n.startswith("right") else CENTRE)
            for n in skeleton.joint_names
        ]
        self.line_width = max(2, round(self.width / 120))

    def __call__(
        self, pose: np.ndarray, audio_strip: np.ndarray, beat_mask: np.ndarray, cursor: int
    ) -> np.ndarray:
        """(H, W, 3) uint8 frame of one (J, 3) pose and an audio strip (see render_frame)."""
        pose = np.asarray(pose, dtype=np.float64)
        if pose.shape != (self.skeleton.n_joints, 3) or not np.all(np.isfinite(pose)):
            raise ValueError(
                f"pose must be a finite ({self.skeleton.n_joints}, 3) array for skeleton "
                f"{self.skeleton.name!r}; got shape {pose.shape}"
            )
        image = Image.new("RGB", (self.width, self.view_height), BACKGROUND)
        draw = ImageDraw.Draw(image)
        xy = front_view(pose)
        root_x = xy[0, 0]
        y_ref = 0.0 if self.has_floor else pose[0, 1]
        px = (xy[:, 0] - root_x) * self.pixels_per_metre + self.width / 2
        py = self.view_height - (xy[:, 1] - y_ref + self.y0) * self.pixels_per_metre
        if self.has_floor:
            floor = self.view_height - self.y0 * self.pixels_per_metre
            draw.line([(0, floor), (self.width, floor)], fill=FLOOR, width=2)
            half = self.width / 2 / self.pixels_per_metre
            for metre in range(int(np.floor(root_x - half)), int(np.ceil(root_x + half)) + 1):
                x = (metre - root_x) * self.pixels_per_metre + self.width / 2
                draw.line([(x, floor), (x, floor + 6)], fill=FLOOR, width=2)
        for p, j in self.bones:
            draw.line([(px[p], py[p]), (px[j], py[j])], fill=self.colours[j], width=self.line_width)
        r = self.line_width
        for x, y in zip(px, py, strict=True):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=_rgb(CENTRE))
        strip = self.strip(audio_strip, beat_mask, cursor)
        return np.concatenate([np.asarray(image), strip], axis=0)

    def strip(self, values: np.ndarray, beats: np.ndarray, cursor: int) -> np.ndarray:
        """(strip_height, W, 3) uint8: |values| as bars, beats as full-height lines, the cursor."""
        values = np.asarray(values, dtype=np.float64)
        beats = np.asarray(beats, dtype=bool)
        if values.ndim != 1 or beats.shape != values.shape or len(values) == 0:
            raise ValueError(
                f"audio_strip and beat_mask must be 1-D of the same non-zero length; got "
                f"{values.shape} and {beats.shape}"
            )
        if not 0 <= cursor < len(values):
            raise ValueError(f"cursor {cursor} is outside the audio strip (0..{len(values) - 1})")
        h, w = self.strip_height, self.width
        column = np.minimum(np.arange(w) * len(values) // w, len(values) - 1)  # sample per column
        level = np.abs(np.nan_to_num(values))
        level = level / max(level.max(), 1e-12)
        bar = (level[column] * (h - 2)).astype(int)
        rows = np.arange(h)[:, None]
        out = np.empty((h, w, 3), dtype=np.uint8)
        out[:] = STRIP_BACKGROUND
        out[(rows >= h - 1 - bar[None, :]) & (rows < h - 1)] = STRIP_BARS
        out[:, beats[column]] = BEAT
        x = (2 * cursor + 1) * w // (2 * len(values))  # the middle of the cursor's sample
        out[:, max(x - 1, 0) : x + 2] = CURSOR
        return out


@functools.lru_cache(maxsize=8)
def _renderer(skeleton: Skeleton, size: tuple[int, int]) -> Renderer:
    return Renderer(skeleton, size)


def render_frame(
    pose: np.ndarray,
    skeleton: Skeleton,
    audio_strip: np.ndarray,
    beat_mask: np.ndarray,
    cursor: int,
    size: tuple[int, int] = (480, 480),
) -> np.ndarray:
    """An (H, W, 3) uint8 frame: the stick figure of ``pose`` above an audio strip.

    Args:
        pose: (J, 3) joint positions of ``skeleton`` in metres.
        audio_strip: (N,) values drawn as bars (an audio envelope or onset strength around now).
        beat_mask: (N,) bool, True where a beat falls; drawn as full-height lines.
        cursor: index into the strip of the current frame (drawn as an orange line).
        size: (width, height) in pixels.
    """
    return _renderer(skeleton, tuple(size))(pose, audio_strip, beat_mask, cursor)
