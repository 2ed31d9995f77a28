"""Tokenizers as the environments use them: encode motion to tokens, decode tokens (whole
sequences or one step at a time for a batch of envs), load and save shipped weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from gesture_gym.assets import ASSETS_DIR, load_weights, read_manifest, save_weights
from gesture_gym.cache import content_hash
from gesture_gym.motion.skeleton import Skeleton, get_skeleton
from gesture_gym.motion.tokenizer.model import VQVAE, TokenizerConfig
from gesture_gym.motion.tokenizer.representation import MotionRepresentation, RootState
from gesture_gym.motion.tokenizer.streaming import DecoderStream, stream_signature


def make_representation(config: TokenizerConfig, skeleton: Skeleton) -> MotionRepresentation:
    return MotionRepresentation(
        skeleton, config.part, config.fps, config.canonical_yaw, config.root
    )


SHIPPED = ("speech-gesture-upper", "music-dance-upper", "music-dance-lower", "music-dance-full")


class Tokenizer:
    """One body part's VQ-VAE with its input representation.

    Attributes:
        config: the TokenizerConfig.
        skeleton: the full skeleton whose motion ``encode`` reads.
        joints: indices (into ``skeleton``) of the part's joints, the order ``decode`` returns.
        representation: motion <-> features of the part.
        sha256: hash of the weights (the manifest's when loaded), keys the token cache.
    """

    def __init__(self, model: VQVAE, skeleton: Skeleton, sha256: str | None = None) -> None:
        self.model = model.eval()
        self.config: TokenizerConfig = model.cfg
        self.skeleton = skeleton
        self.representation = make_representation(self.config, skeleton)
        if self.representation.channels != model.channels:
            raise ValueError(
                f"tokenizer {self.config.name!r}: model has {model.channels} feature channels, "
                f"part {self.config.part!r} of {skeleton.name!r} needs "
                f"{self.representation.channels}"
            )
        self.joints = self.representation.joints
        self.sha256 = sha256 or content_hash(
            self.config.to_json(), *(t.numpy().tobytes() for t in model.state_dict().values())
        )

    @classmethod
    def create(cls, config: TokenizerConfig, skeleton: Skeleton | None = None) -> Tokenizer:
        """An untrained tokenizer (seeded initialisation) for ``config``."""
        skeleton = skeleton or get_skeleton(config.skeleton)
        torch.manual_seed(config.seed)
        return cls(VQVAE(config, make_representation(config, skeleton).channels), skeleton)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def fps(self) -> float:
        return self.config.fps

    @property
    def frames_per_token(self) -> int:
        return self.config.downsample

    @property
    def codebook_size(self) -> int:
        return self.config.codebook_size

    @property
    def codebook(self) -> np.ndarray:
        """(K, code_dim) float32 code vectors (a copy)."""
        return self.model.quantizer.codebook.detach().numpy().astype(np.float32, copy=True)

    # --- whole sequences -------------------------------------------------------------------
    def features(self, motion: np.ndarray, what: str = "motion") -> np.ndarray:
        """(T, J, 3) -> (T, C) raw features, checked (joint count, NaNs, enough frames)."""
        f = self.representation.features(motion, what)
        if len(f) < self.frames_per_token:
            raise ValueError(
                f"{what}: {len(f)} frames, fewer than one token ({self.frames_per_token} frames)"
            )
        return f

    def encode(self, motion: np.ndarray) -> np.ndarray:
        """(T, J_skeleton, 3) positions -> (T // frames_per_token,) int64 tokens."""
        return self.encode_features(self.features(motion))

    def encode_features(self, features: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model.encode(torch.from_numpy(features)[None])[0].numpy()

    def decode_features(self, tokens: np.ndarray) -> np.ndarray:
        """(N,) or (B, N) tokens -> (..., N * ds, C) raw features."""
        t = self._check_tokens(tokens)
        with torch.inference_mode():
            out = self.model.decode(torch.from_numpy(t.reshape(-1, t.shape[-1])))
        return out.numpy().reshape(t.shape[:-1] + out.shape[1:])

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        """(N,) or (B, N) tokens -> (..., N * ds, J_part, 3) float32 positions.

        With root mode "trajectory" the motion travels and turns from the origin, facing +z;
        with "position" it is where the decoded root puts it; with "none" it is root-relative,
        placed at the training data's mean root position.
        """
        f = self.decode_features(tokens)
        lead = f.shape[:-2]
        f = f.reshape((-1,) + f.shape[-2:])
        out = self.features_to_motion(f, RootState(len(f)))
        return out.reshape(lead + out.shape[1:])

    def features_to_motion(self, features: np.ndarray, root: RootState) -> np.ndarray:
        """(B, T, C) raw features -> (B, T, J_part, 3) positions (advancing ``root``)."""
        rep = self.representation
        body = rep.body(features)
        if rep.root == "trajectory":
            return root.place(body, rep.root_channels(features), rep.fps)
        if rep.root == "position":
            return body + rep.root_channels(features)[..., None, :]
        return body + self.model.root_offset.numpy()

    def linear_positions(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(A, c) with flattened positions = features @ A + c (features_to_motion's map), or None
        for root mode "trajectory", which integrates the root."""
        if self.representation.root == "trajectory":
            return None
        n = self.model.channels
        basis = np.concatenate([np.zeros((1, n)), np.eye(n)]).astype(np.float32)[None]
        positions = self.features_to_motion(basis, RootState(1))[0].reshape(n + 1, -1)
        return torch.from_numpy(positions[1:] - positions[0]), torch.from_numpy(positions[0])

    def _check_tokens(self, tokens: np.ndarray) -> np.ndarray:
        t = np.asarray(tokens)
        if t.ndim not in (1, 2) or t.shape[-1] == 0 or not np.issubdtype(t.dtype, np.integer):
            raise ValueError(f"tokens: expected (N,) or (B, N) integers, got {t.dtype} {t.shape}")
        if t.min() < 0 or t.max() >= self.codebook_size:
            raise ValueError(
                f"tokens: values must be in [0, {self.codebook_size}) for tokenizer "
                f"{self.config.name!r}, got [{t.min()}, {t.max()}]"
            )
        return t.astype(np.int64)

    def streaming_decoder(self, batch_size: int) -> StreamingDecoder:
        return StreamingDecoder(self, batch_size)

    # --- weights ------------------------------------------------------------------------------
    def save(self, name: str, folder: Path | str, command: str) -> Path:
        """Write safetensors + JSON config into ``folder`` and list them in its manifest."""
        config = {
            "tokenizer": {**self.config.to_dict(), "name": name},
            "skeleton": self.skeleton.to_dict(),
        }
        path = save_weights(name, self.model.state_dict(), config, command, Path(folder))
        self.sha256 = read_manifest(Path(folder))[name]["sha256"]
        return path

    @classmethod
    def load(cls, name: str, folder: Path | str | None = None) -> Tokenizer:
        """A saved tokenizer by name: shipped weights, or ``folder``'s (sha256-checked)."""
        folder = Path(folder) if folder is not None else ASSETS_DIR
        tensors, config = load_weights(name, folder)
        try:
            cfg = TokenizerConfig.from_dict(config["tokenizer"])
            skeleton = Skeleton.from_dict(config["skeleton"])
            model = VQVAE(cfg, make_representation(cfg, skeleton).channels)
            model.load_state_dict(tensors)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise ValueError(
                f"{folder / (name + '.json')}: not a tokenizer of this version ({e})"
            ) from None
        return cls(model, skeleton, sha256=read_manifest(folder)[name]["sha256"])


class _Streams:
    """What both streaming decoders share: their decoder ``streams`` for B envs, a step count
    per env (``steps``) and each body's position and facing (``root``)."""

    def __init__(self, streams: list[DecoderStream], batch_size: int) -> None:
        self.batch_size = int(batch_size)
        self.streams = streams
        self.steps = np.zeros(self.batch_size, dtype=np.int64)
        self.root = RootState(self.batch_size)

    @property
    def caches(self) -> list[torch.Tensor]:
        """Per stream and causal conv after the first (which reads tokens: ``first.history``),
        (G, span, B, C) views of the last inputs (G decoders stacked in the stream), valid until
        the next step."""
        return [buffer.cache for stream in self.streams for buffer in stream.buffers]

    def reset(self, env_indices: Sequence[int] | np.ndarray | None = None) -> None:
        """Start new episodes for ``env_indices`` (all envs when None); others are untouched."""
        idx = slice(None) if env_indices is None else np.asarray(env_indices, np.int64)
        for stream in self.streams:
            stream.reset(idx)
        self.steps[idx] = 0
        self.root.reset(idx)


class StreamingDecoder(_Streams):
    """Decodes one token per env per step for B envs, from cached activations.

    State (inspectable): ``caches[i]`` (1, span_i, B, C_i) holds the last inputs of the decoder's
    (i + 1)-th causal conv (env b's along axis 2; the first conv's are tokens); ``steps`` counts tokens since each env's reset;
    ``root`` holds each body's position and facing (root-motion tokenizers). A step computes only
    the new frames of each layer, so its cost does not depend on the episode's length, and
    stepping through a sequence gives the frames ``Tokenizer.decode`` gives for it.
    """

    def __init__(self, tokenizer: Tokenizer, batch_size: int) -> None:
        # features that map to positions linearly (all root modes but "trajectory") are mapped
        # by the decoder's last matmul: a step then needs no numpy work to assemble the body
        self.positions = tokenizer.linear_positions()
        stream = DecoderStream([tokenizer.model], int(batch_size), [self.positions])
        super().__init__([stream], batch_size)
        self.tokenizer = tokenizer

    def step(self, tokens: np.ndarray) -> np.ndarray:
        """(B,) tokens -> (B, frames_per_token, J_part, 3) float32 positions of this step."""
        t = self.tokenizer._check_tokens(np.asarray(tokens).reshape(-1))
        if t.shape != (self.batch_size,):
            raise ValueError(f"tokens: expected shape ({self.batch_size},), got {np.shape(tokens)}")
        (out,) = self.streams[0].step([t])
        self.steps += 1
        if self.positions is None:
            return self.tokenizer.features_to_motion(out, self.root)
        return out.reshape(out.shape[:2] + (-1, 3))


class DanceTokenizer:
    """Bailando's pair: an upper-body and a lower-body (with root motion) codebook over SMPL-24.

    Tokens are (N, 2) [upper, lower]; decoding gives all 24 joints, travelling and turning as the
    lower-body tokens' root channels say, with the upper body turned with the pelvis.
    """

    def __init__(self, upper: Tokenizer, lower: Tokenizer) -> None:
        if lower.config.root != "trajectory" or upper.config.root != "none":
            raise ValueError(
                "DanceTokenizer: the lower tokenizer carries the root motion, the upper not"
            )
        if (
            upper.skeleton.n_joints != lower.skeleton.n_joints
            or upper.frames_per_token != lower.frames_per_token
        ):
            raise ValueError(
                "DanceTokenizer: upper and lower tokenizers differ in skeleton or downsample"
            )
        if not upper.config.canonical_yaw:
            raise ValueError("DanceTokenizer: the upper tokenizer must work in the body frame")
        self.upper, self.lower = upper, lower
        self.skeleton = lower.skeleton
        parts = upper.representation.body_joints + lower.representation.body_joints + (0,)
        if sorted(parts) != list(range(self.skeleton.n_joints)):
            raise ValueError("DanceTokenizer: upper and lower parts must cover every joint once")
        # channel c of [upper points, lower points, 3 zeros (the root)] per output coordinate
        self._channels = np.array(
            [3 * parts.index(j) + k for j in range(self.skeleton.n_joints) for k in range(3)]
        )
        self.frames_per_token = lower.frames_per_token
        self.fps = lower.fps
        self.codebook_sizes = (upper.codebook_size, lower.codebook_size)
        self.sha256 = content_hash(upper.sha256, lower.sha256)
        self.name = "music-dance"

    @classmethod
    def load(
        cls,
        upper: str = "music-dance-upper",
        lower: str = "music-dance-lower",
        folder: Path | str | None = None,
    ) -> DanceTokenizer:
        return cls(Tokenizer.load(upper, folder), Tokenizer.load(lower, folder))

    def encode(self, motion: np.ndarray) -> np.ndarray:
        """(T, 24, 3) -> (T // ds, 2) int64 [upper, lower]."""
        return np.stack([self.upper.encode(motion), self.lower.encode(motion)], axis=-1)

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        """(N, 2) or (B, N, 2) -> (..., N * ds, 24, 3) absolute positions from the origin."""
        t = np.asarray(tokens)
        if t.ndim not in (2, 3) or t.shape[-1] != 2:
            raise ValueError(f"tokens: expected (N, 2) or (B, N, 2), got shape {t.shape}")
        fu = self.upper.decode_features(t[..., 0])
        fl = self.lower.decode_features(t[..., 1])
        lead = fu.shape[:-2]
        fu, fl = (f.reshape((-1,) + f.shape[-2:]) for f in (fu, fl))
        out = self.features_to_motion(fu, fl, RootState(len(fu)))
        return out.reshape(lead + out.shape[1:])

    def body(self, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """(B, T, C_u), (B, T, C_l) raw features -> (B, T, 24, 3) body frame, root at 0."""
        n_upper, n_lower = (3 * len(t.representation.body_joints) for t in (self.upper, self.lower))
        root = np.zeros(upper.shape[:-1] + (3,), np.float32)
        points = np.concatenate(
            [upper[..., :n_upper], lower[..., :n_lower], root], axis=-1, dtype=np.float32
        )
        return points.take(self._channels, axis=-1).reshape(upper.shape[:-1] + (-1, 3))

    def features_to_motion(
        self, upper: np.ndarray, lower: np.ndarray, root: RootState
    ) -> np.ndarray:
        """(B, T, C_u), (B, T, C_l) raw features -> (B, T, 24, 3) world positions."""
        rl = self.lower.representation
        return root.place(self.body(upper, lower), rl.root_channels(lower), rl.fps)

    def streaming_decoder(self, batch_size: int) -> DanceStreamingDecoder:
        return DanceStreamingDecoder(self, batch_size)


class DanceStreamingDecoder(_Streams):
    """Both parts' decoders plus one root state; step((B, 2)) -> (B, ds, 24, 3).

    The two decoders step as one stacked stream when they have the same shape (the shipped pair
    does), else as two. ``root`` is the lower part's, which places the whole body.
    """

    def __init__(self, dance: DanceTokenizer, batch_size: int) -> None:
        upper, lower = dance.upper.model, dance.lower.model
        if stream_signature(upper) == stream_signature(lower):
            streams = [DecoderStream([upper, lower], int(batch_size))]
        else:
            streams = [DecoderStream([m], int(batch_size)) for m in (upper, lower)]
        super().__init__(streams, batch_size)
        self.dance = dance

    def step(self, tokens: np.ndarray) -> np.ndarray:
        t = np.asarray(tokens)
        if t.ndim != 2 or t.shape != (self.batch_size, 2):
            raise ValueError(f"tokens: expected shape ({self.batch_size}, 2), got {t.shape}")
        parts = [self.dance.upper._check_tokens(t[:, 0]), self.dance.lower._check_tokens(t[:, 1])]
        if len(self.streams) == 1:
            features = self.streams[0].step(parts)
        else:
            features = [s.step([p])[0] for s, p in zip(self.streams, parts, strict=True)]
        self.steps += 1
        return self.dance.features_to_motion(*features, self.root)


def load_tokenizer(name: str, folder: Path | str | None = None) -> Tokenizer | DanceTokenizer:
    """A tokenizer by name; "music-dance" is the upper + lower pair."""
    if name == "music-dance":
        return DanceTokenizer.load(folder=folder)
    return Tokenizer.load(name, folder)
