"""BEAT2 (PantoMatrix): SMPL-X motion, 16 kHz speech, word timings and semantic labels.

Layout of ``beat_<language>_v2.0.0/``:

    train_test_split.csv        columns id,type (type: train, val, test, additional)
    smplxflame_30/<id>.npz      poses (T, 165) axis-angle of the 55 SMPL-X joints, trans (T, 3),
                                betas (300,), expressions (T, 100), mocap_frame_rate (30)
    wave16k/<id>.wav            the speech
    textgrid/<id>.TextGrid      Praat TextGrid with a "words" tier (the clip's words), optional
    sem/<id>.txt                semantic gesture labels, tab-separated, no header:
                                name, start, end, duration, score, keywords (optional)

Ids look like ``2_scott_0_100_100`` (speaker number, speaker name, ...). Motion becomes joint
positions by SMPL-X forward kinematics (mean shape, or the official model file with the clip's
betas when ``smplx_model`` or $GESTURE_GYM_SMPLX_MODEL names one) and is retargeted to the
16-joint gesture skeleton.
"""

from __future__ import annotations

import csv
import re
import zipfile
from functools import partial
from pathlib import Path

import numpy as np

from gesture_gym.data.clip import Clip, Word
from gesture_gym.data.readers.common import (
    ClipSource,
    ConvertedDataset,
    DatasetError,
    build_clip,
    model_file,
    require_dir,
    target_fps,
)
from gesture_gym.motion.skeleton import UPPER_BODY
from gesture_gym.motion.smplx import (
    SMPLX_NEUTRAL,
    SMPLX_TO_UPPER_BODY,
    skeleton_from_model,
    smplx_joint_positions,
)

FORMAT = "beat2"
SMPLX_MODEL_ENV = "GESTURE_GYM_SMPLX_MODEL"
SEM_COLUMNS = ("name", "start", "end", "duration", "score", "keywords")


def read_beat2(
    path: Path, split: str, *, fps: float | None = None, smplx_model: Path | None = None
) -> ConvertedDataset:
    """The clips of one split of a BEAT2 language folder (see the module docstring).

    Args:
        path: the ``beat_<language>_v2.0.0`` folder.
        split: a ``type`` of train_test_split.csv (train, val, test, additional) or "all".
        fps: motion frame rate of the clips; default the capture rate (30).
        smplx_model: the official SMPL-X ``.npz``; default $GESTURE_GYM_SMPLX_MODEL, else the
            shipped mean-shape skeleton.
    """
    root = require_dir(path, "BEAT2 folder")
    model = model_file(smplx_model, SMPLX_MODEL_ENV, "SMPL-X")
    sources = []
    for clip_name in split_ids(root / "train_test_split.csv", split):
        files = [root / "smplxflame_30" / f"{clip_name}.npz", root / "wave16k" / f"{clip_name}.wav"]
        optional = [root / "textgrid" / f"{clip_name}.TextGrid", root / "sem" / f"{clip_name}.txt"]
        files += [f for f in optional if f.is_file()] + ([model] if model else [])
        sources.append(ClipSource(clip_name, tuple(files)))  # every file keys the cache
    convert = partial(_convert, root=root, split=split, fps=fps, model=model)
    return ConvertedDataset(FORMAT, split, sources, convert, params=f"fps={fps}")


def split_ids(csv_path: Path, split: str) -> list[str]:
    """Clip ids of ``split`` in train_test_split.csv (columns id,type), in file order."""
    try:
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise FileNotFoundError(f"{csv_path}: BEAT2 split table not found") from None
    if not rows or not {"id", "type"} <= set(rows[0]):
        raise DatasetError(f"{csv_path}: expected columns id,type")
    types = sorted({r["type"] for r in rows})
    if split != "all" and split not in types:
        raise KeyError(f"{csv_path}: no split {split!r}; types in the table: {types}")
    return [r["id"] for r in rows if split in ("all", r["type"])]


def _convert(
    source: ClipSource, *, root: Path, split: str, fps: float | None, model: Path | None
) -> Clip:
    poses, trans, betas, native_fps = read_smplx_npz(source.files[0])
    skeleton = SMPLX_NEUTRAL if model is None else skeleton_from_model(model, betas)
    textgrid = root / "textgrid" / f"{source.name}.TextGrid"
    sem = root / "sem" / f"{source.name}.txt"
    parts = source.name.split("_")
    annotations = {
        "speaker": parts[1] if len(parts) > 1 else source.name,
        "semantic": read_sem(sem) if sem.is_file() else [],
    }
    return build_clip(
        source,
        fmt=FORMAT,
        split=split,
        motion=smplx_joint_positions(poses, trans, skeleton),
        motion_fps=native_fps,
        fps=target_fps(fps, native_fps, source.files[0]),
        skeleton=UPPER_BODY,
        kind="speech",
        retarget_from=skeleton,
        mapping=SMPLX_TO_UPPER_BODY,
        words=read_textgrid_words(textgrid) if textgrid.is_file() else (),
        annotations=annotations,
    )


def read_smplx_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """(poses (T, 165), trans (T, 3), betas or None, frame rate) of a BEAT2 motion file."""
    keys = ("poses", "trans", "mocap_frame_rate", "betas")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in keys if k in z.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: motion file not found") from None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
        raise DatasetError(f"{path}: not a readable npz file ({e})") from None
    missing = [k for k in keys[:3] if k not in arrays]
    if missing:
        raise DatasetError(f"{path}: missing {', '.join(missing)}")
    poses, trans, rate = arrays["poses"], arrays["trans"], arrays["mocap_frame_rate"]
    betas = arrays.get("betas")
    if poses.ndim != 2 or poses.shape[1] != 165 or poses.shape[0] < 2:
        raise DatasetError(f"{path}: poses must be (T >= 2, 165) axis-angle, got {poses.shape}")
    if trans.shape != (poses.shape[0], 3):
        raise DatasetError(
            f"{path}: trans must be ({poses.shape[0]}, 3) like poses, got {trans.shape}"
        )
    for key, arr in (("poses", poses), ("trans", trans), ("mocap_frame_rate", rate)):
        if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
            raise DatasetError(f"{path}: {key} must be finite numbers")
    if rate.size != 1 or float(rate) <= 0:
        raise DatasetError(f"{path}: mocap_frame_rate must be one positive number, got {rate!r}")
    return poses, trans, betas, float(rate)


def read_sem(path: Path) -> list[dict]:
    """Semantic labels: one dict per line with ``SEM_COLUMNS`` (times and score as floats)."""
    labels = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not UTF-8 text ({e})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cells = line.rstrip("\n").split("\t")
        cells += [""] * (len(SEM_COLUMNS) - len(cells))
        try:
            name, start, end, duration, score = cells[0], *map(float, cells[1:5])
        except ValueError:
            raise DatasetError(
                f"{path}:{n}: expected {len(SEM_COLUMNS)} tab-separated columns "
                f"{', '.join(SEM_COLUMNS)} with numeric times and score, got {line!r}"
            ) from None
        keywords = "\t".join(cells[5:]).strip()
        labels.append(
            {"name": name, "start": start, "end": end, "duration": duration, "score": score,
             "keywords": keywords}
        )  # fmt: skip
    return labels


# A TextGrid (long or short text format) reduces to a stream of quoted strings, numbers and
# <exists>; the labels ("xmin =") and bracketed indices ("intervals [3]:") carry nothing else.
_TOKEN = re.compile(
    r'"(?P<text>(?:[^"]|"")*)"|(?P<flag><exists>|<absent>)|\[\s*\d*\s*\]'
    r"|(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
)


def read_textgrid_words(path: Path, tier: str = "words") -> tuple[Word, ...]:
    """The non-empty intervals of a TextGrid's word tier as Words (seconds)."""
    tiers = read_textgrid(path)
    if not tiers:
        return ()
    chosen = next((t for t in tiers if t[0].lower() == tier), None)
    if chosen is None:
        names = [t[0] for t in tiers]
        raise DatasetError(f"{path}: no {tier!r} tier (tiers: {names})")
    return tuple(Word(text.strip(), start, end) for start, end, text in chosen[1] if text.strip())


def read_textgrid(path: Path) -> list[tuple[str, list[tuple[float, float, str]]]]:
    """Every interval tier of a Praat TextGrid as (name, [(start, end, text)])."""
    raw = path.read_bytes()
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not a text file ({e})") from None
    tokens: list[str | float] = []
    for m in _TOKEN.finditer(text):
        if m["text"] is not None:
            tokens.append(m["text"].replace('""', '"'))
        elif m["flag"] is not None:
            tokens.append(m["flag"])
        elif m["number"] is not None:
            tokens.append(float(m["number"]))

    def take(kind: type, what: str):
        try:
            value = next(tokens_iter)
        except StopIteration:
            raise DatasetError(f"{path}: truncated TextGrid (ended while reading {what})") from None
        if kind is float and isinstance(value, str) or kind is str and not isinstance(value, str):
            raise DatasetError(f"{path}: malformed TextGrid ({what}: got {value!r})")
        return value

    if tokens[:2] != ["ooTextFile", "TextGrid"]:
        raise DatasetError(f"{path}: not a Praat TextGrid (no 'ooTextFile'/'TextGrid' header)")
    tokens_iter = iter(tokens[2:])
    take(float, "xmin")
    take(float, "xmax")
    if take(str, "tier flag") != "<exists>":
        return []
    tiers = []
    for _ in range(int(take(float, "tier count"))):
        kind, name = take(str, "tier class"), take(str, "tier name")
        take(float, "tier xmin")
        take(float, "tier xmax")
        items = []
        for _ in range(int(take(float, "interval count"))):
            if kind == "IntervalTier":
                start, end = take(float, "interval xmin"), take(float, "interval xmax")
                items.append((start, end, take(str, "interval text")))
            else:  # a TextTier's points: time and mark
                take(float, "point time")
                take(str, "point mark")
        if kind == "IntervalTier":
            tiers.append((name, items))
    return tiers
