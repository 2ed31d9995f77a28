"""Readers for real data sets, each producing the same Clip type as the procedural corpora.

``READERS`` maps a format name to ``reader(path, split, *, fps=None) -> ConvertedDataset``;
``load_corpus("<format>:<path>", split)`` dispatches through it. A ``ConvertedDataset`` is lazy
(``gesture_gym.data.lazy.LazyClips``): clips are converted on first access and cached on disk by
content hash, so a second open of the same data set is fast. Each module's docstring gives its layout.
"""

from __future__ import annotations

from collections.abc import Callable

from gesture_gym.data.readers.aistpp import UnsafePickleError, read_aistpp, safe_load_pickle
from gesture_gym.data.readers.beat2 import read_beat2
from gesture_gym.data.readers.bvh import read_bvh, read_bvh_dataset
from gesture_gym.data.readers.common import (
    LENGTH_TOLERANCE,
    ConvertedDataset,
    DatasetError,
    LengthMismatchWarning,
)
from gesture_gym.data.readers.folder import read_folder
from gesture_gym.data.readers.pats import read_pats

READERS: dict[str, Callable[..., ConvertedDataset]] = {
    "beat2": read_beat2,
    "aistpp": read_aistpp,
    "bvh": read_bvh_dataset,
    "pats": read_pats,
    "folder": read_folder,
}


__all__ = [
    "LENGTH_TOLERANCE",
    "READERS",
    "ConvertedDataset",
    "DatasetError",
    "LengthMismatchWarning",
    "UnsafePickleError",
    "read_aistpp",
    "read_beat2",
    "read_bvh",
    "read_bvh_dataset",
    "read_folder",
    "read_pats",
    "safe_load_pickle",
]
