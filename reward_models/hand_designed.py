"""Hand-designed rewards: beat alignment, orientation, smoothness, foot contact, plausibility.

Every model scores a whole batch of envs with numpy at once and keeps no state (``reset`` is a
no-op). Each reads only the motion and audio beats of the last few frames, so a step costs the
same at any point of an episode. Conventions (gesture_gym.motion.skeleton): metres, y up, the body
faces +z and its left is +x.

Kinematic beats are local minima of the Gaussian-smoothed mean joint speed
(``gesture_gym.motion.features``). A minimum is only known once the frames after it are decoded, so
the beat terms score the new frames shifted back by ``delay`` frames (Bailando scored a whole
decoded sequence and had no such lag).

A step scores a batch of envs over a few frames, where numpy's per-call overhead and its copies
cost more than the arithmetic. The terms that read only the last few frames share one copy of
them per step laid out xyz, frames, joints, envs (:func:`recent_motion`): x, y and z are
contiguous slabs, differencing frames subtracts contiguous blocks, gathering joints copies rows of
B values, and a sum over frames or joints adds such rows (numpy is slow on a non-contiguous view
whose inner run is short, and reduces a short last axis slowly). The beat terms find kinematic
beats only in the envs whose score can depend on them (an audio beat in reach).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gesture_gym.motion.features import kinematic_beat_mask
from gesture_gym.motion.skeleton import Skeleton
from gesture_gym.rewards import RewardInputs, register_reward

TOKEN_SECONDS = 0.5  # the longest token the windows leave room for (shipped: 8 frames, <= 0.4 s)
RECENT_CONTEXT = 3  # frames before the new ones in recent_motion (smoothness reads 3)


@lru_cache(maxsize=1)
def recent_motion(inputs: RewardInputs) -> np.ndarray:
    """(3, T, J, B) copy of the last T = new_frames + RECENT_CONTEXT frames of ``inputs.motion``
    (the whole window if shorter).

    Cached on the inputs object, which the env builds anew every step (and never changes), so
    the terms of a composite share one copy. A term gathers its joints from it before slicing its
    frames (``take`` first copies a non-contiguous array whole).
    """
    frames = min(inputs.new_frames + RECENT_CONTEXT, inputs.window)
    recent = np.ascontiguousarray(inputs.motion[:, -frames:].transpose(3, 1, 2, 0))
    recent.flags.writeable = False  # shared by the terms of a composite
    return recent


class _HandDesigned:
    """Shared plumbing: a frozen config, the skeleton and fps, a window of ``context`` frames
    before the new frames, and a single term named after the model."""

    name: str
    needs = frozenset({"motion"})
    context = 0  # frames before this step's new frames that the score reads

    def __init__(self, config, skeleton: Skeleton, fps: float):
        self.config = config
        self.skeleton = skeleton
        self.fps = float(fps)
        self.window = self.context + math.ceil(TOKEN_SECONDS * self.fps)

    @classmethod
    def create(cls, *, skeleton: Skeleton, fps: float, config=None):
        """The registry's factory: the model with ``config`` or the default config."""
        return cls(config if config is not None else cls.Config(), skeleton, fps)

    def reset(self, env_indices: np.ndarray) -> None:
        """Nothing to forget: every score is a function of the step's inputs."""

    def __call__(self, inputs: RewardInputs) -> dict[str, np.ndarray]:
        frames = inputs.new_frames + self.context
        if inputs.window < frames:
            raise ValueError(
                f"reward {self.name!r} reads {frames} frames ({inputs.new_frames} new + "
                f"{self.context} before), but RewardInputs has a window of {inputs.window}"
            )
        return {self.name: self.score(inputs, frames).astype(np.float32, copy=False)}

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        """(B,) rewards from the last ``frames`` (context + new) frames of ``inputs``."""
        raise NotImplementedError

    def joints(self, *names: str) -> list[int]:
        missing = [n for n in names if n not in self.skeleton.joint_names]
        if missing:
            raise ValueError(
                f"reward {self.name!r} needs joints {missing}, which skeleton "
                f"{self.skeleton.name!r} does not have"
            )
        return [self.skeleton.index(n) for n in names]


class _BeatReward(_HandDesigned):
    """Kinematic beats over the recent frames, scored in the new frames shifted back by
    ``delay`` frames (twice the smoothing width, so a minimum near the end is settled)."""

    needs = frozenset({"motion", "audio_beats"})

    def __init__(self, config, skeleton: Skeleton, fps: float):
        self.sigma = config.sigma_s * fps
        self.delay = math.ceil(2 * self.sigma) + 2
        self.context = self.delay + math.ceil(4 * self.sigma) + 2
        super().__init__(config, skeleton, fps)

    def scored(self, mask: np.ndarray, n: int) -> np.ndarray:
        """The n scored frames of a (frames, B) time-first mask (numpy reduces over the first
        axis far faster than over the others)."""
        return mask[-n - self.delay : -self.delay]

    def kinematic_beats(self, motion: np.ndarray, n: int) -> np.ndarray:
        """(n, B) kinematic beat mask of the scored frames of (B, frames, J, 3) ``motion``."""
        return self.scored(kinematic_beat_mask(motion, self.fps, sigma=self.sigma).T, n)


@dataclass(frozen=True)
class BeatBailandoConfig:
    """sigma_s: smoothing of the speed curve (Bailando: 5 frames at 60 fps); scale: Bailando's 10."""

    sigma_s: float = 5 / 60
    scale: float = 10.0


class BeatBailando(_BeatReward):
    """Bailando's per-token beat reward: r = (b_music * b_dance - 0.5) * scale.

    b_music = 1 if an audio beat falls in the token's frames, b_dance = 1 if a kinematic beat does
    (local minimum of the mean joint speed smoothed with a Gaussian of ``sigma_s``). So r = +5 when
    both, -5 otherwise. Source: lisiyao21/Bailando, models/up_down_half_reward.py (ba_reward).
    """

    name = "beat_bailando"
    Config = BeatBailandoConfig

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        n = inputs.new_frames
        hit = self.scored(inputs.audio_beats.T, n).any(axis=0)
        # only an env with a music beat in the token can score +, so only its dance beats count
        envs = np.flatnonzero(hit)
        if envs.size:
            hit[envs] = self.kinematic_beats(inputs.motion[envs, -frames:], n).any(axis=0)
        half = np.float32(0.5 * self.config.scale)
        return np.where(hit, half, -half)


@dataclass(frozen=True)
class BeatGaussianConfig:
    """sigma_s: speed smoothing (as BAS); tolerance_s: width of the Gaussian on the distance."""

    sigma_s: float = 5 / 60
    tolerance_s: float = 0.1


class BeatGaussian(_BeatReward):
    """Smooth beat alignment: r = mean over the token's kinematic beats k of exp(-d_k^2 / 2 tau^2).

    d_k is the time from kinematic beat k to the nearest audio beat in the window (which reaches
    ``delay`` frames past the scored frames), tau = ``tolerance_s``; r = 0 without a kinematic
    beat. It is the FACT/AIST++ direction of the beat-align score (averaged over motion beats,
    google-research/mint tools/calculate_beat_scores.py) per token, so a beat a frame or two off
    still earns most of the reward where Bailando's rule gives all or nothing.
    """

    name = "beat_gaussian"
    Config = BeatGaussianConfig

    def __init__(self, config, skeleton: Skeleton, fps: float):
        super().__init__(config, skeleton, fps)
        self._closeness: dict[tuple[int, int], np.ndarray] = {}

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        w, n = frames, inputs.new_frames
        audio = inputs.audio_beats.T[-w:]  # (w, B)
        reward = np.zeros(inputs.batch_size, dtype=np.float32)
        # an env without an audio beat in the window scores 0: only the others' beats count
        envs = np.flatnonzero(audio.any(axis=0))
        if envs.size:
            kinematic = self.kinematic_beats(inputs.motion[envs, -w:], n).astype(np.float32)
            # the Gaussian of the nearest beat's distance is the largest Gaussian over the beats
            nearest = (self.closeness(w, n) * audio[:, None, envs]).max(axis=0)  # (n, B')
            count = np.maximum(kinematic.sum(axis=0), 1)
            reward[envs] = (nearest * kinematic).sum(axis=0) / count
        return reward

    def closeness(self, w: int, n: int) -> np.ndarray:
        """(w, n, 1) float32 exp(-d^2 / 2 tau^2), d = seconds from each frame of the window to
        each scored frame (computed once per window shape)."""
        key = (w, n)
        if key not in self._closeness:
            frames = np.arange(w)
            scored = frames[w - n - self.delay : w - self.delay]
            dist = np.abs(frames[:, None, None] - scored[:, None]) / self.fps
            self._closeness[key] = np.exp(-0.5 * (dist / self.config.tolerance_s) ** 2).astype(
                np.float32
            )
        return self._closeness[key]


@dataclass(frozen=True)
class OrientationConfig:
    """No settings: the term is a cosine in [-1, 1]."""


class Orientation(_HandDesigned):
    """Upper vs lower body facing: r = min over the token's frames of cos(f_shoulders, f_hips).

    f = the horizontal normal of the left-right shoulder (hip) line. A dancer whose torso is
    twisted 90 degrees from the pelvis scores 0, facing backwards -1. Bailando's reward
    (models/up_down_half_reward.py, UpDownReward) uses collars and knees and rounds any cosine
    >= 0 up to 1; its released config weights the term 0, E3D2 adds it to the beat reward.
    """

    name = "orientation"
    Config = OrientationConfig

    def __init__(self, config, skeleton: Skeleton, fps: float):
        super().__init__(config, skeleton, fps)
        self.index = self.joints("left_shoulder", "left_hip", "right_shoulder", "right_hip")

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        joints = recent_motion(inputs).take(self.index, axis=2)[:, -frames:]  # (3, T, 4, B)
        x, _, z = joints[:, :, :2] - joints[:, :, 2:]  # (T, 2, B): shoulder and hip lines
        # the cosine between the lines' horizontal facings (line x up) is that of the lines
        # projected on the floor
        square = x * x + z * z
        dot = x[:, 0] * x[:, 1] + z[:, 0] * z[:, 1]
        return (dot / np.sqrt(square[:, 0] * square[:, 1] + 1e-12)).min(axis=0)


@dataclass(frozen=True)
class SmoothnessConfig:
    """scale: multiplies the mean squared jerk (m^2/s^6); 1e-5 puts natural motion near -1."""

    scale: float = 1e-5


class Smoothness(_HandDesigned):
    """Jerk penalty: r = -scale * mean over the token's frames and joints of |d^3 x / dt^3|^2.

    Jerk is the third finite difference times fps^3. Minimum-jerk trajectories are the classic
    model of smooth human reaching (Flash & Hogan, 1985); jitter from a poor token sequence shows
    up as large jerk at the token boundaries.
    """

    name = "smoothness"
    Config = SmoothnessConfig
    context = 3

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        m = recent_motion(inputs)[:, -frames:]  # (3, n + 3, J, B)
        # third difference x[t+3] - 3 x[t+2] + 3 x[t+1] - x[t] (x fps^3), in place: (3, n, J, B)
        jerk = m[:, 1:-2] - m[:, 2:-1]
        jerk *= 3
        jerk += m[:, 3:]
        jerk -= m[:, :-3]
        _, n_frames, n_joints, b = jerk.shape
        flat = jerk.reshape(-1, b)
        squared = np.einsum("kb,kb->b", flat, flat) * (self.fps**6 / (n_frames * n_joints))
        return -self.config.scale * squared


FEET = ("left_ankle", "right_ankle", "left_foot", "right_foot")


@dataclass(frozen=True)
class FootSkatingConfig:
    """floor_height: y of a foot joint standing on the floor; contact_height: how far above it a
    foot still counts as in contact (m); scale: per m/s of sliding."""

    floor_height: float = 0.0
    contact_height: float = 0.05
    scale: float = 1.0


class FootSkating(_HandDesigned):
    """Foot sliding: r = -scale * mean over the token's frames of c_t * v_t.

    The foot in contact is the lowest foot joint (ankles and toes); c_t = 1 when it is within
    ``contact_height`` of the floor, v_t is its horizontal speed (m/s). A planted foot should not
    move; generated dance is judged on the same failure (EDGE, Tseng et al. CVPR 2023, scores
    foot velocity during contact in its physical foot-contact score).
    """

    name = "foot_skating"
    Config = FootSkatingConfig
    context = 1

    def __init__(self, config, skeleton: Skeleton, fps: float):
        super().__init__(config, skeleton, fps)
        self.index = self.joints(*FEET)

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        x, y, z = recent_motion(inputs).take(self.index, axis=2)[:, -frames:]  # (1 + n, 4, B)
        height = y[1:]
        lowest = height.argmin(axis=1)[:, None]  # (n, 1, B)
        dx, dz = x[1:] - x[:-1], z[1:] - z[:-1]
        slide = np.take_along_axis(np.sqrt(dx * dx + dz * dz), lowest, axis=1)[:, 0]
        contact = height.min(axis=1) < self.config.floor_height + self.config.contact_height
        return (contact * slide).sum(axis=0) * (-self.config.scale * self.fps / len(slide))


@dataclass(frozen=True)
class FloorContactConfig:
    """floor_height: y of a foot joint standing on the floor; scale: per metre."""

    floor_height: float = 0.0
    scale: float = 10.0


class FloorContact(_HandDesigned):
    """Floating and sinking: r = -scale * mean over the token's frames of |min_j y_j - floor|.

    min over the foot joints (ankles and toes): a dancer stands on the floor, so the lowest foot
    should touch it; both hovering and going through the floor cost (a jump costs a little too).
    """

    name = "floor_contact"
    Config = FloorContactConfig

    def __init__(self, config, skeleton: Skeleton, fps: float):
        super().__init__(config, skeleton, fps)
        self.index = self.joints(*FEET)

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        lowest = recent_motion(inputs)[1].take(self.index, axis=1)[-frames:].min(axis=1)
        error = np.abs(lowest - self.config.floor_height)
        return error.sum(axis=0) * (-self.config.scale / len(error))


@dataclass(frozen=True)
class PosePlausibilityConfig:
    """Limits in degrees: the most a joint may bend (flexion) and bend the wrong way
    (hyperextension); the weights of the bone-length and joint-angle parts."""

    elbow_max_flexion: float = 150.0
    knee_max_flexion: float = 160.0
    max_hyperextension: float = 10.0
    bone_weight: float = 10.0
    angle_weight: float = 1.0


# (proximal, hinge, distal, the joint pair whose facing is "forward", +1 if the hinge flexes
# forward (elbows) or -1 backward (knees))
LIMBS = (
    ("left_shoulder", "left_elbow", "left_wrist", "shoulder", 1.0),
    ("right_shoulder", "right_elbow", "right_wrist", "shoulder", 1.0),
    ("left_hip", "left_knee", "left_ankle", "hip", -1.0),
    ("right_hip", "right_knee", "right_ankle", "hip", -1.0),
)


class PosePlausibility(_HandDesigned):
    """Bone lengths and joint limits: r = -(bone_weight * e_bone + angle_weight * e_angle).

    e_bone = mean over bones and frames of |l / l_rest - 1| (the skeleton's rest lengths).
    e_angle = mean over frames of the summed violations (radians) at the elbows and knees: the
    flexion angle (between the two bones) beyond its maximum, and hyperextension: how far the
    distal bone bends against the hinge's flexion side (elbows flex forward, knees backward, as
    seen from the facing of the shoulder or hip line) beyond ``max_hyperextension``. Positions
    do not give the humerus twist, so the forward side is the torso's facing: a good proxy for
    gestures in front of the body. Limits follow standard clinical ranges of motion (elbow
    flexion ~150 deg, knee ~150-160 deg, a few degrees of hyperextension).
    """

    name = "pose_plausibility"
    Config = PosePlausibilityConfig

    def __init__(self, config, skeleton: Skeleton, fps: float):
        super().__init__(config, skeleton, fps)
        names = set(skeleton.joint_names)
        limbs = [limb for limb in LIMBS if names.issuperset(limb[:3])]
        # the vectors the score reads, (head, tail) joint pairs: every bone (child, parent), then
        # any limb segment that is not a bone and the left-right lines whose facing is forward
        pairs = list(enumerate(skeleton.parents))[1:]

        def vector(head: str, tail: str) -> int:
            pair = tuple(self.joints(head, tail))
            if pair not in pairs:
                pairs.append(pair)
            return pairs.index(pair)

        self.segments = np.array(  # per limb its proximal, then its distal segment
            [vector(hinge, prox) for prox, hinge, *_ in limbs]
            + [vector(distal, hinge) for _, hinge, distal, *_ in limbs],
            dtype=int,
        )
        self.lines = np.array([vector(f"left_{f}", f"right_{f}") for *_, f, _ in limbs], int)
        self.heads, self.tails = np.array(pairs, dtype=int).reshape(-1, 2).T
        self.n_bones, self.n_limbs = skeleton.n_joints - 1, len(limbs)
        self.inv_rest = (1.0 / np.maximum(skeleton.bone_lengths(), 1e-6)).astype(np.float32)
        # per limb, broadcast over (T, L, B): -1 x the flexion side, and the flexion limit
        self.against = -np.array([limb[4] for limb in limbs], dtype=np.float32)[:, None]
        max_flex = [config.elbow_max_flexion if side > 0 else config.knee_max_flexion
                    for *_, side in limbs]  # fmt: skip
        self.max_flexion = np.radians(np.array(max_flex, dtype=np.float32))[:, None]
        self.hyper = np.float32(math.radians(config.max_hyperextension))

    def score(self, inputs: RewardInputs, frames: int) -> np.ndarray:
        c = self.config
        m = np.ascontiguousarray(recent_motion(inputs)[:, -frames:])  # take copies it anyway
        v = m.take(self.heads, axis=2) - m.take(self.tails, axis=2)  # (3, T, K, B)
        length = np.sqrt((v * v).sum(axis=0))  # (T, K, B)
        nb, nl = self.n_bones, self.n_limbs
        e_bone = np.abs(length[:, :nb] * self.inv_rest[:, None] - 1.0).sum(axis=(0, 1))
        # (3, T, 2L, B) unit proximal then distal segments of the limbs
        unit = v.take(self.segments, axis=2) / (length.take(self.segments, axis=1) + 1e-9)
        e_angle = self.angle_error(unit[:, :, :nl], unit[:, :, nl:], v.take(self.lines, axis=2))
        return -(c.bone_weight / (frames * nb) * e_bone + c.angle_weight * e_angle)

    def angle_error(self, upper: np.ndarray, lower: np.ndarray, line: np.ndarray) -> np.ndarray:
        """(B,) mean over frames of the summed limit violations of the limbs (radians), from the
        (3, T, L, B) unit proximal and distal bones and the left-right lines."""
        cos = (upper * lower).sum(axis=0)  # (T, L, B)
        flexion = np.arccos(cos.clip(-1.0, 1.0))
        # how far the distal bone leans against the flexion side: its component across the
        # proximal bone, along the horizontal facing (-z, 0, x) of the shoulder (hip) line
        across = lower - cos * upper
        lean = (line[0] * across[2] - line[2] * across[0]) / np.sqrt(
            line[0] * line[0] + line[2] * line[2] + 1e-12
        )
        hyper = np.arcsin((lean * self.against).clip(0.0, 1.0))
        err = np.maximum(flexion - self.max_flexion, 0.0) + np.maximum(hyper - self.hyper, 0.0)
        return err.sum(axis=(0, 1)) / len(err)


MODELS = (BeatBailando, BeatGaussian, Orientation, Smoothness, FootSkating, FloorContact,
          PosePlausibility)  # fmt: skip
for _model in MODELS:
    register_reward(_model.name, _model.create)
