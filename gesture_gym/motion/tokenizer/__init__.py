"""Motion tokenizers: per-body-part VQ-VAEs whose codebook tokens are the agents' actions.

tok = Tokenizer.load("speech-gesture-upper")
tokens = tok.encode(clip.motion)               # (T // 4,) int64: tok.frames_per_token == 4
motion = tok.decode(tokens)                    # (N * 4, 16, 3)
stream = tok.streaming_decoder(batch_size=64)  # one token per env per step
frames = stream.step(actions)                  # (64, 4, 16, 3)

dance = DanceTokenizer.load()                  # upper + lower codebooks over SMPL-24
frames = dance.streaming_decoder(64).step(np.stack([upper, lower], 1))  # (64, 4, 24, 3)

docs/tokenizer.md describes the model and the shipped weights' measured quality and speed.
"""

from gesture_gym.motion.tokenizer.api import (
    SHIPPED,
    DanceStreamingDecoder,
    DanceTokenizer,
    StreamingDecoder,
    Tokenizer,
    load_tokenizer,
)
from gesture_gym.motion.tokenizer.model import TokenizerConfig
from gesture_gym.motion.tokenizer.representation import MotionRepresentation, RootState
from gesture_gym.motion.tokenizer.tokens import clip_tokens, tokenize_corpus, with_tokens
from gesture_gym.motion.tokenizer.training import TrainConfig, train

__all__ = [
    "SHIPPED",
    "DanceStreamingDecoder",
    "DanceTokenizer",
    "MotionRepresentation",
    "RootState",
    "StreamingDecoder",
    "Tokenizer",
    "TokenizerConfig",
    "TrainConfig",
    "clip_tokens",
    "load_tokenizer",
    "tokenize_corpus",
    "train",
    "with_tokens",
]
