"""Writers of tiny data sets in each real format (exact layouts, keys, dtypes and shapes)."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import numpy as np
import soundfile as sf

from gesture_gym.data.readers import pats
from gesture_gym.motion.smplx import SMPLX_PARENTS

SR = 16000


def speech(seconds: float, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A voiced tone in syllable-like bursts (4 a second), so onsets exist."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    envelope = np.clip(np.sin(2 * np.pi * 4 * t + rng.uniform(0, 1)), 0, None) ** 2
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    return (0.25 * envelope * voice + 0.005 * rng.normal(size=t.size)).astype(np.float32)


def music(seconds: float, bpm: float = 120.0, sr: int = SR) -> np.ndarray:
    """Clicks on the beat over a quiet chord."""
    t = np.arange(int(seconds * sr)) / sr
    phase = (t * bpm / 60.0) % 1.0
    clicks = np.exp(-phase * 40.0) * np.sin(2 * np.pi * 1500 * t)
    chord = 0.1 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 277 * t))
    return (0.5 * clicks + chord).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, sr, subtype="PCM_16")
    return path


# --- SMPL-X model file -------------------------------------------------------------------------


def write_smplx_model(path, n_vertices=60, seed=0, parents=SMPLX_PARENTS, drop=None):
    """A tiny file with the official model's keys (SMPL-X's, or SMPL's given SMPL's parents):
    every joint regresses 3 vertices."""
    rng = np.random.default_rng(seed)
    n_joints = len(parents)
    reg = np.zeros((n_joints, n_vertices))
    for j in range(n_joints):
        reg[j, rng.choice(n_vertices, 3, replace=False)] = 1 / 3
    arrays = {
        "J_regressor": reg,
        "v_template": rng.normal(0, 0.3, (n_vertices, 3)),
        "shapedirs": rng.normal(0, 0.01, (n_vertices, 3, 20)),
        "kintree_table": np.array([[2**32 - 1, *parents[1:]], range(n_joints)], dtype=np.uint32),
        "f": np.zeros((4, 3), np.uint32),
    }
    arrays.pop(drop, None)
    np.savez(path, **arrays)
    return arrays


# --- BEAT2 --------------------------------------------------------------------------------------

WORDS = [(0.0, 0.4, ""), (0.4, 0.9, "hello"), (0.9, 1.3, 'say "hi"'), (1.3, 1.8, "[1]"),
         (1.8, 2.2, ""), (2.2, 2.9, "world")]  # fmt: skip


def textgrid_long(words: list[tuple[float, float, str]], xmax: float) -> str:
    """Praat's long text format with a "words" tier and a "phones" tier."""

    def tier(name: str, items: list[tuple[float, float, str]], index: int) -> list[str]:
        out = [f"    item [{index}]:", '        class = "IntervalTier" ', f'        name = "{name}" ',
               "        xmin = 0 ", f"        xmax = {xmax} ", f"        intervals: size = {len(items)} "]  # fmt: skip
        for k, (a, b, text) in enumerate(items, 1):
            quoted = text.replace('"', '""')
            out += [f"        intervals [{k}]:", f"            xmin = {a} ", f"            xmax = {b} ",
                    f'            text = "{quoted}" ']  # fmt: skip
        return out

    phones = [(0.0, xmax / 2, "AH0"), (xmax / 2, xmax, "")]
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0 ",
             f"xmax = {xmax} ", "tiers? <exists> ", "size = 2 ", "item []: "]  # fmt: skip
    lines += tier("phones", phones, 1) + tier("words", words, 2)
    return "\n".join(lines) + "\n"


def textgrid_short(words: list[tuple[float, float, str]], xmax: float) -> str:
    """Praat's short text format with only a "words" tier."""
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", str(xmax),
             "<exists>", "1", '"IntervalTier"', '"words"', "0", str(xmax), str(len(words))]  # fmt: skip
    for a, b, text in words:
        lines += [str(a), str(b), '"' + text.replace('"', '""') + '"']
    return "\n".join(lines) + "\n"


def beat2_poses(n_frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)[:, None] / 30.0
    poses = 0.3 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5, 165) * t + rng.uniform(0, 6, 165))
    trans = np.stack([0.05 * np.sin(t[:, 0]), 0.9 + 0.0 * t[:, 0], 0.02 * t[:, 0]], axis=1)
    return poses.astype(np.float32), trans.astype(np.float32)


def write_beat2(root: Path, seconds: float = 3.0, sem: bool = True) -> Path:
    """beat_english_v2.0.0 with two train clips and one test clip, 30 fps SMPL-X motion."""
    ids = {"2_scott_0_1_1": "train", "2_scott_0_2_2": "train", "4_lawrence_0_3_3": "test"}
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "train_test_split.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "type"])
        writer.writerows(ids.items())
    for k, clip in enumerate(ids):
        n = int(seconds * 30)
        poses, trans = beat2_poses(n, k)
        (root / "smplxflame_30").mkdir(exist_ok=True)
        np.savez(
            root / "smplxflame_30" / f"{clip}.npz",
            betas=np.zeros(300, np.float32),
            poses=poses,
            expressions=np.zeros((n, 100), np.float32),
            trans=trans,
            model=np.array("smplx2020"),
            gender=np.array("neutral"),
            mocap_frame_rate=np.array(30),
        )
        write_wav(root / "wave16k" / f"{clip}.wav", speech(seconds, k))
        (root / "textgrid").mkdir(exist_ok=True)
        (root / "textgrid" / f"{clip}.TextGrid").write_text(textgrid_long(WORDS, seconds))
        if sem:
            (root / "sem").mkdir(exist_ok=True)
            (root / "sem" / f"{clip}.txt").write_text(
                "beat_align\t0.4\t0.9\t0.5\t0.8\thello\ndeictic_l\t2.2\t2.9\t0.7\t0.3\tworld there\n"
            )
    return root


# --- AIST++ -------------------------------------------------------------------------------------

SEQUENCES = [
    "gWA_sFM_cAll_d27_mWA2_ch21",
    "gBR_sBM_cAll_d04_mBR0_ch01",
    "gWA_sBM_cAll_d25_mWA2_ch03",
]


def write_aistpp(root: Path, seconds: float = 2.5, protocol: int = 4) -> Path:
    """motions/*.pkl, splits/crossmodal_{train,test}.txt, ignore_list.txt and wavs/."""
    rng = np.random.default_rng(1)
    (root / "motions").mkdir(parents=True, exist_ok=True)
    (root / "splits").mkdir(exist_ok=True)
    for k, seq in enumerate(SEQUENCES):
        n = int(seconds * 60)
        t = np.arange(n)[:, None] / 60.0
        poses = 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0, 72) * t + k)
        data = {
            "smpl_loss": np.float64(1.5),
            "smpl_poses": poses.astype(np.float64),
            "smpl_scaling": np.array([93.5]),
            "smpl_trans": np.tile([0.0, 160.0, 0.0], (n, 1)) + rng.normal(0, 5, (n, 3)),
        }
        (root / "motions" / f"{seq}.pkl").write_bytes(pickle.dumps(data, protocol=protocol))
    (root / "splits" / "crossmodal_train.txt").write_text("\n".join(SEQUENCES[:2]) + "\n")
    (root / "splits" / "crossmodal_test.txt").write_text(SEQUENCES[2] + "\n")
    (root / "ignore_list.txt").write_text(SEQUENCES[1] + "\n")
    write_wav(root / "wavs" / "mWA2.wav", music(seconds + 0.2))
    write_wav(root / "wavs" / "mBR0.wav", music(seconds + 0.2, bpm=100))
    return root


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


# --- BVH ----------------------------------------------------------------------------------------


def bvh_text(frames: np.ndarray, frame_time: float = 1 / 30, root_end: bool = True) -> str:
    """A y-up BVH in centimetres: Hips (6 channels) > Spine > Spine1 > Spine2 > Neck > Head, and
    Spine2 > {Left,Right}Shoulder > Arm > ForeArm > Hand > HandMiddle1 (3 rotation channels
    each, ZXY order); each arm bone is 25 cm along +-x."""
    rot = "CHANNELS 3 Zrotation Xrotation Yrotation"

    def chain(names_offsets: list[tuple[str, tuple[float, float, float]]], depth: int) -> list[str]:
        if not names_offsets:
            return [" " * depth + "End Site", " " * depth + "{",
                    " " * depth + "  OFFSET 0 5 0", " " * depth + "}"]  # fmt: skip
        (name, off), rest = names_offsets[0], names_offsets[1:]
        pad = " " * depth
        return [f"{pad}JOINT {name}", f"{pad}{{", f"{pad}  OFFSET {off[0]} {off[1]} {off[2]}",
                f"{pad}  {rot}", *chain(rest, depth + 2), f"{pad}}}"]  # fmt: skip

    def arm(side: str, sign: float) -> list[tuple[str, tuple[float, float, float]]]:
        return [(f"{side}Shoulder", (sign * 4, 8, 0)), (f"{side}Arm", (sign * 14, 0, 0)),
                (f"{side}ForeArm", (sign * 25, 0, 0)), (f"{side}Hand", (sign * 25, 0, 0)),
                (f"{side}HandMiddle1", (sign * 9, 0, 0))]  # fmt: skip

    spine = chain([("Neck", (0, 14, 0)), ("Head", (0, 10, 2))], 8)
    lines = ["HIERARCHY", "ROOT Hips", "{", "  OFFSET 0 0 0",
             "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation",
             "  JOINT Spine", "  {", "    OFFSET 0 12 0", f"    {rot}",
             "    JOINT Spine1", "    {", "      OFFSET 0 12 0", f"      {rot}",
             "      JOINT Spine2", "      {", "        OFFSET 0 12 0", f"        {rot}",
             *spine, *chain(arm("Left", 1.0), 8), *chain(arm("Right", -1.0), 8),
             "      }", "    }", "  }", "}"]  # fmt: skip
    lines += ["MOTION", f"Frames: {frames.shape[0]}", f"Frame Time: {frame_time:.6f}"]
    lines += [" ".join(f"{v:.4f}" for v in row) for row in frames]
    return "\n".join(lines) + "\n"


BVH_JOINTS = ["Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "LeftShoulder", "LeftArm",
              "LeftForeArm", "LeftHand", "LeftHandMiddle1", "RightShoulder", "RightArm",
              "RightForeArm", "RightHand", "RightHandMiddle1"]  # fmt: skip
BVH_WIDTH = 6 + 3 * (len(BVH_JOINTS) - 1)


def bvh_frames(n: int, seed: int = 0) -> np.ndarray:
    """Smooth random motion: root at 95 cm height, joint angles within +-30 degrees."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / 30.0
    frames = 30 * np.sin(
        2 * np.pi * rng.uniform(0.3, 1.2, BVH_WIDTH) * t + rng.uniform(0, 6, BVH_WIDTH)
    )
    frames[:, :3] = [0, 95, 0] + 3 * np.sin(t)
    return frames


def write_bvh_dataset(root: Path, seconds: float = 2.5, config: dict | None = None) -> Path:
    """Two BVH takes with speech beside them in train/ and one in test/."""
    for k, (split, name) in enumerate(
        [("train", "take_a"), ("train", "take_b"), ("test", "take_c")]
    ):
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.bvh").write_text(bvh_text(bvh_frames(int(seconds * 30), k)))
        write_wav(folder / f"{name}.wav", speech(seconds, k))
    if config is not None:
        (root / "dataset.json").write_text(json.dumps(config))
    return root


# --- a plain folder -----------------------------------------------------------------------------


def write_folder(
    root: Path, motions: dict[str, np.ndarray], config: dict, seconds: float = 2.5
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(json.dumps(config))
    for k, (name, motion) in enumerate(motions.items()):
        np.save(root / f"{name}.npy", motion)
        write_wav(root / f"{name}.wav", speech(seconds, k))
    return root


# --- PATS ---------------------------------------------------------------------------------------


def pats_pose(n: int, seed: int) -> np.ndarray:
    """(n, 104) PATS pose/data: neck in pixels, the rest relative to it; shoulders 80 px out,
    hands below the shoulders (image y grows downwards)."""
    rng = np.random.default_rng(seed)
    xy = rng.normal(0, 3, (n, 2, 52))
    xy[:, :, 0] = [640, 200]  # neck in image pixels
    xy[:, 0, 1], xy[:, 1, 1] = -80, 0  # right shoulder to the image's left
    xy[:, 0, 4], xy[:, 1, 4] = 80, 0
    xy[:, 1, [2, 5]] += 90  # elbows below the shoulders
    xy[:, 1, [3, 6]] += 170  # wrists lower still
    xy[:, 1, 10:] += 180  # hands
    return xy.reshape(n, 104)


def write_pats(root: Path, seconds: float = 3.0, raw_audio: bool = False) -> Path:
    """pats/data with speaker "oliver": intervals c1 (train), c2 (dev), c3 (missing), c4 (test)."""
    import h5py

    intervals = {"c1": "train", "c2": "dev", "c3": "train", "c4": "test"}
    folder = root / "processed" / "oliver"
    folder.mkdir(parents=True, exist_ok=True)
    n, n_mel = int(seconds * pats.FPS), int(seconds * 100)
    for k, interval in enumerate(intervals):
        rng = np.random.default_rng(k)
        pulse = np.clip(np.sin(2 * np.pi * 3 * np.arange(n_mel) / 100.0), 0, None)
        log_mel = np.log(1e-3 + pulse[:, None] * rng.uniform(0.5, 1.0, (n_mel, 64)))
        with h5py.File(folder / f"{interval}.h5", "w") as h5:
            h5["pose/data"] = pats_pose(n, k)
            h5["pose/confidence"] = np.full((n, 104), 0.9)
            h5["pose/normalize"] = pats_pose(n, k)
            h5["audio/log_mel_400"] = log_mel
            h5["audio/silence"] = np.zeros(n, np.int64)
            h5["text/tokens"] = rng.integers(100, 3000, 12)
        if raw_audio:
            write_wav(root / "raw" / "oliver_cropped" / f"{interval}.wav", speech(seconds, k))
    with open(root / "cmu_intervals_df.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["", "speaker", "interval_id", "dataset", "delta_time"])
        writer.writerows([k, "oliver", i, s, seconds] for k, (i, s) in enumerate(intervals.items()))
    with h5py.File(root / "missing_intervals.h5", "w") as h5:
        h5.create_dataset("intervals", data=np.array(["c3"], dtype=h5py.special_dtype(vlen=str)))
    return root
