"""The corpus picture: audio with beat/stress markers, joint speed with kinematic beats, key frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gesture_gym.data.clip import Clip
from gesture_gym.motion.features import joint_speed, kinematic_beats
from gesture_gym.render.stick import draw_pose


def plot_clip(clip: Clip, path: Path, n_key_frames: int = 8) -> Path:
    """Write a PNG of one clip: mel spectrogram (beats/stresses marked), mean joint speed with
    kinematic beats, and a strip of stick-figure key frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if clip.motion is None:
        raise ValueError(f"clip {clip.id} has no motion to plot")
    t = np.arange(clip.n_frames) / clip.fps
    fig = plt.figure(figsize=(12, 7.5), constrained_layout=True)
    grid = fig.add_gridspec(3, 1, height_ratios=[1.2, 1.0, 1.4])
    ax_mel, ax_speed, ax_keys = (fig.add_subplot(grid[i]) for i in range(3))

    mel = clip.features.mel.T
    ax_mel.imshow(mel, origin="lower", aspect="auto", cmap="magma",
                  extent=(0, clip.duration, 0, mel.shape[0]))  # fmt: skip
    beat_name = "stressed syllables" if clip.words else "music beats"
    for i, b in enumerate(clip.beats):
        ax_mel.axvline(b, color="cyan", lw=0.8, alpha=0.8, label=beat_name if i == 0 else None)
    for w in clip.words:
        ax_mel.text(w.start, mel.shape[0] * 0.9, w.text, color="white", fontsize=6, rotation=60)
    ax_mel.set(ylabel="mel band", title=f"{clip.id}: log-mel spectrogram, {beat_name}")
    ax_mel.set_xlim(0, clip.duration)
    if len(clip.beats):
        ax_mel.legend(loc="upper right", fontsize=7)

    speed = joint_speed(clip.motion, clip.fps).mean(axis=1)
    kb = kinematic_beats(clip.motion, clip.fps, sigma=2.0)
    ax_speed.plot(t, speed, color="#444", lw=1.2, label="mean joint speed")
    ax_speed.plot(t[kb], speed[kb], "v", color="tab:orange", ms=5, label="kinematic beats")
    for b in clip.beats:
        ax_speed.axvline(b, color="tab:cyan", lw=0.6, alpha=0.7)
    ax_speed.set(xlabel="time (s)", ylabel="m/s", xlim=(0, clip.duration))
    ax_speed.legend(loc="upper right", fontsize=7)

    frames = np.linspace(0, clip.n_frames - 1, n_key_frames).round().astype(int)
    root = clip.motion[frames, 0]
    spacing = 1.0 if clip.skeleton.n_joints > 16 else 0.9
    for k, f in enumerate(frames):
        pose = clip.motion[f] - np.array([root[k, 0], 0.0, root[k, 2]])
        draw_pose(ax_keys, pose, clip.skeleton, offset_x=k * spacing)
        ax_keys.text(
            k * spacing, ax_keys.get_ylim()[0], f"{f / clip.fps:.1f}s", ha="center", fontsize=7
        )
    ax_keys.set_aspect("equal")
    ax_keys.axis("off")
    ax_keys.set_title("key frames (front view; red = the body's left)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
