"""CoSpeechGesture-v0: generate upper-body gestures for speech, one motion token per step."""

from __future__ import annotations

from gesture_gym.envs.base import RENDER_MODES, TokenMotionEnv
from gesture_gym.envs.core import TaskSpec

CO_SPEECH = TaskSpec(
    env_id="CoSpeechGesture-v0",
    kind="speech",
    corpus="speech-gesture",
    tokenizer="speech-gesture-upper",
)


class CoSpeechGestureEnv(TokenMotionEnv):
    """## Description

    Co-speech gesture generation as a sequential decision problem (RACER's MDP). An episode is
    one speech clip; at every step the agent picks the next token of the speech-gesture
    upper-body VQ-VAE, whose causal streaming decoder turns it into the next frames of a
    16-joint upper body at 20 fps (the tokenizer's ``frames_per_token``: 4 frames, 0.2 s, for the
    shipped weights). A pluggable reward model scores the decoded motion against the speech.

    ## Action Space

    ``Discrete(K)``: a codebook index of the "speech-gesture-upper" tokenizer (K = 512).

    ## Observation Space

    A flat float32 ``Box`` (``observation_mode="flat"``) whose named slices are
    ``env.unwrapped.observation_layout``: ``audio`` (the audio feature rows of the step's frames
    with ``audio_context`` frames before and after, z-scored with training-split statistics),
    ``tokens`` (the normalised codebook vectors of the last ``history`` tokens), ``progress``
    (fraction of the clip's tokens decoded) and, with ``text=True``, ``text`` (hashed words being
    spoken). ``observation_mode="dict"`` gives ``audio`` (A, D), raw token ids ``tokens`` (H,),
    ``progress`` and optionally per-frame ``words`` for sequence models.

    ## Rewards

    The weighted sum of the reward model's terms, each reported in ``info["reward_terms"]``.
    Default: ``gesture_gym.rewards.default_reward("speech")`` (Gaussian beat alignment of
    kinematic beats with stressed syllables, a jerk penalty and pose plausibility). ``reward=``
    takes a registered name, a RewardModel or a mapping name -> weight.

    ## Starting State

    A clip drawn uniformly from the corpus split with ``self.np_random`` (or
    ``options["clip"]``, or a user's file ``options["audio"]``). Its ground-truth first token
    (RACER's a_0) is decoded at reset; the agent chooses from the second token on.

    ## Episode End

    ``terminated=True`` when the clip's audio ends (its token count, capped by ``clip_length``);
    ``info["episode_metrics"]`` then holds the beat alignment and mean jerk of the generated
    motion. Episodes are never truncated by the env.

    ## Arguments

    See :class:`gesture_gym.envs.base.TokenMotionEnv`: ``corpus``, ``split``, ``reward``,
    ``clip_length``, ``history``, ``audio_context``, ``observation_mode``, ``text``,
    ``tokenizer``, ``n_clips``, ``render_mode`` ("rgb_array": a stick figure with the onset
    strength strip and its beats; "human": a matplotlib window).

    >>> import gymnasium as gym, gesture_gym
    >>> env = gym.make("CoSpeechGesture-v0", n_clips=2)
    >>> obs, info = env.reset(seed=0)
    >>> sorted(info)
    ['clip_id', 'frame_range', 'reward_terms', 'tokens']

    ## Version History

    - v0: initial version (speech-gesture-upper tokenizer, hand-designed default reward).
    """

    task = CO_SPEECH
    metadata = {"render_modes": RENDER_MODES, "render_fps": 20}
