"""``gesture-gym eval`` and ``gesture-gym metrics train-extractor``."""

from __future__ import annotations

import argparse
import shlex
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gesture_gym.cache import atomic_write, cache_dir

if TYPE_CHECKING:
    import pandas as pd

    from gesture_gym.metrics.evaluate import MotionSample


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A GitHub markdown table of ``df`` (index as the first column)."""

    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else format(float(v), floatfmt)
        return str(v)

    head = [str(df.index.name or "")] + [str(c) for c in df.columns]
    rows = [
        [cell(i)] + [cell(v) for v in row] for i, row in zip(df.index, df.to_numpy(), strict=True)
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def load_samples(folder: Path, protocol: str, fps: float | None = None) -> list[MotionSample]:
    """Every ``*.npz`` in ``folder`` as a MotionSample, sorted by file name.

    A file is either a clip written by gesture_gym (``save_clip``) or a plain npz with ``motion``
    (T, J, 3) joint positions in metres, ``fps`` (or ``--fps``) and optionally ``beats`` and
    ``onsets`` (seconds). Without them, an audio file of the same name beside it supplies them.
    """
    from gesture_gym.audio import features_for_file
    from gesture_gym.data.clip_io import load_clip
    from gesture_gym.data.readers.common import find_audio
    from gesture_gym.metrics.evaluate import MotionSample

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of npz motion files")
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"{folder}: contains no .npz motion files")
    samples = []
    for path in files:
        try:
            with np.load(path, allow_pickle=False) as z:
                keys = set(z.files)
                wanted = set() if "meta" in keys else {"motion", "fps", "beats", "onsets"}
                data = {k: z[k] for k in keys & wanted}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise ValueError(f"{path}: not a readable npz file ({e})") from None
        if "meta" in keys:  # a clip file
            samples.append(replace(MotionSample.from_clip(load_clip(path)), name=str(path)))
            continue
        if "motion" not in data:
            raise ValueError(f"{path}: no 'motion' array (keys: {sorted(keys)})")
        rate = float(data["fps"]) if "fps" in data else fps
        if rate is None:
            raise ValueError(f"{path}: no 'fps' entry; pass --fps")
        beats, onsets = data.get("beats"), data.get("onsets")
        if beats is None or onsets is None:
            audio = find_audio(path.parent, path.stem)
            if audio is not None:  # librosa beats for dance, onsets for speech (cached)
                kind = "music" if protocol == "aist" else "speech"
                feats = features_for_file(audio, rate, kind, n_frames=len(data["motion"]))
                beats = feats.beats if beats is None else beats
                onsets = feats.onsets if onsets is None else onsets
        samples.append(MotionSample(data["motion"], rate, beats, onsets, str(path)))
    return samples


def _eval(args: argparse.Namespace) -> int:
    import pandas as pd

    from gesture_gym.assets import ASSETS_DIR, WeightsError
    from gesture_gym.metrics.evaluate import DIRECTIONS, evaluate
    from gesture_gym.metrics.fgd import DEFAULT_EXTRACTOR, FGDExtractor

    generated = load_samples(args.generated, args.protocol, args.fps)
    reference = load_samples(args.reference, args.protocol, args.fps)
    truth = None
    if args.paired:
        by_name = {Path(s.name).name: s for s in reference}
        missing = [Path(s.name).name for s in generated if Path(s.name).name not in by_name]
        if missing:
            raise ValueError(f"--paired: no reference file for {missing[:5]} in {args.reference}")
        truth = [by_name[Path(s.name).name] for s in generated]
    extractor = None
    if args.protocol == "beat" and (args.extractor or args.extractor_folder):
        name, folder = args.extractor or DEFAULT_EXTRACTOR, args.extractor_folder or ASSETS_DIR
        try:
            extractor = FGDExtractor.load(name, folder)
        except WeightsError as e:
            raise ValueError(str(e)) from None
    scores = evaluate(generated, reference, args.protocol, ground_truth=truth, extractor=extractor)
    table = pd.DataFrame(
        {"value": list(scores.values()), "better": [DIRECTIONS[k] or "near GT" for k in scores]},
        index=pd.Index(list(scores), name="metric"),
    )
    print(f"{len(generated)} generated clips vs {len(reference)} reference clips ({args.protocol})")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    out = Path(args.out)
    atomic_write(out.with_suffix(".csv"), lambda tmp: table.to_csv(tmp))
    atomic_write(out.with_suffix(".md"), lambda tmp: tmp.write_text(markdown_table(table)))
    print(f"wrote {out.with_suffix('.csv')} and {out.with_suffix('.md')}")
    return 0


def _train_extractor(args: argparse.Namespace) -> int:
    from gesture_gym.assets import sha256_file
    from gesture_gym.data import ProceduralCorpus, load_corpus
    from gesture_gym.metrics.fgd import ExtractorConfig, train_extractor

    corpus = load_corpus(args.dataset, args.split, seed=args.seed, n_clips=args.n_clips)
    clips = [c for c in corpus if c.motion is not None]
    if not clips:
        raise ValueError(f"{args.dataset} ({args.split}): no clips with motion to train on")
    fps = clips[0].fps
    if any(c.fps != fps for c in clips):
        raise ValueError(f"{args.dataset}: clips at several frame rates; load it with one fps")
    config = ExtractorConfig(
        n_joints=clips[0].motion.shape[1],
        fps=fps,
        window=args.window,
        latent=args.latent,
        steps=args.steps,
        seed=args.train_seed,
    )
    extractor = train_extractor([c.motion for c in clips], fps, config, progress=True)
    folder = args.folder or cache_dir("extractors")
    command = shlex.join(
        [
            "gesture-gym",
            "metrics",
            "train-extractor",
            "--dataset",
            args.dataset,
            "--split",
            args.split,
        ]
        + ["--seed", str(args.seed), "--name", args.name, "--folder", str(folder)]
        + ["--window", str(args.window), "--latent", str(args.latent), "--steps", str(args.steps)]
        + ["--train-seed", str(args.train_seed)]
        + ([] if args.n_clips is None else ["--n-clips", str(args.n_clips)])
    )
    data = corpus.folder.parent.name if isinstance(corpus, ProceduralCorpus) else args.dataset
    source = f"{data} {args.split}: {len(clips)} clips at {fps:g} fps"
    path = extractor.save(args.name, command, Path(folder), source)
    print(f"{path}  sha256 {sha256_file(path)}")
    print(f"use it with: gesture-gym eval ... --extractor {args.name} --extractor-folder {folder}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from gesture_gym.metrics.evaluate import PROTOCOLS

    ev = sub.add_parser(
        "eval", help="score a folder of generated motion against a reference folder"
    )
    ev.add_argument(
        "generated", type=Path, help="folder of npz motion (audio or beat times beside)"
    )
    ev.add_argument("reference", type=Path, help="folder of real npz motion")
    ev.add_argument(
        "--protocol", choices=PROTOCOLS, default="aist", help="aist: dance; beat: co-speech"
    )
    ev.add_argument("--fps", type=float, default=None, help="frame rate of npz files without 'fps'")
    ev.add_argument(
        "--paired", action="store_true", help="same file names are targets: adds MAJE, MAD"
    )
    ev.add_argument(
        "--extractor", default=None, help="FGD extractor weights name (default: shipped)"
    )
    ev.add_argument(
        "--extractor-folder",
        type=Path,
        default=None,
        help="folder of the weights (default: shipped)",
    )
    ev.add_argument("--out", type=Path, default=Path("metrics"), help="writes OUT.csv and OUT.md")
    ev.set_defaults(func=_eval)

    metrics = sub.add_parser("metrics", help="metric tools")
    cmds = metrics.add_subparsers(dest="metrics_command", required=True)
    tr = cmds.add_parser("train-extractor", help="train the FGD feature extractor on a data set")
    tr.add_argument(
        "--dataset", required=True, help="speech-gesture, or <format>:<path> (e.g. beat2:/data)"
    )
    tr.add_argument("--split", default="train")
    tr.add_argument("--seed", type=int, default=0, help="corpus seed (embedded corpora)")
    tr.add_argument("--name", default="fgd-extractor", help="weights name")
    tr.add_argument("--folder", type=Path, default=None, help="where to write (default: the cache)")
    tr.add_argument("--window", type=int, default=32, help="frames per window")
    tr.add_argument("--latent", type=int, default=32, help="latent size")
    tr.add_argument("--steps", type=int, default=3000, help="training steps")
    tr.add_argument("--train-seed", type=int, default=0, help="initialisation and batches")
    tr.add_argument("--n-clips", type=int, default=None, help="only the first N clips")
    tr.set_defaults(func=_train_extractor)
