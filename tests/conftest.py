"""Shared fixtures. Tests share the user's corpus cache (generation is deterministic, so a cached
clip equals a generated one); tests of caching itself use a private cache folder."""

from __future__ import annotations

import pytest


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A fresh, empty cache folder for this test only."""
    monkeypatch.setenv("GESTURE_GYM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
