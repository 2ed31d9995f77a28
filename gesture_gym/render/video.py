"""An mp4 of a whole episode with its audio track, through imageio-ffmpeg's bundled ffmpeg."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from gesture_gym.cache import atomic_write
from gesture_gym.motion.features import joint_speed
from gesture_gym.motion.skeleton import Skeleton
from gesture_gym.render.frames import Renderer

STRIP_SECONDS = 2.0  # the audio strip shows this much before and after the current frame


def frame_envelope(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames,) RMS of the audio samples of each motion frame (0 past the end of the audio)."""
    edges = np.round(np.arange(n_frames + 1) * sample_rate / fps).astype(int)
    power = np.concatenate([[0.0], np.cumsum(np.asarray(audio, np.float64) ** 2)])
    edges = np.minimum(edges, len(audio))
    counts = np.maximum(np.diff(edges), 1)
    return np.sqrt(np.diff(power[edges]) / counts)


def beat_mask(beats: np.ndarray | None, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames,) bool: True at the frame nearest each beat time (seconds)."""
    mask = np.zeros(n_frames, dtype=bool)
    if beats is not None:
        idx = np.round(np.asarray(beats, dtype=np.float64) * fps).astype(int)
        mask[idx[(idx >= 0) & (idx < n_frames)]] = True
    return mask


def episode_frames(
    motion: np.ndarray,
    skeleton: Skeleton,
    fps: float,
    strip: np.ndarray,
    beats: np.ndarray,
    size: tuple[int, int] = (480, 480),
):
    """Yield the (H, W, 3) uint8 frames of ``motion`` with a sliding window of ``strip``."""
    half = max(1, round(STRIP_SECONDS * fps))
    pad = np.pad(strip, half)
    pad_beats = np.pad(beats, half)
    renderer = Renderer(skeleton, size)
    for t in range(len(motion)):
        yield renderer(motion[t], pad[t : t + 2 * half + 1], pad_beats[t : t + 2 * half + 1], half)


def save_video(
    path: str | Path,
    motion: np.ndarray,
    skeleton: Skeleton,
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    beats: np.ndarray | None = None,
    size: tuple[int, int] = (480, 480),
) -> Path:
    """Write an H.264 mp4 of ``motion`` (stick figure + audio strip) with ``audio`` muxed in (AAC).

    Args:
        path: the .mp4 to write (atomically: a half-written video never appears under it).
        motion: (T, J, 3) joint positions of ``skeleton`` at ``fps``.
        audio: (S,) mono waveform at ``sample_rate``, cut or padded with silence to the motion's
            duration; without it the video is silent and the strip shows the mean joint speed.
        beats: beat times in seconds, marked on the strip.
    """
    motion = np.asarray(motion, dtype=np.float64)
    path = Path(path)
    if motion.ndim != 3 or motion.shape[1:] != (skeleton.n_joints, 3) or len(motion) == 0:
        raise ValueError(
            f"save_video({path}): motion must be (T, {skeleton.n_joints}, 3) for skeleton "
            f"{skeleton.name!r}; got {motion.shape}"
        )
    if not fps > 0:
        raise ValueError(f"save_video({path}): fps must be positive, got {fps}")
    n = len(motion)
    if audio is not None:
        if sample_rate is None or sample_rate <= 0:
            raise ValueError(f"save_video({path}): audio needs a positive sample_rate")
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1 or not np.all(np.isfinite(audio)):
            raise ValueError(
                f"save_video({path}): audio must be finite mono (S,), got {audio.shape}"
            )
        strip = frame_envelope(audio, sample_rate, fps, n)
    else:
        strip = joint_speed(motion, fps).mean(axis=1)
    frames = episode_frames(motion, skeleton, fps, strip, beat_mask(beats, fps, n), size)

    def write(tmp: Path) -> None:
        import imageio_ffmpeg

        with tempfile.TemporaryDirectory() as folder:
            audio_path = None
            if audio is not None:
                import soundfile

                samples = round(n / fps * sample_rate)
                track = np.zeros(samples, dtype=np.float32)
                track[: min(samples, len(audio))] = audio[:samples]
                audio_path = str(Path(folder) / "audio.wav")
                soundfile.write(audio_path, track, int(sample_rate), subtype="FLOAT")
            writer = imageio_ffmpeg.write_frames(
                str(tmp), tuple(size), fps=fps, quality=7, macro_block_size=8,
                audio_path=audio_path, audio_codec="aac" if audio_path else None,
            )  # fmt: skip
            writer.send(None)  # start ffmpeg
            for frame in frames:
                writer.send(np.ascontiguousarray(frame))
            writer.close()

    atomic_write(path, write)
    return path
