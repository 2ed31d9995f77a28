"""Skeletons, forward kinematics, motion features and the VQ-VAE tokenizer."""

from gesture_gym.motion.skeleton import SKELETONS, SMPL24, UPPER_BODY, Skeleton, get_skeleton

__all__ = ["SKELETONS", "SMPL24", "UPPER_BODY", "Skeleton", "get_skeleton"]
