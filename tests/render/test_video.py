"""save_video writes an mp4 with one frame per motion frame and the audio muxed in."""

from __future__ import annotations

import re
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from gesture_gym.data import load_corpus
from gesture_gym.render import save_video


def streams(path) -> list[str]:
    """The stream lines ffmpeg prints for a file (imageio-ffmpeg ships ffmpeg, not ffprobe)."""
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True)  # fmt: skip
    return re.findall(r"Stream #\d+:\d+.*", out.stderr)


@pytest.fixture(scope="module")
def clip():
    return load_corpus("speech-gesture", "train")[0]


def test_the_video_has_every_frame_and_the_audio(clip, tmp_path):
    n = 60  # 3 s
    audio = clip.audio[: round(n / clip.fps * clip.sample_rate)]
    path = save_video(tmp_path / "episode.mp4", clip.motion[:n], clip.skeleton, clip.fps,
                      audio=audio, sample_rate=clip.sample_rate, beats=clip.beats)  # fmt: skip
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == n and seconds == pytest.approx(n / clip.fps, abs=0.1)
    found = streams(path)
    assert any("Video: h264" in s for s in found) and any("Audio: aac" in s for s in found)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert meta["size"] == (480, 480)
    first = np.frombuffer(next(reader), np.uint8).reshape(480, 480, 3)
    assert (first < 200).any(axis=-1).sum() > 500  # the figure is there
    reader.close()
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_without_audio_the_video_is_silent(clip, tmp_path):
    path = save_video(tmp_path / "silent.mp4", clip.motion[:20], clip.skeleton, clip.fps)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 20
    assert not any("Audio" in s for s in streams(path))


def test_bad_input_names_the_file(clip, tmp_path):
    with pytest.raises(ValueError, match=r"bad\.mp4.*\(T, 16, 3\)"):
        save_video(tmp_path / "bad.mp4", clip.motion[:, :5], clip.skeleton, clip.fps)
    with pytest.raises(ValueError, match=r"bad\.mp4.*sample_rate"):
        save_video(tmp_path / "bad.mp4", clip.motion[:5], clip.skeleton, clip.fps, audio=clip.audio)
    assert not (tmp_path / "bad.mp4").exists()
