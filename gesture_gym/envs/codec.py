"""The env's view of a motion tokenizer: action space, codebook vectors and streaming decoding.

One interface over a single-codebook :class:`Tokenizer` (actions ``Discrete(K)``) and Bailando's
upper + lower :class:`DanceTokenizer` (actions ``MultiDiscrete([K_upper, K_lower])``), so the
batched core never branches on the kind of tokenizer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from gymnasium import spaces

from gesture_gym.data.clip import Clip
from gesture_gym.motion.skeleton import Skeleton
from gesture_gym.motion.tokenizer import DanceTokenizer, Tokenizer, clip_tokens, load_tokenizer

AnyTokenizer = Tokenizer | DanceTokenizer


@lru_cache(maxsize=8)
def _shipped(name: str) -> AnyTokenizer:
    """Shipped tokenizers are loaded once per process (envs of a vector or a test share them)."""
    return load_tokenizer(name)


class Codec:
    """Tokens <-> motion for one env kind.

    Attributes:
        tokenizer: the wrapped tokenizer.
        sizes: codebook size of each body part (one entry, or [upper, lower] for dance).
        frames_per_token: motion frames decoded per step.
        fps: motion frame rate.
        skeleton: the skeleton of decoded motion (the clips' skeleton, or the part's subset).
        joints: indices of the decoded joints in the clips' skeleton (to cut ground truth).
        action_space: ``Discrete(K)`` or ``MultiDiscrete([K_upper, K_lower])``.
    """

    def __init__(self, tokenizer: str | AnyTokenizer) -> None:
        tok = _shipped(tokenizer) if isinstance(tokenizer, str) else tokenizer
        self.tokenizer = tok
        self.name = tok.name
        self.frames_per_token = int(tok.frames_per_token)
        self.fps = float(tok.fps)
        self.source_skeleton: Skeleton = tok.skeleton
        if isinstance(tok, DanceTokenizer):
            self._parts: tuple[Tokenizer, ...] = (tok.upper, tok.lower)
            self.joints = tuple(range(tok.skeleton.n_joints))
        else:
            self._parts = (tok,)
            self.joints = tuple(tok.joints)
        self.sizes = tuple(int(p.codebook_size) for p in self._parts)
        if len(self.joints) == self.source_skeleton.n_joints:
            self.skeleton = self.source_skeleton
        else:
            names = [self.source_skeleton.joint_names[j] for j in self.joints]
            self.skeleton = self.source_skeleton.subset(
                f"{self.source_skeleton.name}-{self.name}", names
            )
        if len(self.sizes) == 1:
            self.action_space: spaces.Space = spaces.Discrete(self.sizes[0])
        else:
            self.action_space = spaces.MultiDiscrete(np.array(self.sizes, dtype=np.int64))

    @property
    def n_parts(self) -> int:
        return len(self.sizes)

    @property
    def token_shape(self) -> tuple[int, ...]:
        """Shape of one step's token(s): () or (P,)."""
        return () if self.n_parts == 1 else (self.n_parts,)

    def codebooks(self) -> list[np.ndarray]:
        """The (K_p, C_p) code vectors of each part."""
        return [p.codebook for p in self._parts]

    def tokens_of(self, clip: Clip) -> np.ndarray:
        """Ground-truth tokens of a clip, (N,) or (N, P) int64 (cached on disk by the tokenizer)."""
        return np.asarray(clip_tokens(self.tokenizer, clip), dtype=np.int64)

    def streaming_decoder(self, batch_size: int):
        """A decoder with ``step(tokens (B,) or (B, P)) -> (B, fpt, J, 3)`` and ``reset(indices)``."""
        return self.tokenizer.streaming_decoder(batch_size)

    def check_clip(self, clip: Clip) -> None:
        """Raise ValueError if a clip's motion cannot be read by this tokenizer."""
        if abs(clip.fps - self.fps) > 1e-6:
            raise ValueError(
                f"clip {clip.id}: {clip.fps} fps, but tokenizer {self.name!r} runs at {self.fps} fps"
            )
        if clip.motion is not None and clip.skeleton.name != self.source_skeleton.name:
            raise ValueError(
                f"clip {clip.id}: skeleton {clip.skeleton.name!r}, but tokenizer {self.name!r} "
                f"reads {self.source_skeleton.name!r}"
            )
