"""PATS (chahuja/pats): 2-D upper-body and hand keypoints of TV and lecture speakers at 15 fps.

Layout of ``pats/data``:

    cmu_intervals_df.csv           columns speaker, interval_id, dataset (train, dev, test)
    missing_intervals.h5           "intervals": ids with incomplete features, skipped
    processed/<speaker>/<interval_id>.h5
        pose/data                  (T, 104): x of the 52 keypoints, then y; the neck (joint 0)
                                   in image pixels, the others relative to the neck
        pose/confidence            (T, 104) OpenPose confidences (the 52 repeated)
        audio/log_mel_400          (T_a, 64) natural-log mel magnitudes, 16 kHz, hop 160 (100/s)
        text/tokens                BERT token ids
    raw/<speaker>_cropped/<interval_id>.mp3 (or .wav)   the speech, when downloaded

Clips are 2-D: the 49 keypoints without nose and eyes (the PATS benchmark's joints) as
(x, y, 0) with y up and the neck at the origin, scaled so the median neck-to-shoulder length is
the mean-shape SMPL one (pixels become comparable across speakers). The skeleton's rest pose is
the clip's mean pose. Audio features come from the raw speech when it is there; otherwise from
the shipped log-mel spectrogram (the clip then has no waveform: ``audio`` is empty). "val" is
PATS's "dev". A path to ``processed/<speaker>`` reads one speaker.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from gesture_gym.audio.features import N_MELS, N_MFCC, AudioFeatures
from gesture_gym.data.clip import Clip
from gesture_gym.data.readers.common import (
    ClipSource,
    ConvertedDataset,
    DatasetError,
    build_clip,
    clip_id,
    find_audio,
    require_dir,
    resample_motion,
    target_fps,
)
from gesture_gym.motion.skeleton import SMPL24, Skeleton

FORMAT = "pats"
FPS = 15.0
MEL_RATE, MEL_HOP = 16000, 160  # audio/log_mel_400: 16 kHz, hop 160 -> 100 rows a second
SPLIT_NAMES = {"train": "train", "val": "dev", "test": "test"}

# PATS's 52 keypoints and parents (chahuja/pats data/skeleton.py).
PATS_JOINTS = (
    "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "Nose", "REye",
    "LEye",
    *(f"{s}Hand{f}" for s in "LR" for f in ("Root", *(f"{d}{k}" for d in (
        "Thumb", "Index", "Middle", "Ring", "Little") for k in range(1, 5)))),
)  # fmt: skip
PATS_PARENTS = (
    -1, 0, 1, 2, 0, 4, 5, 0, 7, 7,
    6, *(p for base in range(11, 31, 4) for p in (10, base, base + 1, base + 2)),
    3, *(p for base in range(32, 52, 4) for p in (31, base, base + 1, base + 2)),
)  # fmt: skip
KEEP = tuple(j for j in range(len(PATS_JOINTS)) if j not in (7, 8, 9))  # without nose and eyes
_SMPL_REST = SMPL24.rest_pose()
REFERENCE_SHOULDER = float(
    np.mean([np.linalg.norm((_SMPL_REST[SMPL24.index(s)] - _SMPL_REST[SMPL24.index("neck")])[:2])
             for s in ("left_shoulder", "right_shoulder")])
)  # fmt: skip


def read_pats(path: Path, split: str, *, fps: float | None = None) -> ConvertedDataset:
    """The intervals of one split of PATS (see the module docstring).

    Args:
        path: ``pats/data`` (every speaker) or ``pats/data/processed/<speaker>``.
        split: "train", "val" (PATS's dev), "test" or "all".
        fps: motion frame rate of the clips; default 15.
    """
    import h5py

    path = require_dir(path, "PATS folder")
    if path.parent.name == "processed":
        root, speakers = path.parent.parent, [path.name]
    else:
        root = path
        speakers = sorted(
            p.name
            for p in require_dir(root / "processed", "PATS processed folder").iterdir()
            if p.is_dir()
        )
    if split != "all" and split not in SPLIT_NAMES:
        raise KeyError(f"PATS has no split {split!r}; splits: {sorted(SPLIT_NAMES)} or 'all'")
    table = _split_table(root / "cmu_intervals_df.csv")
    missing_file = root / "missing_intervals.h5"
    skipped: set[str] = set()
    if missing_file.is_file():
        try:
            with h5py.File(missing_file, "r") as h5:
                if "intervals" in h5:
                    skipped = {
                        v.decode() if isinstance(v, bytes) else str(v) for v in h5["intervals"][()]
                    }
        except OSError as e:
            raise DatasetError(f"{missing_file}: not a readable HDF5 file ({e})") from None
    sources = []
    for speaker in speakers:
        for h5_path in sorted((root / "processed" / speaker).glob("*.h5")):
            interval = h5_path.stem
            if interval in skipped:
                continue
            if split != "all":
                if table is None:
                    raise FileNotFoundError(
                        f"{root / 'cmu_intervals_df.csv'}: PATS split table not found"
                    )
                if table.get(interval) != SPLIT_NAMES[split]:
                    continue
            audio = find_audio(root / "raw" / f"{speaker}_cropped", interval)
            files = (h5_path,) if audio is None else (h5_path, audio)
            sources.append(ClipSource(f"{speaker}/{interval}", files))
    convert = partial(_convert, split=split, fps=fps)
    return ConvertedDataset(FORMAT, split, sources, convert, params=f"fps={fps}")


def _split_table(path: Path) -> dict[str, str] | None:
    """interval_id -> dataset (train/dev/test) from cmu_intervals_df.csv, or None if absent."""
    if not path.is_file():
        return None
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not {"interval_id", "dataset"} <= set(reader.fieldnames or ()):
            raise DatasetError(f"{path}: expected columns interval_id and dataset")
        return {row["interval_id"]: row["dataset"] for row in reader}


def skeleton_2d(rest: np.ndarray) -> Skeleton:
    """The 49-joint 2-D skeleton with ``rest`` (49, 3) as its rest pose."""
    index = {old: new for new, old in enumerate(KEEP)}
    parents = tuple(-1 if PATS_PARENTS[j] < 0 else index[PATS_PARENTS[j]] for j in KEEP)
    offsets = rest.copy()
    offsets[1:] -= rest[list(parents[1:])]
    left = tuple(i for i, j in enumerate(KEEP) if PATS_JOINTS[j][0] == "L")
    right = tuple(i for i, j in enumerate(KEEP) if PATS_JOINTS[j][0] == "R")
    return Skeleton(
        "pats2d",
        tuple(PATS_JOINTS[j] for j in KEEP),
        parents,
        offsets,
        {"upper": tuple(range(len(KEEP))), "left_arm": left, "right_arm": right},
    )


def read_pose(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """(motion (T, 49, 3), confidence (T, 49) or None, log-mel (T_a, 64), tokens or None)."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            if "pose/data" not in h5 or "audio/log_mel_400" not in h5:
                raise DatasetError(f"{path}: needs pose/data and audio/log_mel_400")
            data = np.asarray(h5["pose/data"][()], np.float64)
            conf = (
                np.asarray(h5["pose/confidence"][()], np.float64)
                if "pose/confidence" in h5
                else None
            )
            mel = np.asarray(h5["audio/log_mel_400"][()], np.float64)
            tokens = np.asarray(h5["text/tokens"][()]) if "text/tokens" in h5 else None
    except OSError as e:
        raise DatasetError(f"{path}: not a readable HDF5 file ({e})") from None
    n = len(PATS_JOINTS)
    if data.ndim != 2 or data.shape[1] != 2 * n or data.shape[0] < 2:
        raise DatasetError(f"{path}: pose/data must be (T >= 2, {2 * n}), got {data.shape}")
    if mel.ndim != 2 or mel.shape[1] != N_MELS or mel.shape[0] < 2:
        raise DatasetError(f"{path}: audio/log_mel_400 must be (T, {N_MELS}), got {mel.shape}")
    if not (np.all(np.isfinite(data)) and np.all(np.isfinite(mel))):
        raise DatasetError(f"{path}: pose/data or audio/log_mel_400 has NaN or infinite values")
    xy = data.reshape(-1, 2, n).transpose(0, 2, 1)[:, KEEP]  # (T, 49, 2)
    xy[:, 0] = 0.0  # the neck is in image coordinates; every other joint is relative to it
    shoulders = np.linalg.norm(xy[:, [KEEP.index(1), KEEP.index(4)]], axis=-1)
    scale = float(np.median(shoulders))
    if not scale > 0:
        raise DatasetError(f"{path}: shoulders coincide with the neck; cannot scale the pose")
    motion = np.concatenate([xy * [1.0, -1.0], np.zeros(xy.shape[:2] + (1,))], axis=-1)
    motion *= REFERENCE_SHOULDER / scale
    if conf is not None:
        conf = conf[:, :n][:, KEEP] if conf.ndim == 2 and conf.shape[1] >= n else None
    if tokens is not None and not np.issubdtype(tokens.dtype, np.number):
        tokens = None
    return motion, conf, mel, tokens


def log_mel_features(log_mel: np.ndarray, fps: int, n_frames: int, source: str) -> AudioFeatures:
    """AudioFeatures from PATS's log-mel magnitudes (100 rows a second), one row per frame.

    Mel is in dB (20 log10 of the magnitude); MFCC, onset strength, onsets, beats and tempo are
    librosa's from that spectrogram; RMS is the root mean square of the mel magnitudes.
    """
    import librosa

    mel_db = log_mel.T * (20.0 / np.log(10.0))  # (64, T_a) in dB
    onset_env = librosa.onset.onset_strength(S=mel_db, sr=MEL_RATE, hop_length=MEL_HOP)
    onsets = librosa.onset.onset_detect(
        onset_envelope=onset_env, sr=MEL_RATE, hop_length=MEL_HOP, units="time"
    )
    tempo, beats = librosa.beat.beat_track(
        onset_envelope=onset_env, sr=MEL_RATE, hop_length=MEL_HOP, units="time"
    )
    rms = np.sqrt(np.mean(np.exp(2.0 * log_mel), axis=1))
    rows = np.clip(
        np.rint(np.arange(n_frames) * (MEL_RATE / MEL_HOP) / fps), 0, log_mel.shape[0] - 1
    )
    rows = rows.astype(np.int64)
    mel = np.ascontiguousarray(mel_db.T[rows], dtype=np.float32)
    if not np.all(np.isfinite(mel)):
        raise DatasetError(f"{source}: log-mel spectrogram has non-finite values")
    return AudioFeatures(
        fps=float(fps),
        sample_rate=MEL_RATE,
        mel=mel,
        mfcc=np.ascontiguousarray(librosa.feature.mfcc(S=mel.T, n_mfcc=N_MFCC).T, dtype=np.float32),
        onset_strength=onset_env[rows].astype(np.float32),
        rms=rms[rows].astype(np.float32),
        pitch=None,
        onsets=np.asarray(onsets, np.float64),
        beats=np.asarray(beats, np.float64),
        tempo=float(np.atleast_1d(tempo)[0]),
    )


def _convert(source: ClipSource, *, split: str, fps: float | None) -> Clip:
    h5_path = source.files[0]
    motion, conf, log_mel, tokens = read_pose(h5_path)
    rate = target_fps(fps, FPS, h5_path)
    speaker = source.name.split("/")[0]
    annotations: dict = {"speaker": speaker}
    if tokens is not None:
        annotations["text_tokens"] = tokens
    if len(source.files) > 1:
        clip = build_clip(
            source, fmt=FORMAT, split=split, motion=motion, motion_fps=FPS, fps=rate,
            skeleton=skeleton_2d(motion.mean(axis=0)), kind="speech", annotations=annotations,
        )  # fmt: skip
    else:
        m = resample_motion(motion, FPS, rate)
        n = min(m.shape[0], log_mel.shape[0] * rate * MEL_HOP // MEL_RATE)
        if n < 1:
            raise DatasetError(f"{h5_path}: pose and log-mel have no frame in common")
        features = log_mel_features(log_mel, rate, n, str(h5_path))
        clip = Clip(
            id=clip_id(FORMAT, split, source.name),
            split=split,
            fps=float(rate),
            skeleton=skeleton_2d(m[:n].mean(axis=0)),
            motion=m[:n].astype(np.float32),
            audio=np.zeros(0, np.float32),
            sample_rate=MEL_RATE,
            features=features,
            beats=features.onsets,
            annotations=annotations,
        )
    if conf is None:
        return clip
    confidence = resample_motion(conf, FPS, rate)[: clip.n_frames].astype(np.float32)
    return replace(clip, annotations={**clip.annotations, "confidence": confidence})
