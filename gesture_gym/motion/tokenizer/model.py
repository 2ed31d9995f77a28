"""The VQ-VAE after RACER's tables: a 1-D conv encoder with dilated residual blocks and strided
downsampling, an EMA vector quantiser with dead-code reset, and a causal mirrored decoder.

The decoder is causal (every conv is left-padded, upsampling is nearest-neighbour followed by a
causal conv) so the frames of token t depend on tokens <= t only. That lets a
``StreamingDecoder`` decode one token per step from cached activations, fast-WaveNet style: each
causal conv keeps the last ``(k - 1) * dilation`` inputs it consumed (an upsampling conv, in its
polyphase form, one low-rate frame), and a step computes only the new frames of each layer
(:mod:`~gesture_gym.motion.tokenizer.streaming`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TokenizerConfig:
    """Everything that defines a tokenizer's architecture and data (JSON round-trip).

    Attributes:
        name: the tokenizer's name (shipped: "speech-gesture-upper", "music-dance-upper", ...).
        skeleton: name of the skeleton it reads motion of.
        part: body-part group of that skeleton ("upper", "lower", "full").
        fps: motion frame rate it was trained at.
        downsample: frames per token (a power of two; 8 as RACER and Bailando, 4 for a variant).
        codebook_size: K, the number of codes (the action space's size).
        code_dim: width of a code vector.
        width: channels of the encoder's conv layers and of the decoder's token-rate level.
        decoder_taper: the decoder's width is divided by this at each x2 upsampling (level l has
            ``round(width / decoder_taper ** l)`` channels). 2 halves it per level, as HiFi-GAN's
            generator does: the high-rate levels run most frames, so tapering cuts a streaming
            step's work while the token-rate level keeps the full width.
        depth: residual blocks per resolution level; block i has dilation dilations[i % len].
        dilations: dilation cycle of the residual blocks (the decoder uses it reversed).
        commitment: weight of the commitment loss ||z_e - sg(z_q)||^2.
        ema_decay: decay of the codebook's exponential moving averages.
        dead_code_threshold: a code whose EMA share of assignments falls below this fraction of
            a uniform share (1/K) is re-seeded from the batch's encoder outputs.
        velocity_weight: weight of the L1 loss on velocities (frame differences). Frame
            differences are about 10x smaller than positions in normalised units; 10 puts them on
            a par, which keeps the timing of speed minima (kinematic beats).
        acceleration_weight: weight of the L1 loss on accelerations.
        canonical_yaw: features in the body frame (pelvis facing +z; needs hip joints).
        root: what the part carries of the root: "none", "position" (world position) or
            "trajectory" (body-frame velocity, yaw rate, height: decoded motion travels, turns).
        seed: seed of initialisation and training.
    """

    name: str
    skeleton: str
    part: str
    fps: float
    downsample: int = 8
    codebook_size: int = 512
    code_dim: int = 64
    width: int = 64
    decoder_taper: float = 1.0
    depth: int = 3
    dilations: tuple[int, ...] = (1, 3, 9)
    commitment: float = 0.1
    ema_decay: float = 0.99
    dead_code_threshold: float = 0.05
    velocity_weight: float = 10.0
    acceleration_weight: float = 10.0
    canonical_yaw: bool = False
    root: str = "none"
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        ds = self.downsample
        if ds < 2 or ds & (ds - 1):
            raise ValueError(
                f"tokenizer {self.name!r}: downsample must be a power of two >= 2, got {ds}"
            )
        for key in ("codebook_size", "code_dim", "width", "depth", "decoder_taper"):
            if getattr(self, key) < 1:
                raise ValueError(f"tokenizer {self.name!r}: {key} must be >= 1")
        if min(self.decoder_widths()) < 1:
            raise ValueError(
                f"tokenizer {self.name!r}: width {self.width} tapered by {self.decoder_taper} "
                f"leaves a decoder level without channels: {self.decoder_widths()}"
            )
        if not self.dilations or min(self.dilations) < 1:
            raise ValueError(
                f"tokenizer {self.name!r}: dilations must be positive, got {self.dilations}"
            )
        if not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"tokenizer {self.name!r}: ema_decay must be in (0, 1)")

    @property
    def levels(self) -> int:
        return int(math.log2(self.downsample))

    def decoder_widths(self) -> tuple[int, ...]:
        """Channels of each decoder level, token rate first."""
        return tuple(round(self.width / self.decoder_taper**level) for level in range(self.levels))

    def block_dilations(self) -> tuple[int, ...]:
        return tuple(self.dilations[i % len(self.dilations)] for i in range(self.depth))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TokenizerConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown tokenizer config fields: {sorted(unknown)}")
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TokenizerConfig:
        return cls.from_dict(json.loads(text))


class CausalConv(nn.Conv1d):
    """A conv whose output at t sees inputs <= t (left zero padding of (k - 1) * dilation).

    ``stream_weights`` lays it out for :mod:`~gesture_gym.motion.tokenizer.streaming`, which keeps
    its last ``span`` inputs and applies one matrix per tap.
    """

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int = 1) -> None:
        super().__init__(cin, cout, kernel, dilation=dilation)
        self.span = (kernel - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return super().forward(F.pad(x, (self.span, 0)))

    def stream_weights(self) -> list[torch.Tensor]:
        """The bias, then one (C_in, C_out) matrix per tap, oldest first."""
        w = self.weight.detach()
        return [self.bias.detach()] + [w[:, :, j].T.contiguous() for j in range(w.shape[2])]


class Upsample(CausalConv):
    """x2 nearest-neighbour upsampling then a causal k3 conv (the causal TransConv of RACER).

    Streaming uses its polyphase form at the low rate: with x[i] repeated twice, output 2i is
    (W0 + W1) x[i-1] + W2 x[i] and output 2i+1 is W0 x[i-1] + (W1 + W2) x[i], so a step needs
    one cached low-rate frame and two matmuls, and never builds the repeated frames.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.repeat_interleave(x, 2, dim=-1))

    def stream_weights(
        self, matrix: torch.Tensor | None = None, shift: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """Bias and polyphase matrices, with ``y @ matrix + shift`` of the output y folded in
        (C_out then becomes matrix's columns)."""
        bias, w0, w1, w2 = super().stream_weights()
        if matrix is not None and shift is not None:
            w0, w1, w2 = (w @ matrix for w in (w0, w1, w2))
            bias = bias @ matrix + shift
        return [bias.repeat(2), torch.cat([w0 + w1, w0], 1), torch.cat([w2, w1 + w2], 1)]


class ResBlock(nn.Module):
    """RACER's residual block: x + Conv1x1(ReLU(Conv_k3,d(ReLU(x)))); causal or centred."""

    def __init__(self, width: int, dilation: int, causal: bool) -> None:
        super().__init__()
        if causal:
            self.conv: nn.Conv1d = CausalConv(width, width, 3, dilation)
        else:
            self.conv = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation)
        self.proj = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.proj(F.relu(self.conv(F.relu(x))))


class Encoder(nn.Module):
    """[Conv(k4, s2) -> residual blocks] x levels -> Conv(k3) to code_dim (RACER's encoder)."""

    def __init__(self, cfg: TokenizerConfig, channels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = channels
        for _ in range(cfg.levels):
            layers.append(nn.Conv1d(cin, cfg.width, 4, stride=2, padding=1))
            layers.extend(ResBlock(cfg.width, d, causal=False) for d in cfg.block_dilations())
            cin = cfg.width
        layers.append(nn.Conv1d(cfg.width, cfg.code_dim, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, D, T / ds)
        return self.net(x)


class CausalDecoder(nn.Module):
    """Mirror of the encoder: CausalConv(k3) -> [blocks (dilations reversed) -> x2 up] x levels.

    Level l has ``cfg.decoder_widths()[l]`` channels; each up layer maps to the next level's
    width, the last to the feature channels, as RACER's last transposed conv does.
    """

    def __init__(self, cfg: TokenizerConfig, channels: int) -> None:
        super().__init__()
        widths = cfg.decoder_widths()
        self.inp = CausalConv(cfg.code_dim, widths[0], 3)
        self.blocks = nn.ModuleList()
        self.ups = nn.ModuleList()
        dil = tuple(reversed(cfg.block_dilations()))
        for width, out in zip(widths, widths[1:] + (channels,), strict=True):
            self.blocks.append(nn.ModuleList(ResBlock(width, d, causal=True) for d in dil))
            self.ups.append(Upsample(width, out))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:  # (B, D, N) -> (B, C, N * ds)
        h = self.inp(codes)
        for blocks, up in zip(self.blocks, self.ups, strict=True):
            for block in blocks:
                h = block(h)
            h = up(h)
        return h

    def receptive_field(self, downsample: int) -> int:
        """Frames of the past an output frame depends on (what a training window must exceed)."""
        frames, rate = self.inp.span * downsample, downsample  # rate: frames per element
        for blocks, up in zip(self.blocks, self.ups, strict=True):
            frames += sum(b.conv.span for b in blocks) * rate
            rate //= 2
            frames += up.span * rate
        return frames

    def causal_convs(self) -> list[CausalConv]:
        """Every causal conv in the order a step runs them (one cache each)."""
        convs = [self.inp]
        for blocks, up in zip(self.blocks, self.ups, strict=True):
            convs.extend(block.conv for block in blocks)
            convs.append(up)
        return convs


class EMAQuantizer(nn.Module):
    """Nearest-code quantiser whose codebook follows EMAs of the encoder outputs assigned to it.

    Codes are initialised from the first batch's encoder outputs; a code whose EMA assignment
    count falls below ``threshold`` x the uniform share is re-seeded from a random encoder output
    of the batch (Jukebox / T2M-GPT's "ema_reset"), so few codes stay dead.
    """

    def __init__(self, size: int, dim: int, decay: float, threshold: float) -> None:
        super().__init__()
        self.size, self.dim, self.decay, self.threshold = size, dim, decay, threshold
        self.register_buffer("codebook", torch.zeros(size, dim))
        self.register_buffer("cluster_size", torch.zeros(size))
        self.register_buffer("embed_sum", torch.zeros(size, dim))
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """(M, D) -> (M,) int64 index of the nearest code."""
        dist = (
            z.pow(2).sum(1, keepdim=True)
            - 2 * z @ self.codebook.T
            + self.codebook.pow(2).sum(1)[None, :]
        )
        return dist.argmin(dim=1)

    def forward(
        self, z: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(M, D) encoder outputs -> straight-through quantised (M, D), indices, commitment loss.

        In training mode the codebook is updated (EMA, dead-code reset) from this batch.
        """
        if self.training and not self.initialised:
            self.initialise(z.detach(), generator)
        idx = self.nearest(z.detach())
        zq = self.codebook[idx]
        commit = F.mse_loss(z, zq)
        if self.training:
            self.update(z.detach(), idx, generator)
        return z + (zq - z).detach(), idx, commit

    @torch.no_grad()
    def initialise(self, z: torch.Tensor, generator: torch.Generator | None) -> None:
        share = z.shape[0] / self.size  # assignments per code if usage were uniform
        pick = z[torch.randint(z.shape[0], (self.size,), generator=generator)]
        self.codebook.copy_(pick)
        self.cluster_size.fill_(share)
        self.embed_sum.copy_(pick * share)
        self.initialised.fill_(True)

    @torch.no_grad()
    def update(self, z: torch.Tensor, idx: torch.Tensor, generator: torch.Generator | None) -> None:
        """EMA step towards the batch's assignments ``idx``, then re-seed dead codes."""
        m = z.shape[0]
        share = m / self.size
        counts = torch.bincount(idx, minlength=self.size).to(z.dtype)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, idx, z)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + 1e-5) / (n + self.size * 1e-5) * n  # Laplace smoothing
        self.codebook.copy_(self.embed_sum / smoothed[:, None])
        dead = self.cluster_size < self.threshold * share
        n_dead = int(dead.sum())
        if n_dead:
            fresh = z[torch.randint(m, (n_dead,), generator=generator)]
            self.codebook[dead] = fresh
            self.embed_sum[dead] = fresh * share
            self.cluster_size[dead] = share


class VQVAE(nn.Module):
    """Normalisation + encoder + quantiser + causal decoder over (B, T, C) feature sequences.

    ``mean``/``std`` (per feature channel) and ``root_offset`` are buffers, so the input
    normalisation is saved with the weights.
    """

    def __init__(self, cfg: TokenizerConfig, channels: int) -> None:
        super().__init__()
        self.cfg, self.channels = cfg, channels
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))
        self.register_buffer("root_offset", torch.zeros(3))
        self.encoder = Encoder(cfg, channels)
        self.quantizer = EMAQuantizer(
            cfg.codebook_size, cfg.code_dim, cfg.ema_decay, cfg.dead_code_threshold
        )
        self.decoder = CausalDecoder(cfg, channels)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, C) raw features -> (B, T // ds) int64 tokens (T cropped to a multiple of ds)."""
        z = self._latents(features)
        b, n, d = z.shape
        return self.quantizer.nearest(z.reshape(-1, d)).view(b, n)

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N) int64 -> (B, N * ds, C) raw features."""
        codes = self.quantizer.codebook[tokens]  # (B, N, D)
        return self._denormalise(self.decoder(codes.transpose(1, 2)).transpose(1, 2))

    def forward(
        self, features: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Training pass on (B, T, C) raw features: losses (normalised units) and tokens."""
        x = self._normalise(features)
        ds = self.cfg.downsample
        x = x[:, : x.shape[1] // ds * ds]
        z = self.encoder(x.transpose(1, 2)).transpose(1, 2)
        b, n, d = z.shape
        zq, idx, commit = self.quantizer(z.reshape(-1, d), generator)
        recon = self.decoder(zq.view(b, n, d).transpose(1, 2)).transpose(1, 2)
        rec = reconstruction_loss(recon, x, self.cfg.velocity_weight, self.cfg.acceleration_weight)
        return {
            "loss": rec + self.cfg.commitment * commit,
            "recon": rec,
            "commit": commit,
            "tokens": idx.view(b, n),
        }

    def _latents(self, features: torch.Tensor) -> torch.Tensor:
        ds = self.cfg.downsample
        x = self._normalise(features)[:, : features.shape[1] // ds * ds]
        return self.encoder(x.transpose(1, 2)).transpose(1, 2)

    def _normalise(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.std

    def _denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


def reconstruction_loss(
    recon: torch.Tensor, target: torch.Tensor, velocity: float = 1.0, acceleration: float = 1.0
) -> torch.Tensor:
    """L1 on positions, velocities and accelerations (RACER), over (B, T, C)."""
    loss = F.l1_loss(recon, target)
    for weight in (velocity, acceleration):
        recon, target = recon.diff(dim=1), target.diff(dim=1)
        loss = loss + weight * F.l1_loss(recon, target)
    return loss
