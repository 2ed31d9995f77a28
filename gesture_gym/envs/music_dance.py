"""MusicDance-v0 and MusicDanceFullBody-v0: generate a dance for music, token by token."""

from __future__ import annotations

from gesture_gym.envs.base import RENDER_MODES, TokenMotionEnv
from gesture_gym.envs.core import TaskSpec

MUSIC_DANCE = TaskSpec(
    env_id="MusicDance-v0", kind="dance", corpus="music-dance", tokenizer="music-dance"
)
MUSIC_DANCE_FULL = TaskSpec(
    env_id="MusicDanceFullBody-v0", kind="dance", corpus="music-dance", tokenizer="music-dance-full"
)


class MusicDanceEnv(TokenMotionEnv):
    """## Description

    Music-to-dance generation with Bailando's two codebooks (as in Bailando and E3D2). An
    episode is one music clip; at every step the agent picks an upper-body and a lower-body
    token, which the streaming decoders turn into the next frames of a 24-joint SMPL body at
    30 fps (``frames_per_token``: 4 frames, 0.13 s, for the shipped weights) that travels and
    turns (the lower-body tokens carry the root motion).

    ## Action Space

    ``MultiDiscrete([K_upper, K_lower])``: one flat pair [upper token, lower token] of the
    "music-dance-upper" and "music-dance-lower" tokenizers.

    ## Observation Space

    As in CoSpeechGesture-v0 (``env.unwrapped.observation_layout``): ``audio`` (music feature rows
    around the step, z-scored with training-split statistics), ``tokens`` (the normalised upper
    and lower codebook vectors of the last ``history`` steps, concatenated per step),
    ``progress``. The Dict mode's ``tokens`` are the raw ids [u_1, l_1, ..., u_H, l_H].

    ## Rewards

    The weighted sum of the reward model's terms (``info["reward_terms"]``). Default:
    ``gesture_gym.rewards.default_reward("dance")``: E3D2's hand-designed reward (Bailando's
    per-token beat rule and upper/lower orientation) with jerk, foot skating, floor contact and
    pose plausibility terms.

    ## Starting State

    A clip drawn uniformly from the corpus split with ``self.np_random`` (or
    ``options["clip"]``, or ``options["audio"]``); its ground-truth first token pair is decoded
    at reset.

    ## Episode End

    ``terminated=True`` when the music ends (the clip's token count, capped by
    ``clip_length``), with ``info["episode_metrics"]`` (beat alignment, mean jerk).

    ## Arguments

    See :class:`gesture_gym.envs.base.TokenMotionEnv` (``text`` is not available for dance).

    >>> import gymnasium as gym, gesture_gym
    >>> env = gym.make("MusicDance-v0", n_clips=2)
    >>> env.action_space.shape
    (2,)

    ## Version History

    - v0: initial version (music-dance-upper/-lower tokenizers, hand-designed default reward).
    """

    task = MUSIC_DANCE
    metadata = {"render_modes": RENDER_MODES, "render_fps": 30}


class MusicDanceFullBodyEnv(TokenMotionEnv):
    """## Description

    MusicDance-v0 with one action: a token of the single-codebook full-body dance tokenizer
    ("music-dance-full"), for agents that need a ``Discrete`` action space (d3rlpy's discrete
    CQL, DQN). Each token decodes to the next frames of the 24-joint body with root travel.

    ## Action Space

    ``Discrete(K)``: a codebook index of "music-dance-full".

    ## Observation Space

    As in MusicDance-v0, with one codebook vector per step in ``tokens``.

    ## Rewards

    As in MusicDance-v0 (default ``default_reward("dance")``).

    ## Starting State

    As in MusicDance-v0.

    ## Episode End

    As in MusicDance-v0.

    ## Arguments

    See :class:`gesture_gym.envs.base.TokenMotionEnv` (``text`` is not available for dance).

    >>> import gymnasium as gym, gesture_gym
    >>> env = gym.make("MusicDanceFullBody-v0", n_clips=2)
    >>> type(env.action_space).__name__
    'Discrete'

    ## Version History

    - v0: initial version (music-dance-full tokenizer, hand-designed default reward).
    """

    task = MUSIC_DANCE_FULL
    metadata = {"render_modes": RENDER_MODES, "render_fps": 30}
