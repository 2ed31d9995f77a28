"""Shared fixtures. Tests share the user's corpus cache (generation is deterministic, so a cached
clip equals a generated one); tests of caching itself use a private cache folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# librosa's numba kernels are compiled with cache=True into site-packages; two pytest-xdist
# workers compiling them at once in a fresh virtualenv race on those files and can crash. Each
# worker gets its own numba cache folder (set before anything imports numba).
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"gesture-gym-numba-{worker}")
    )


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A fresh, empty cache folder for this test only."""
    monkeypatch.setenv("GESTURE_GYM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
