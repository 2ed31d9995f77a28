"""gesture-gym: co-speech gesture and music-to-dance generation as Gymnasium environments."""

import gesture_gym.envs  # noqa: F401  (registers CoSpeechGesture-v0, MusicDance-v0, ...)
