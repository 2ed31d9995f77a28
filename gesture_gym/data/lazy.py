"""A lazy, disk-cached sequence of clips: what the procedural corpora and the data set readers share.

Clip i is made (generated, or converted from a data set's files) the first time it is read and
written to its cache file ``path(i)``, so opening a corpus touches no clip and a second open reads
files instead of making them again. The most recently read clips stay in memory, since an
environment re-reads its clips often. A subclass says what its clips are (``items``), how each is
named and cached, and how to make one.
"""

from __future__ import annotations

import copy
import operator
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Self, overload

from gesture_gym.data.clip import Clip
from gesture_gym.data.clip_io import ClipFileError, load_clip, save_clip


class LazyClips(Sequence[Clip]):
    """Clips made on first access and cached on disk; slicing gives a lazy view.

    Args:
        label: "<corpus or format>/<split>", the prefix of every clip id.
        items: one entry per clip (an index, a source description...), read by the subclass.
    """

    MEMORY_CLIPS = 16  # recently read clips kept in memory

    def __init__(self, label: str, items: Sequence[Any]):
        self.label = label
        self.items = items
        self._memory: OrderedDict[int, Clip] = OrderedDict()

    @abstractmethod
    def clip_name(self, i: int) -> str:
        """The name of clip i, unique in this sequence (the last part of its id)."""

    @abstractmethod
    def path(self, i: int) -> Path:
        """The cache file of clip i."""

    @abstractmethod
    def make(self, i: int) -> Clip:
        """Make clip i from scratch, without touching the cache."""

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, i: int) -> Clip: ...
    @overload
    def __getitem__(self, i: slice) -> Self: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            view = copy.copy(self)
            view.items, view._memory = self.items[i], OrderedDict()
            return view
        n, i = len(self), operator.index(i)
        if not -n <= i < n:
            raise IndexError(f"{self.label} has {n} clips; index {i}")
        i %= n
        clip = self._memory.pop(i, None) or self._read_or_make(i)
        self._memory[i] = clip
        if len(self._memory) > self.MEMORY_CLIPS:
            self._memory.popitem(last=False)
        return clip

    def __iter__(self) -> Iterator[Clip]:
        """Every clip in order, with a progress bar while clips still have to be made."""
        from tqdm import tqdm

        todo = set(self.missing())
        with tqdm(total=len(todo), desc=self.label, disable=not todo) as bar:
            for i in range(len(self)):
                yield self[i]
                if i in todo:
                    bar.update()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_memory": OrderedDict()}  # a worker process needs no clips

    def clip_id(self, i: int) -> str:
        return f"{self.label}/{self.clip_name(i)}"

    def index_of(self, clip_id: str) -> int:
        """Index of a clip by id ("<label>/<name>") or bare name, without making any clip."""
        name = clip_id.removeprefix(f"{self.label}/")
        for i in range(len(self)):
            if self.clip_name(i) == name:
                return i
        raise KeyError(f"{self.label} has no clip {clip_id!r}")

    def missing(self) -> list[int]:
        """Indices of the clips not cached yet."""
        return [i for i in range(len(self)) if not self.path(i).exists()]

    def build(self, workers: int = 1, progress: bool = True) -> int:
        """Make and cache every missing clip, in ``workers`` processes; returns how many."""
        from tqdm import tqdm

        todo = self.missing()
        with tqdm(total=len(todo), desc=self.label, disable=not progress or not todo) as bar:
            if workers <= 1 or len(todo) < 4:
                for i in todo:
                    self._make_and_save(i)
                    bar.update()
            else:
                # compile librosa's numba kernels once here: forked workers inherit them instead
                # of compiling them at the same time (which races on numba's on-disk cache)
                from gesture_gym.audio import warmup

                warmup()
                with ProcessPoolExecutor(workers) as pool:
                    for _ in pool.map(self._make_and_save, todo):
                        bar.update()
        return len(todo)

    def _make_and_save(self, i: int) -> None:
        save_clip(self.path(i), self.make(i))

    def _read_or_make(self, i: int) -> Clip:
        path = self.path(i)
        if path.exists():
            try:
                return load_clip(path)
            except ClipFileError:
                pass  # a torn or stale cache entry is made again below
        clip = self.make(i)
        save_clip(path, clip)
        return clip
