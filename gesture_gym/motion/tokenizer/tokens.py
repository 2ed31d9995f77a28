"""The token cache: every clip's token sequence, computed once per (tokenizer weights, clip).

Files live in ``cache_dir("tokens", <tokenizer sha256>)``, one ``.npy`` per clip named by a hash
of the clip id and its motion, so new weights or a regenerated clip never read stale tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from gesture_gym.cache import atomic_write, cache_dir, content_hash
from gesture_gym.data.clip import Clip
from gesture_gym.motion.tokenizer.api import DanceTokenizer, Tokenizer, load_tokenizer

AnyTokenizer = Tokenizer | DanceTokenizer


def clip_tokens(tokenizer: AnyTokenizer, clip: Clip) -> np.ndarray:
    """Tokens of ``clip``'s motion (read from the cache, or encoded and cached)."""
    if clip.motion is None:
        raise ValueError(f"clip {clip.id}: no motion to tokenize")
    if abs(clip.fps - tokenizer.fps) > 1e-6 or clip.skeleton.name != tokenizer.skeleton.name:
        raise ValueError(
            f"clip {clip.id}: {clip.skeleton.name!r} at {clip.fps} fps, but tokenizer "
            f"{tokenizer.name!r} reads {tokenizer.skeleton.name!r} at {tokenizer.fps} fps"
        )
    key = content_hash(clip.id, np.ascontiguousarray(clip.motion).tobytes())
    path = cache_dir("tokens", tokenizer.sha256[:24]) / f"{key}.npy"
    if path.exists():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass  # a torn file is rebuilt
    tokens = tokenizer.encode(clip.motion)
    atomic_write(path, lambda tmp: np.save(tmp, tokens))
    return tokens


def tokenize_corpus(
    tokenizer: str | AnyTokenizer, corpus: str | Sequence[Clip], split: str = "train"
) -> dict[str, np.ndarray]:
    """Token sequences of every clip of a corpus split, by clip id (cached on disk).

    Args:
        tokenizer: a tokenizer, or the name of a shipped one ("music-dance" for the pair).
        corpus: a corpus name for ``load_corpus`` or a sequence of clips.
        split: the split to load when ``corpus`` is a name.
    """
    tok = load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
    if isinstance(corpus, str):
        from gesture_gym.data import load_corpus

        corpus = load_corpus(corpus, split)
    return {clip.id: clip_tokens(tok, clip) for clip in corpus}


def with_tokens(clip: Clip, tokenizer: AnyTokenizer) -> Clip:
    """``clip`` with ``tokens[tokenizer.name]`` filled in."""
    return dataclasses.replace(
        clip, tokens={**clip.tokens, tokenizer.name: clip_tokens(tokenizer, clip)}
    )
