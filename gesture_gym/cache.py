"""The on-disk cache: generated corpora, audio features, token sequences, converted data sets.

Location: $GESTURE_GYM_CACHE, else $XDG_CACHE_HOME/gesture-gym, else ~/.cache/gesture-gym.
Everything in it can be rebuilt; writes are atomic so an interrupted run never leaves a torn file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    root = os.environ.get("GESTURE_GYM_CACHE")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "gesture-gym"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_hash(*chunks: bytes | str) -> str:
    """sha256 over the given chunks (file bytes, parameter strings), hex, 24 chars."""
    h = hashlib.sha256()
    for c in chunks:
        h.update(c.encode() if isinstance(c, str) else c)
        h.update(b"\0")
    return h.hexdigest()[:24]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
