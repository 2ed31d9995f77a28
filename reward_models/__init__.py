"""Reward model implementations; importing this package registers them in gesture_gym.rewards.

- hand_designed: beat alignment (Bailando's rule and a Gaussian variant), orientation,
  smoothness, foot skating, floor contact and pose plausibility.
"""

from reward_models import hand_designed

__all__ = ["hand_designed"]
