"""Streaming decoding: G causal decoders of one shape (one tokenizer, or a dance's upper and lower
parts) advance B sequences by one token per step, fast-WaveNet style.

Every causal conv keeps its last ``span`` inputs in a :class:`StreamBuffer`, and a step computes
only the new frames of each layer, so its cost does not depend on how long the sequences are.
The G decoders' weights are stacked, so each tap of each layer is one batched matmul
(``torch.baddbmm``) for all of them: a dance's two codebooks cost one decoder's calls.

The first conv reads code vectors, which come from a codebook of K: each of its taps is a lookup
in a (K, C) table of codebook x tap matrix (:class:`TokenConv`), so it costs no matmul.

Activations are (G, n * B, C): n new frames of B sequences, frame-major.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gesture_gym.motion.tokenizer.model import VQVAE, CausalConv, CausalDecoder, Upsample


class StreamBuffer:
    """The recent inputs of one causal conv for G decoders and B sequences.

    A step writes its n new frames after the last ones and the conv reads each tap as a slice
    ending there, so only the new frames are copied (concatenating cache and input would copy
    the whole window every step). When the buffer is full its last ``span`` frames move to the
    front, once every ``capacity`` steps. The slot and tap slices of every write position are
    made once (slicing a tensor costs about a microsecond; a step would slice ~40 times).
    """

    def __init__(
        self,
        groups: int,
        span: int,
        frames: int,
        batch_size: int,
        channels: int,
        offsets: tuple[int, ...],
        capacity: int = 32,
    ) -> None:
        self.span, self.frames, self.batch_size = span, frames, batch_size
        self.offsets = offsets  # first frame each tap reads, from the window's start
        self.data = torch.zeros(groups, (span + frames * capacity) * batch_size, channels)
        self.end = span  # frames [end - span, end) are the cache
        self._views = self._make_views()

    def _frames(self, start: int, stop: int) -> torch.Tensor:
        return self.data[:, start * self.batch_size : stop * self.batch_size]

    def _make_views(self) -> dict[int, tuple[torch.Tensor, tuple[torch.Tensor, ...]]]:
        """Write position (``end`` before a push) -> the slot and the tap slices."""
        n, last = self.frames, self.data.shape[1] // self.batch_size
        views = {}
        for end in range(self.span, last - n + 1, n):
            start = end - self.span
            taps = tuple(self._frames(start + o, start + o + n) for o in self.offsets)
            views[end] = (self._frames(end, end + n), taps)
        return views

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_views"}  # views of data

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._views = self._make_views()

    @property
    def cache(self) -> torch.Tensor:
        """(G, span, B, C), a view: the inputs the next step still reads."""
        g, _, c = self.data.shape
        return self._frames(self.end - self.span, self.end).view(g, self.span, self.batch_size, c)

    def reset(self, sequences: np.ndarray | slice) -> None:
        """Zero the cache of ``sequences`` (a fresh start: causal convs pad with zeros)."""
        self.cache[:, :, sequences] = 0.0

    def push(self, x: torch.Tensor, relu: bool = False) -> tuple[torch.Tensor, ...]:
        """Append (G, frames * B, C), or its ReLU; returns the (G, frames * B, C) input of each
        tap."""
        if self.end not in self._views:  # full: the cache moves to the front
            self._frames(0, self.span).copy_(self._frames(self.end - self.span, self.end).clone())
            self.end = self.span
        slot, taps = self._views[self.end]
        self.end += self.frames
        if relu:
            torch.clamp_min(x, 0.0, out=slot)
        else:
            slot.copy_(x)
        return taps


@dataclass(frozen=True, eq=False)
class StreamConv:
    """One causal conv of the G decoders in streaming layout.

    Attributes:
        bias: (G, 1, C_out).
        taps: (G, C_in, C_out) matrices, oldest input first, ``dilation`` frames apart; for an
            upsampling conv the two polyphase matrices (previous frame, current frame) whose
            C_out = 2 C gives both output phases (see :class:`Upsample`).
        dilation: frames between taps.
        span: input frames kept between steps.
        upsample: a x2 upsampling conv.
        in_channels: C_in.
    """

    bias: torch.Tensor
    taps: tuple[torch.Tensor, ...]
    dilation: int
    span: int
    upsample: bool
    in_channels: int

    @property
    def offsets(self) -> tuple[int, ...]:
        """The first input frame of each tap, from the start of its window (cache + new)."""
        return tuple(j * self.dilation for j in range(len(self.taps)))

    def step(self, x: torch.Tensor, buffer: StreamBuffer, relu_input: bool = False) -> torch.Tensor:
        """(G, n * B, C_in) new frames (ReLU'd first when ``relu_input``) -> (G, n' * B, C_out),
        n' = 2n when upsampling."""
        inputs = buffer.push(x, relu_input)
        y = torch.baddbmm(self.bias, inputs[0], self.taps[0])
        for tap_input, tap in zip(inputs[1:], self.taps[1:], strict=True):
            y.baddbmm_(tap_input, tap)
        if self.upsample:
            n, b = buffer.frames, buffer.batch_size
            g, _, c2 = y.shape
            return y.view(g, n, b, 2, c2 // 2).transpose(2, 3).reshape(g, 2 * n * b, c2 // 2)
        return y


class TokenConv:
    """The decoders' first causal conv (over code vectors) as table lookups.

    Tap j of the conv applied to code k is row k of ``codebook @ W_j``, so a step sums one row
    per tap (one ``embedding_bag``), picked by the tokens of the last ``taps`` steps. The G
    decoders' tables are stacked, each decoder's K rows followed by a zero row: the input before
    a sequence starts (the conv pads with zeros). The bias is folded into the newest tap.
    """

    def __init__(self, models: Sequence[VQVAE], batch_size: int) -> None:
        tables, offsets, pads, rows = [], [], [], 0
        for m in models:
            bias, *taps = m.decoder.inp.stream_weights()
            codebook = m.quantizer.codebook.detach()
            table = torch.stack([codebook @ w for w in taps])  # (taps, K, C)
            table[-1] += bias
            tables.append(torch.nn.functional.pad(table, (0, 0, 0, 1)))  # the zero row
            offsets.append(rows)
            rows += table.shape[1] + 1
            pads.append(rows - 1)
        table = torch.cat(tables, dim=1)  # (taps, rows, C)
        self.taps, self.groups, self.batch_size = len(table), len(models), batch_size
        self.table = table.reshape(-1, table.shape[-1])  # tap j's rows follow tap j - 1's
        # each sequence's decoder's first table row: (G * B,), decoder-major
        self.first_rows = np.repeat(np.array(offsets), batch_size)
        self.pads = np.repeat(np.array(pads), batch_size)
        self.tap_rows = np.arange(self.taps) * rows  # where each tap's rows start
        # table rows of the last taps - 1 steps' tokens, oldest first: (G * B, taps - 1)
        self.history = np.repeat(self.pads[:, None], self.taps - 1, axis=1)
        # where each sequence's rows start in the flattened index (made once: embedding_bag
        # would build them from a 2-D index every step)
        self.bags = torch.arange(0, len(self.first_rows) * self.taps, self.taps)

    def reset(self, sequences: np.ndarray | slice) -> None:
        hist = self.history.reshape(self.groups, self.batch_size, -1)
        hist[:, sequences] = self.pads.reshape(self.groups, self.batch_size)[:, sequences, None]

    def step(self, tokens: Sequence[np.ndarray]) -> torch.Tensor:
        """One (B,) token array per decoder -> (G, B, C_out)."""
        rows = np.concatenate(tokens) + self.first_rows
        index = np.concatenate([self.history, rows[:, None]], axis=1) + self.tap_rows
        y = torch.nn.functional.embedding_bag(
            torch.from_numpy(index.ravel()), self.table, self.bags, mode="sum"
        )
        self.history[:, :-1] = self.history[:, 1:]
        self.history[:, -1] = rows
        return y.view(self.groups, self.batch_size, -1)


def _stack(mats: Sequence[torch.Tensor], width: int, phases: int) -> torch.Tensor:
    """Stack (..., phases * C_g) tensors on a new axis 0, zero-padding each phase's C_g to
    ``width`` (decoders of different output channels share the last layer)."""
    out = []
    for m in mats:
        split = m.reshape(m.shape[:-1] + (phases, -1))
        padded = torch.nn.functional.pad(split, (0, width - split.shape[-1]))
        out.append(padded.reshape(m.shape[:-1] + (-1,)))
    return torch.stack(out)


def stream_signature(model: VQVAE) -> tuple:
    """What decoders stacked in one stream must share (the output channels may differ)."""
    c = model.cfg
    return (c.code_dim, c.decoder_widths(), c.depth, c.dilations, c.downsample)


class DecoderStream:
    """The stacked decoders of ``models`` (one stream signature) stepping B sequences.

    State: ``first.history`` (the last tokens the first conv reads) and ``buffers`` (one per
    later causal conv, step order). The last layer has the denormalisation folded in, so a step
    returns raw feature frames, or with ``outputs`` (per model an affine map (A, c) of the raw
    features f) the frames f @ A + c: a tokenizer whose features map to positions linearly gets
    positions from the decoder's own last matmul.
    """

    def __init__(
        self,
        models: Sequence[VQVAE],
        batch_size: int,
        outputs: Sequence[tuple[torch.Tensor, torch.Tensor] | None] | None = None,
    ) -> None:
        if len({stream_signature(m) for m in models}) != 1:
            raise ValueError(
                "decoders streamed together need one shape (code_dim, decoder widths, depth, "
                "dilations, downsample)"
            )
        self.batch_size = int(batch_size)
        self.groups = len(models)
        maps = []  # per model: the last layer's output y -> (y * std + mean) @ A + c
        for m, out in zip(models, outputs or [None] * len(models), strict=True):
            std, mean = m.std.detach(), m.mean.detach()
            a, c = out if out is not None else (torch.eye(len(std)), torch.zeros(len(std)))
            maps.append((std[:, None] * a, mean @ a + c))
        self.channels = [a.shape[1] for a, _ in maps]
        self.frames_per_token = models[0].cfg.downsample
        self.first = TokenConv(models, self.batch_size)
        decoders: list[CausalDecoder] = [m.decoder for m in models]
        per_model = [d.causal_convs()[1:] for d in decoders]  # after the first (a TokenConv)
        self.convs: list[StreamConv] = []
        for k, layers in enumerate(zip(*per_model, strict=True)):
            last = k == len(per_model[0]) - 1
            weights = [
                layer.stream_weights(*out) if last else layer.stream_weights()
                for layer, out in zip(layers, maps, strict=True)
            ]
            self.convs.append(self._stream_conv(layers[0], weights))
        self.projs = [
            (
                torch.stack([b.proj.bias.detach()[None] for b in blocks]),
                torch.stack([b.proj.weight.detach()[:, :, 0].T for b in blocks]),
            )
            for blocks in zip(*(_blocks(d) for d in decoders), strict=True)
        ]
        self.blocks_per_level = [len(blocks) for blocks in decoders[0].blocks]
        self.buffers = self._init_buffers()

    @staticmethod
    def _stream_conv(layer: CausalConv, weights: list[list[torch.Tensor]]) -> StreamConv:
        upsample = isinstance(layer, Upsample)
        phases = 2 if upsample else 1
        width = max(w[0].shape[-1] for w in weights) // phases
        bias = _stack([w[0] for w in weights], width, phases)[:, None]
        taps = zip(*(w[1:] for w in weights), strict=True)
        return StreamConv(
            bias=bias,
            taps=tuple(_stack(mats, width, phases) for mats in taps),
            dilation=layer.dilation[0],
            span=1 if upsample else layer.span,
            upsample=upsample,
            in_channels=layer.in_channels,
        )

    def _init_buffers(self) -> list[StreamBuffer]:
        buffers, frames = [], 1  # frames: new input frames per step at the conv's rate
        for conv in self.convs:
            buffers.append(
                StreamBuffer(
                    self.groups, conv.span, frames, self.batch_size, conv.in_channels, conv.offsets
                )
            )
            frames *= 2 if conv.upsample else 1
        return buffers

    def reset(self, sequences: np.ndarray | slice) -> None:
        self.first.reset(sequences)
        for buffer in self.buffers:
            buffer.reset(sequences)

    def step(self, tokens: Sequence[np.ndarray]) -> list[np.ndarray]:
        """One (B,) int64 token array per decoder -> one (B, ds, C_g) raw-feature array each.

        Every tensor here is detached, so no grad mode is needed (entering inference mode would
        cost as much as a small layer's matmul)."""
        out = self._decode(self.first.step(tokens)).numpy()
        out = out.reshape(self.groups, self.frames_per_token, self.batch_size, -1)
        return [out[i, :, :, :c].transpose(1, 0, 2) for i, c in enumerate(self.channels)]

    def _decode(self, h: torch.Tensor) -> torch.Tensor:
        """(G, B, C) first conv's output -> (G, ds * B, C) frames, through every other layer."""
        convs = iter(zip(self.convs, self.buffers, strict=True))
        projs = iter(self.projs)

        def conv(x: torch.Tensor, relu_input: bool = False) -> torch.Tensor:
            layer, buffer = next(convs)
            return layer.step(x, buffer, relu_input)

        for n_blocks in self.blocks_per_level:
            for _ in range(n_blocks):
                t = conv(h, relu_input=True).relu_()
                bias, matrix = next(projs)
                h = torch.baddbmm(bias, t, matrix).add_(h)
            h = conv(h)
        return h


def _blocks(decoder: CausalDecoder) -> list:
    """The decoder's residual blocks in step order."""
    return [block for blocks in decoder.blocks for block in blocks]
