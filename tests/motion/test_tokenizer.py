"""The tokenizer model: shapes, representation, streaming = full decode, weights files, errors.

Everything runs on synthetic motion (forward kinematics of smooth random rotations, travelling
and turning) and tiny configs, so no test depends on the corpora.
"""

import json

import numpy as np
import pytest
import torch

from gesture_gym.assets import WeightsError
from gesture_gym.motion.rotations import axis_angle_to_matrix, axis_rotation
from gesture_gym.motion.skeleton import SMPL24, UPPER_BODY
from gesture_gym.motion.tokenizer import (
    SHIPPED,
    DanceTokenizer,
    MotionRepresentation,
    RootState,
    Tokenizer,
    TokenizerConfig,
    TrainConfig,
    load_tokenizer,
    train,
)
from gesture_gym.motion.tokenizer.model import EMAQuantizer

FPS = 30


def synthetic_motion(skeleton, frames, rng, travel=True):
    """FK of sums of random sinusoidal joint rotations; the root walks and turns."""
    t = np.arange(frames) / FPS
    shape = (3, skeleton.n_joints, 3)
    freq, phase = rng.uniform(0.3, 2.0, shape), rng.uniform(0, 2 * np.pi, shape)
    amp = rng.uniform(0.05, 0.35, shape)
    aa = (amp * np.sin(2 * np.pi * freq * t[:, None, None, None] + phase)).sum(1)
    rot = axis_angle_to_matrix(aa)
    root = np.zeros((frames, 3))
    root[:, 1] = 0.9 + 0.03 * np.sin(3 * np.pi * t)
    if travel:
        yaw = np.cumsum(rng.normal(0, 0.05, frames)) + rng.uniform(-np.pi, np.pi)
        rot[:, 0] = axis_rotation(yaw, "y") @ rot[:, 0]
        root[:, 0] = np.cumsum(0.6 * np.sin(yaw)) / FPS
        root[:, 2] = np.cumsum(0.6 * np.cos(yaw)) / FPS
    return skeleton.forward_kinematics(rot, root).astype(np.float32)


def tiny_config(part, skeleton="smpl24", **kw):
    body = skeleton == "smpl24"
    base = dict(name=f"tiny-{part}", skeleton=skeleton, part=part, fps=FPS, downsample=4,
                codebook_size=16, code_dim=8, width=16, depth=1, canonical_yaw=body,
                root="trajectory" if body and part != "upper" else "none")  # fmt: skip
    return TokenizerConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def motions():
    rng = np.random.default_rng(0)
    return [synthetic_motion(SMPL24, 160, rng) for _ in range(6)]


@pytest.fixture(scope="module")
def dance(motions, tmp_path_factory):
    """A briefly trained upper + lower pair (a few hundred milliseconds each)."""
    run = tmp_path_factory.mktemp("runs")
    tc = TrainConfig(steps=30, batch_size=8, window=32, lr=3e-3, log_every=10, threads=1)
    parts = [train(Tokenizer.create(tiny_config(p)), motions, tc, run / p, progress=False)
             for p in ("upper", "lower")]  # fmt: skip
    return DanceTokenizer(*parts)


def test_config_json_round_trip_and_validation():
    cfg = tiny_config("lower", depth=2, dilations=(1, 2))
    assert TokenizerConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="power of two"):
        tiny_config("lower", downsample=6)
    with pytest.raises(ValueError, match="unknown tokenizer config fields"):
        TokenizerConfig.from_dict({**cfg.to_dict(), "colour": 1})


def test_encode_decode_shapes(dance, motions):
    lower = dance.lower
    m = motions[0][:157]  # not a whole number of tokens: the tail is dropped
    tokens = lower.encode(m)
    assert tokens.dtype == np.int64 and tokens.shape == (157 // 4,)
    assert tokens.min() >= 0 and tokens.max() < lower.codebook_size
    out = lower.decode(tokens)
    assert out.dtype == np.float32 and out.shape == (156, 9, 3)
    assert lower.decode(np.stack([tokens, tokens])).shape == (2, 156, 9, 3)
    assert lower.codebook.shape == (16, 8) and lower.codebook.dtype == np.float32
    pair = dance.encode(m)
    assert pair.shape == (39, 2)
    full = dance.decode(pair)
    assert full.shape == (156, 24, 3)


def test_body_frame_features_ignore_where_the_dancer_stands_and_faces(motions):
    rep = MotionRepresentation(SMPL24, "full", FPS, canonical_yaw=True, root="trajectory")
    m = motions[1].astype(np.float64)
    moved = axis_rotation(np.full(len(m), 1.1), "y")[:, None] @ m[..., None]
    moved = moved[..., 0] + np.array([3.0, 0.0, -2.0])
    np.testing.assert_allclose(rep.features(moved), rep.features(m), atol=2e-5)


def test_integrating_root_channels_gives_back_the_travelling_motion(motions):
    """Features -> positions reproduces the motion up to where it starts (a rigid yaw + shift)."""
    rep = MotionRepresentation(SMPL24, "full", FPS, canonical_yaw=True, root="trajectory")
    m = motions[2].astype(np.float64)
    f = rep.features(m)
    out = RootState(1).place(rep.body(f)[None], rep.root_channels(f)[None], FPS)[0]
    turn = rep.yaw(m)[5] - rep.yaw(out.astype(np.float64))[5]
    aligned = (axis_rotation(np.array(turn), "y") @ out[..., None])[..., 0]
    aligned += m[5, 0] - aligned[5, 0]
    np.testing.assert_allclose(aligned, m, atol=1e-4)
    assert np.linalg.norm(m[-1, 0] - m[0, 0]) > 1.0  # it did travel


def test_a_world_frame_part_with_root_position_keeps_the_sway_exactly(motions):
    speech = Tokenizer.create(tiny_config("upper", skeleton="upper_body", root="position"))
    rng = np.random.default_rng(4)
    m = synthetic_motion(UPPER_BODY, 40, rng, travel=False)
    m += rng.normal(0, 0.01, (40, 1, 3)).astype(np.float32)  # the whole body sways
    f = speech.features(m)
    assert f.shape == (40, 15 * 3 + 3)
    np.testing.assert_allclose(speech.features_to_motion(f[None], RootState(1))[0], m, atol=1e-6)


def position_root_tokenizer() -> Tokenizer:
    """A speech-like part: world root position, features linear in positions (untrained)."""
    tok = Tokenizer.create(tiny_config("upper", skeleton="upper_body", root="position"))
    tok.model.quantizer.codebook.normal_(generator=torch.Generator().manual_seed(0))
    return tok


@pytest.mark.parametrize("kind", ["lower", "upper", "position", "dance"])
def test_streaming_equals_full_decode_and_resets_only_the_named_envs(dance, kind):
    # root modes: "trajectory" (lower) is integrated per step, "none" (upper) and "position"
    # map to positions in the decoder's last layer
    tok = {"dance": dance, "lower": dance.lower, "upper": dance.upper}.get(kind)
    tok = tok or position_root_tokenizer()
    rng = np.random.default_rng(1)
    shape = (3, 40, 2) if kind == "dance" else (3, 40)
    seqs = rng.integers(0, 16, shape)
    stream = tok.streaming_decoder(3)
    first = np.concatenate([stream.step(seqs[:, i]) for i in range(25)], axis=1)
    stream.reset([1])  # env 1 starts a new episode; envs 0 and 2 go on
    fresh = seqs.copy()
    fresh[1, : 40 - 25] = seqs[1, 25:]
    rest = np.concatenate([stream.step(np.stack([seqs[0, 25 + i], fresh[1, i], seqs[2, 25 + i]]))
                           for i in range(15)], axis=1)  # fmt: skip
    full = tok.decode(seqs)
    streamed = np.concatenate([first, rest], axis=1)
    np.testing.assert_allclose(streamed[[0, 2]], full[[0, 2]], atol=1e-4)
    np.testing.assert_allclose(first[1], full[1, : 25 * 4], atol=1e-4)
    np.testing.assert_allclose(rest[1], tok.decode(fresh[1, :15]), atol=1e-4)

    assert len(stream.streams) == 1  # the dance pair's parts step as one stacked stream
    # steps run in grad mode without building a graph: every weight and cache is detached
    assert torch.is_grad_enabled()
    assert not any(b.data.requires_grad for s in stream.streams for b in s.buffers)
    fresh = tok.streaming_decoder(3)
    for s, f in zip(stream.streams, fresh.streams, strict=True):  # bounded state after 40 steps
        assert [b.data.shape for b in s.buffers] == [b.data.shape for b in f.buffers]
        assert all(b.end <= b.data.shape[1] // 3 for b in s.buffers)


@pytest.mark.parametrize(
    "upper_kw, lower_kw, streams",
    [
        ({"width": 24}, {}, 2),  # different shapes: two streams
        ({"decoder_taper": 2}, {"decoder_taper": 2}, 1),  # tapered pair: one stacked stream
        ({"decoder_taper": 2}, {}, 2),
    ],
)
def test_streaming_a_pair_of_any_decoder_shapes_equals_full_decode(upper_kw, lower_kw, streams):
    upper = Tokenizer.create(tiny_config("upper", **upper_kw))  # untrained: random weights do
    lower = Tokenizer.create(tiny_config("lower", **lower_kw))
    lower.model.quantizer.codebook.normal_()
    upper.model.quantizer.codebook.normal_()
    pair = DanceTokenizer(upper, lower)
    stream = pair.streaming_decoder(2)
    assert len(stream.streams) == streams
    seqs = np.random.default_rng(2).integers(0, 16, (2, 12, 2))
    streamed = np.concatenate([stream.step(seqs[:, i]) for i in range(12)], axis=1)
    np.testing.assert_allclose(streamed, pair.decode(seqs), atol=1e-4)


def test_a_tapered_decoder_halves_its_width_at_each_upsampling():
    cfg = tiny_config("lower", width=32, decoder_taper=2, downsample=8)
    assert cfg.decoder_widths() == (32, 16, 8)
    decoder = Tokenizer.create(cfg).model.decoder
    assert [b[0].proj.in_channels for b in decoder.blocks] == [32, 16, 8]
    assert tiny_config("lower", width=32, decoder_taper=4 / 3).decoder_widths() == (32, 24)
    with pytest.raises(ValueError, match="decoder_taper must be >= 1"):
        tiny_config("lower", decoder_taper=0.5)
    with pytest.raises(ValueError, match="without channels"):
        tiny_config("lower", width=8, decoder_taper=4, downsample=8)  # (8, 2, 0)


def test_save_load_round_trip_and_sha256_checks(dance, tmp_path):
    tok = dance.lower
    tok.save("my-lower", tmp_path, command="gesture-gym tokenizer train ...")
    back = Tokenizer.load("my-lower", tmp_path)
    assert back.config == TokenizerConfig.from_dict({**tok.config.to_dict(), "name": "my-lower"})
    tokens = np.arange(12) % 16
    np.testing.assert_array_equal(back.decode(tokens), tok.decode(tokens))
    np.testing.assert_array_equal(back.codebook, tok.codebook)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["my-lower"]["command"] == "gesture-gym tokenizer train ..."
    assert back.sha256 == manifest["my-lower"]["sha256"]

    weights = tmp_path / "my-lower.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(WeightsError, match="my-lower.safetensors: sha256"):
        Tokenizer.load("my-lower", tmp_path)
    weights.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one flipped bit
    with pytest.raises(WeightsError, match="does not match the manifest"):
        Tokenizer.load("my-lower", tmp_path)
    with pytest.raises(WeightsError, match="no weights named 'nope'"):
        Tokenizer.load("nope", tmp_path)


def test_dead_code_reset_revives_codes():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)

    def used_after(threshold):
        q = EMAQuantizer(size=32, dim=4, decay=0.9, threshold=threshold).train()
        q(torch.randn(256, 4), gen)  # initialise from data
        with torch.no_grad():
            q.codebook[16:] += 50.0  # half the codes far from any data: dead
            q.embed_sum[16:] = q.codebook[16:] * q.cluster_size[16:, None]
        for _ in range(20):
            q(torch.randn(256, 4), gen)
        idx = q.nearest(torch.randn(4096, 4))
        return len(torch.unique(idx)), len(torch.unique(idx[idx >= 16]))

    total_without, far_without = used_after(threshold=0.0)
    total_with, far_with = used_after(threshold=0.3)
    assert far_without == 0 and total_without <= 16  # without the reset they stay dead
    assert total_with >= 28  # with it nearly all codes are back in use


def test_clear_errors_for_bad_motion_and_tokens(dance, motions):
    tok = dance.lower
    with pytest.raises(ValueError, match=r"expected \(T, 24, 3\).*'smpl24' \(24 joints\)"):
        tok.encode(motions[0][:, :16])
    bad = motions[0].copy()
    bad[7, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite positions in 1 frames"):
        tok.encode(bad)
    with pytest.raises(ValueError, match="fewer than one token"):
        tok.encode(motions[0][:3])
    with pytest.raises(ValueError, match=r"values must be in \[0, 16\)"):
        tok.decode(np.array([0, 16]))
    with pytest.raises(ValueError, match="expected shape"):
        tok.streaming_decoder(2).step(np.array([1, 2, 3]))
    speech = Tokenizer.create(tiny_config("upper", skeleton="upper_body"))
    with pytest.raises(ValueError, match="'upper_body' \\(16 joints\\)"):
        speech.encode(motions[0])
    assert speech.decode(np.array([1, 2])).shape == (8, 16, 3)
    with pytest.raises(ValueError, match="canonical_yaw needs joints 'left_hip'"):
        Tokenizer.create(tiny_config("upper", skeleton="upper_body", canonical_yaw=True))
    assert UPPER_BODY.parts["upper"] == speech.joints


@pytest.mark.parametrize("name", [*SHIPPED, "music-dance"])
def test_shipped_weights_load_and_reconstruct_a_test_clip(name):
    from gesture_gym.assets import read_manifest
    from gesture_gym.data import load_corpus

    tok = load_tokenizer(name)
    clip = load_corpus(
        name if name == "music-dance" else name.rsplit("-", 1)[0], "test", n_clips=1
    )[0]
    tokens = tok.encode(clip.motion)
    n = len(clip.motion) // tok.frames_per_token
    assert tokens.shape == ((n, 2) if name == "music-dance" else (n,))
    out = tok.decode(tokens)
    joints = 24 if name == "music-dance" else len(tok.joints)
    assert out.shape == (n * tok.frames_per_token, joints, 3)
    stream = tok.streaming_decoder(1)
    first = stream.step(tokens[:1])
    np.testing.assert_allclose(first[0], out[: tok.frames_per_token], atol=1e-4)
    for part in [tok.upper, tok.lower] if name == "music-dance" else [tok]:
        entry = read_manifest()[part.name]
        assert entry["command"].startswith(
            f"gesture-gym tokenizer train --corpus {clip.id.split('/')[0]}"
        )
        assert entry["bytes"] < 8_000_000
        rep = part.representation
        f = part.features(clip.motion)[: n * tok.frames_per_token]
        body, rec = rep.body(f), rep.body(part.decode_features(part.encode_features(f)))
        err = np.linalg.norm(rec - body, axis=-1).mean()
        assert err < 0.5 * np.linalg.norm(body - body.mean(0), axis=-1).mean()  # garbage: >= 1
