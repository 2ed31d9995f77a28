"""The procedural music-dance corpus: synthesised music with a full-body dance that follows it.

It stands in for AIST++ where that is not available, so it carries the structure that learned
rewards, tokenizers and the AIST++ metrics (FID_k, FID_g, BAS) pick up in real data:

- Music: six genres, each with its tempo range (80-160 BPM overall, drawn per clip), meter, drum
  patterns, kit, bass line, chord rhythm, progressions and timbres. Drums are one-shots made per
  clip (a pitched decaying sine kick with a click, a noise snare with a tonal body, a high-passed
  noise hat, a crash on loud section starts) placed on a 16th-note grid; bass (filtered saw, sine
  or FM) and chords (FM, filtered saw or a driven sine) follow a one-chord-per-bar progression.
  Bar starts are accented. Sections of 2 or 4 bars (intro, verse, chorus, break) each have an
  energy that sets drum density (weaker pattern hits drop out at low energy, breaks drop the
  kick) and loudness. The clip is an excerpt: the bar before the first downbeat sounds too.
- Genres: house, hiphop, breaking (funk breaks) and waltz (3/4) make train/val/test; latin and
  ballet (lyrical, 4/4, a class pianist's chords on every beat) are held out for the "unseen"
  split. Genres take turns within a split.
- Dance: each genre has 8-9 moves spanning 1 beat, 2 beats or a bar (bounces, rocks, steps,
  kicks, body waves, arm moves, stepping turns, jumps...), chained bar by bar; a section repeats
  its bar plans mirrored, and big moves come with high energy. Moves are key poses (local joint
  angles) at beat offsets: keys on whole beats are hits, reached with zero velocity by quintic
  (minimum-jerk) Hermite easing, so the mean joint speed has its minima on musical beats; keys
  between beats are passed through. Move size also scales with the section's energy (and
  shrinks at fast tempi), and each clip's dancer has its own stance depth and arm, leg and torso
  sizes. Joint rotations go through SMPL24 forward kinematics.
- Floor contact: the root's height puts the lowest foot joint (ankle or toe) on the floor (y = 0)
  in every frame that is not airborne; its horizontal path keeps that joint planted (foot
  locking, integrated with a cumulative sum), so the dancer travels and turns by stepping. The
  body turns only while a foot is lifted or in the air. ``annotations["contacts"]`` marks each
  frame's support foot (0 left, 1 right) or -1 in the air.

Tolerances the tests check (``MAX_STEP``, ``FLOOR_TOL``, ``CONTACT_HEIGHT``, ``MAX_SLIDE``):
no joint moves more than 0.3 m between frames (9 m/s; the fastest hands reach about 0.25 m);
outside jumps the lowest foot joint is within 2 cm of the floor (it is exactly on it) and no
joint is ever below it; a foot joint lower than 3 cm moves horizontally at 0.15 m/s or less on
average over those frames (under 0.12 m/s in practice: steps lift off and land while
moving a little); bone lengths equal the skeleton's to 1e-6 m after the float32 cast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from gesture_gym.data.procedural.base import GeneratedClip, clip_rng
from gesture_gym.motion.rotations import axis_rotation, euler_to_matrix
from gesture_gym.motion.skeleton import SMPL24

FPS = 30
SAMPLE_RATE = 15360
HOP = SAMPLE_RATE // FPS  # 512 samples per motion frame
CLIP_SECONDS = 20.0
N_FRAMES = int(CLIP_SECONDS * FPS)
N_SAMPLES = N_FRAMES * HOP
PEAK = 10 ** (-3 / 20)  # -3 dBFS

MAX_STEP = 0.3  # metres a joint may move between consecutive frames
FLOOR_TOL = 0.02  # metres: the lowest foot joint's distance from the floor outside jumps
CONTACT_HEIGHT = 0.03  # metres: a foot joint lower than this is in contact with the floor
MAX_SLIDE = 0.15  # m/s: mean horizontal speed of foot joints in contact

FOOT_JOINTS = (7, 10, 8, 11)  # left ankle, left toe, right ankle, right toe
LEVEL_BAND = 0.03  # metres: at a key, feet closer in height than this are both put on the floor
EULER_ORDER = "yxz"  # per-joint angle columns: y (twist), x (flex), z (raise / side)

# ----------------------------------------------------------------------------- poses

# A pose is a dict of angle offsets in radians, "joint.axis" -> angle, with joints named as in
# SMPL24 with "l_"/"r_" for "left_"/"right_"; "yaw" turns the whole body (radians, added to the
# facing) and "air" lifts it off the floor (metres). Conventions: left is +x, so raising the left
# arm is +z and the right arm -z; flexing a hip forward is -x, a knee +x, spine forward +x.
Pose = dict[str, float]

_JOINT = {
    n.replace("left_", "l_").replace("right_", "r_"): i for i, n in enumerate(SMPL24.joint_names)
}
_AXIS = {"y": 0, "x": 1, "z": 2}  # columns of the EULER_ORDER angles


def _add(*poses: Pose) -> Pose:
    out: Pose = {}
    for p in poses:
        for k, v in p.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _mirror(p: Pose) -> Pose:
    """The same pose on the other side: swap left and right, negate the z and y angles and yaw."""
    out: Pose = {}
    for k, v in p.items():
        joint, _, axis = k.partition(".")
        if joint[:2] in ("l_", "r_"):
            joint = {"l_": "r_", "r_": "l_"}[joint[:2]] + joint[2:]
        flip = axis in ("y", "z") or k == "yaw"
        name = f"{joint}.{axis}" if axis else joint
        out[name] = out.get(name, 0.0) + (-v if flip else v)
    return out


def _scale(p: Pose, a: float) -> Pose:
    return {k: a * v for k, v in p.items()}


def _both(p: Pose) -> Pose:
    """A left-side pose applied to both sides."""
    return _add(p, _mirror(p))


def bend(a: float) -> Pose:
    """Both knees bent by 2a with hips and ankles compensating, so the feet stay flat."""
    return _both({"l_hip.x": -a, "l_knee.x": 2 * a, "l_ankle.x": -a})


def lift(a: float) -> Pose:
    """Left knee raised: thigh forward by a, shin folded back under it."""
    return {"l_hip.x": -a, "l_knee.x": 1.6 * a, "l_ankle.x": -0.4 * a}


def stride(a: float) -> Pose:
    """Left foot forward and right foot back by a (straight legs, feet flat): an open step."""
    return {"l_hip.x": -a, "l_ankle.x": a, "r_hip.x": a, "r_ankle.x": -a}


def wide(a: float) -> Pose:
    """Feet apart sideways (both hips abducted by a)."""
    return _both({"l_hip.z": a})


def rise(a: float) -> Pose:
    """Both heels up (ankles extended): a rise onto the balls of the feet."""
    return _both({"l_ankle.x": a})


def arm(raise_: float = 0.0, swing: float = 0.0, elbow: float = 0.0) -> Pose:
    """Left arm: raise_ lifts it sideways (from the T-pose: -1.25 hangs it down), swing moves it
    forward, elbow bends the forearm forward."""
    return {"l_shoulder.z": raise_, "l_shoulder.x": -swing, "l_elbow.y": -elbow}


def torso(fwd: float = 0.0, side: float = 0.0, twist: float = 0.0) -> Pose:
    """Spread over the three spine joints; side and twist > 0 go to the dancer's left."""
    return {
        f"spine{i}.{ax}": v / 3
        for i in (1, 2, 3)
        for ax, v in (("x", fwd), ("z", -side), ("y", twist))
        if v
    }


def head(nod: float = 0.0, turn: float = 0.0) -> Pose:
    return {"neck.x": nod / 2, "head.x": nod / 2, "neck.y": turn / 2, "head.y": turn / 2}


def sway(a: float) -> Pose:
    """Hips tilted (pelvis roll) with the legs kept vertical and the chest upright."""
    return {"pelvis.z": a, "l_hip.z": -a, "r_hip.z": -a, "spine1.z": -a / 2, "spine2.z": -a / 2}


def tilt(a: float) -> Pose:
    """Pelvis pitched forward (a > 0) with the legs kept vertical: the base of a body wave."""
    return {"pelvis.x": a, "l_hip.x": -a, "r_hip.x": -a}


def shrug(a: float) -> Pose:
    return _both({"l_collar.z": a})


# ----------------------------------------------------------------------------- moves


@dataclass(frozen=True, eq=False)
class Move:
    """A dance move: key poses at beat offsets in (0, beats], as offsets from the stance.

    A move ends with both feet on the floor (together, apart, or under swayed hips), so any move
    can follow any other without a foot sliding. ``intensity`` (0 groove, 1 medium, 2 big) picks moves by section energy.
    """

    name: str
    beats: int
    intensity: int
    offsets: np.ndarray  # (K,) beats from the move's start
    angles: np.ndarray  # (2, K, 24, 3): as written, then mirrored
    yaw: np.ndarray  # (2, K) turn at each key relative to the previous key
    air: np.ndarray  # (K,) metres off the floor


def _pose_arrays(p: Pose) -> tuple[np.ndarray, float, float]:
    angles, yaw, air = np.zeros((SMPL24.n_joints, 3)), 0.0, 0.0
    for k, v in p.items():
        if k == "yaw":
            yaw += v
        elif k == "air":
            air += v
        else:
            joint, axis = k.split(".")
            angles[_JOINT[joint], _AXIS[axis]] += v
    return angles, yaw, air


def move(name: str, beats: int, intensity: int, *keys: tuple[float, Pose]) -> Move:
    """A move from its keys (beat offset, pose), written leading with the left side; the mirrored
    version is made here too, so a dancer can lead with either side."""
    offsets = np.array([o for o, _ in keys], dtype=np.float64)
    if offsets[-1] != beats or np.any(np.diff(offsets) <= 0) or offsets[0] <= 0:
        raise ValueError(f"move {name!r}: key offsets {offsets} must rise within (0, {beats}]")
    sides = [[_pose_arrays(p) for _, p in keys], [_pose_arrays(_mirror(p)) for _, p in keys]]
    return Move(
        name,
        beats,
        intensity,
        offsets,
        np.array([[a for a, _, _ in side] for side in sides]),
        np.array([[y for _, y, _ in side] for side in sides]),
        np.array([air for _, _, air in sides[0]]),
    )


STEP = 0.65  # radians a stepping knee is lifted: the toe clears the floor by about 10 cm


def step_turn(name: str, beats: int, turn: float, arms: Pose, depth: float = 0.15) -> Move:
    """Turn by ``turn`` radians over ``beats`` beats, one step per beat on alternating feet.

    The body turns about the planted foot while the other is lifted and lands on the beat.
    """
    keys: list[tuple[float, Pose]] = []
    for b in range(beats):
        up = lift(STEP) if b % 2 == 0 else _mirror(lift(STEP))
        keys.append((b + 0.5, _add(up, arms, {"yaw": turn / beats})))
        keys.append((b + 1.0, _add(bend(depth), arms)))
    return move(name, beats, 2, *keys)


def jump(
    name: str,
    height: float,
    arms_up: Pose,
    apex: float = 1.0,
    tuck: float = 0.45,
    turn: float = 0.0,
) -> Move:
    """Crouch, take off, reach the highest point at beat offset ``apex`` (1 or 1.5), land a
    quarter beat later and crouch; the move ends standing (or still crouched) on beat 2.

    A ``turn`` happens between the beats around the apex: use it with apex 1.5, where those
    beats are the crouches just before and after the flight.
    """
    crouch = _add(bend(0.3), torso(0.15), _both(arm(swing=-0.2)))
    top = _add(_both(lift(tuck)), arms_up, {"air": height})
    keys = [
        (apex - 0.5, crouch),
        (apex - 0.25, _add(rise(0.15), _scale(_add(crouch, arms_up), 0.5))),
        (apex, top),
        (apex + 0.25, _add(rise(0.1), _scale(arms_up, 0.8))),
        (apex + 0.5, _add(bend(0.3), torso(0.1), _scale(arms_up, 0.4))),
    ]
    if apex + 0.5 < 2:
        keys.append((2.0, {}))
    keys[-1] = (2.0, _add(keys[-1][1], {"yaw": turn}))  # turns between the beats around the apex
    return move(name, 2, 2, *keys)


def step_touch(name: str, arms_out: Pose, arms_in: Pose, intensity: int = 1) -> Move:
    """Step left, close the right foot to it (travels about 25 cm to the left)."""
    return move(
        name, 2, intensity,
        (0.5, _add(lift(STEP), {"l_hip.z": 0.22, "r_hip.z": -0.03}, torso(side=0.08), arms_out)),
        (1.0, _add(wide(0.14), bend(0.12), arms_out)),
        (1.5, _add(_mirror(lift(STEP)), {"l_hip.z": 0.03}, arms_in)),
        (2.0, _add(bend(0.14), arms_in)),
    )  # fmt: skip


def kick(name: str, height: float, arms: Pose, intensity: int = 2) -> Move:
    """Chamber the left knee, kick forward on beat 1, chamber again, close on beat 2."""
    return move(
        name, 2, intensity,
        (0.5, _add(lift(0.8), arms)),
        (1.0, _add({"l_hip.x": -height, "l_knee.x": 0.1, "l_ankle.x": 0.4}, torso(-0.1), arms)),
        (1.5, _add(lift(0.7), arms)),
        (2.0, bend(0.12)),
    )  # fmt: skip


def walk(name: str, arms: Pose, steps: int, size: float = 0.25, depth: float = 0.1) -> Move:
    """``steps`` steps forward (one per beat, leading with the left), closing on the last."""
    keys: list[tuple[float, Pose]] = []
    for b in range(steps):
        side = (lambda p: p) if b % 2 == 0 else _mirror
        up = lift(STEP)
        if b > 0:  # the planted foot is still ahead of the body while the other one lifts
            up = _add(up, {"r_hip.x": -size / 3})
        land = {} if b == steps - 1 else stride(size)
        keys.append((b + 0.5, side(_add(up, arms))))
        keys.append((b + 1.0, side(_add(land, bend(depth), arms))))
    return move(name, steps, 1, *keys)


def point(name: str, leg: Pose, arms: Pose, intensity: int = 1) -> Move:
    """Lift the left foot, point it (``leg``, clear of the floor) on beat 1, lift, close."""
    return move(
        name, 2, intensity,
        (0.5, _add(lift(0.75), arms)),
        (1.0, _add(leg, arms)),
        (1.5, _add(lift(0.65), arms)),
        (2.0, bend(0.14)),
    )  # fmt: skip


def groove(name: str, down: Pose, up: Pose | None = None) -> Move:
    """A one-beat groove: ``up`` on the off-beat, ``down`` on the beat."""
    return move(name, 1, 0, (0.5, up if up is not None else bend(-0.04)), (1.0, down))


ARMS_DOWN = _both(arm(raise_=-1.2, elbow=0.3))


# ----------------------------------------------------------------------------- genres


@dataclass(frozen=True)
class Voice:
    """A synth voice. ``shape``: saw low-pass cutoff (Hz), FM index, square drive or the sine's
    2nd-harmonic level. ``ratio``: FM modulator frequency ratio."""

    kind: str  # "sine", "saw", "fm" or "square"
    attack: float  # seconds
    decay: float  # seconds of exponential amplitude decay
    level: float
    shape: float = 0.0
    ratio: float = 1.0


@dataclass(frozen=True)
class Kit:
    kick: tuple[float, float, float, float]  # start Hz, end Hz, pitch decay s, amplitude decay s
    snare: tuple[float, float, float]  # noise decay s, body Hz, body level
    hat: float  # decay s
    levels: tuple[float, float, float]  # kick, snare, hat


@dataclass(frozen=True, eq=False)
class Genre:
    """A music style and its dance vocabulary.

    Drum patterns are one character per 16th note of a bar: "." silent, 1-9 velocity; a hit
    plays when velocity / 9 >= 1 - section energy, so weak hits (ghost notes, extra hats) come
    in as energy rises.
    """

    name: str
    tempo: tuple[float, float]  # BPM range
    meter: int  # beats per bar
    swing: float  # delay of every second 16th, in 16ths
    kick: str
    snare: str
    hat: str
    kit: Kit
    bass: tuple[tuple[int, int, int], ...]  # (16th step, semitones above the chord root, 16ths)
    bass_voice: Voice
    comp: tuple[tuple[int, int], ...]  # chord hits: (16th step, length in 16ths)
    chord_voice: Voice
    progressions: tuple[tuple[tuple[int, str], ...], ...]  # per bar: (semitones above key, quality)
    stance: Pose
    moves: tuple[Move, ...]


CHORDS = {
    "M": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "M7": (0, 4, 7, 11),
}

# fmt: off
_HOUSE_ARMS = _both(arm(raise_=0.2, swing=0.3, elbow=0.6))
_UP = arm(raise_=2.5, elbow=0.2)
HOUSE = Genre(
    "house", tempo=(118.0, 135.0), meter=4, swing=0.0,
    kick="9...9...9...9...", snare="....9.......9...", hat="2.7.2.7.2.7.2.74",
    kit=Kit((170, 52, 0.03, 0.28), (0.12, 190, 0.2), 0.05, (1.0, 0.6, 0.2)),
    bass=((2, 0, 2), (6, 0, 2), (10, 12, 2), (14, 0, 2)),
    bass_voice=Voice("saw", 0.005, 0.18, 0.5, shape=500.0),
    comp=((3, 2), (6, 2), (11, 2), (14, 1)),
    chord_voice=Voice("saw", 0.004, 0.12, 0.25, shape=2400.0),
    progressions=(((0, "m7"), (8, "M7"), (3, "M"), (10, "M")), ((0, "m7"), (5, "m7")),
                  ((0, "m"), (3, "M"), (8, "M"), (10, "M"))),
    stance=_add(ARMS_DOWN, bend(0.15), torso(0.05)),
    moves=(
        groove("jack", _add(bend(0.2), torso(0.28), head(0.2), _both(arm(swing=0.25, elbow=0.3))),
               _add(bend(-0.04), torso(-0.1), head(-0.1))),
        groove("bounce", _add(bend(0.18), shrug(0.15), _both(arm(raise_=0.15, elbow=0.4)))),
        step_touch("step_touch", _both(arm(raise_=0.8, elbow=0.3)),
                   _both(arm(swing=0.7, elbow=1.0))),
        kick("loose_kick", 1.0, _add(arm(raise_=1.0), _mirror(arm(swing=0.8, elbow=0.8)))),
        move("arms_up", 4, 1,
             (1.0, _add(bend(0.15), _UP)),
             (2.0, _add(bend(0.15), _both(_UP))),
             (3.0, _add(bend(0.15), _mirror(_UP), arm(raise_=1.2))),
             (4.0, _add(bend(0.15), _HOUSE_ARMS))),
        step_turn("step_turn", 4, 2 * np.pi, _both(arm(raise_=0.6, elbow=0.6))),
        jump("jump", 0.12, _both(arm(raise_=1.3, swing=0.3))),
        move("shuffle", 2, 1,
             (0.5, _add(lift(STEP), arm(swing=-0.4, elbow=0.8),
                        _mirror(arm(swing=0.6, elbow=0.8)))),
             (1.0, _add(bend(0.15), _both(arm(elbow=0.6)))),
             (1.5, _mirror(_add(lift(STEP), arm(swing=-0.4, elbow=0.8),
                                _mirror(arm(swing=0.6, elbow=0.8))))),
             (2.0, _add(bend(0.15), _both(arm(elbow=0.6))))),
    ),
)

_HIPHOP_ARMS = _both(arm(raise_=0.15, swing=0.2, elbow=0.9))
_WAVE = _add({"spine3.x": 0.3, "spine2.x": 0.12}, tilt(-0.12), bend(0.1), head(-0.1))
_LIFT_RUN = _add(lift(0.8), torso(0.15), _HIPHOP_ARMS, arm(swing=-0.4))
_WOP = _add(torso(twist=0.35, side=0.1), head(turn=0.3), arm(raise_=0.5, swing=0.5, elbow=1.0),
            bend(0.22))
_SWING = _add(bend(0.2), arm(swing=0.9, elbow=0.7), _mirror(arm(swing=-0.5)), torso(twist=0.25))
_ROCK = _add(sway(0.12), torso(side=0.15, fwd=0.1), arm(raise_=0.3, elbow=1.2), bend(0.1))
HIPHOP = Genre(
    "hiphop", tempo=(80.0, 105.0), meter=4, swing=0.35,
    kick="9.....5.9.....3.", snare="....9..2....9..3", hat="7.5.7.5.7.5.7.5.",
    kit=Kit((140, 45, 0.05, 0.4), (0.16, 180, 0.35), 0.04, (1.0, 0.75, 0.25)),
    bass=((0, 0, 6), (7, 0, 2), (10, 7, 4)),
    bass_voice=Voice("sine", 0.005, 0.5, 0.6, shape=0.25),
    comp=((0, 16),),
    chord_voice=Voice("fm", 0.01, 1.2, 0.22, shape=1.2, ratio=1.0),
    progressions=(((0, "m7"), (8, "M7"), (5, "m7"), (7, "m7")), ((0, "m7"), (5, "m7")),
                  ((0, "m7"), (3, "M7"), (10, "7"), (5, "m7"))),
    stance=_add(_both(arm(raise_=-1.15, elbow=0.5)), bend(0.22), torso(0.12), head(0.05)),
    moves=(
        groove("bounce", _add(bend(0.25), torso(0.12), head(0.25),
                              _both(arm(elbow=0.5, swing=0.15))),
               _add(bend(-0.05), head(-0.1))),
        move("rock", 2, 0, (1.0, _ROCK), (2.0, _mirror(_ROCK))),
        move("arm_swing", 2, 0, (1.0, _SWING), (2.0, _mirror(_SWING))),
        move("knee_lift", 2, 1,
             (0.5, _LIFT_RUN), (1.0, _add(bend(0.2), _HIPHOP_ARMS)),
             (1.5, _mirror(_LIFT_RUN)), (2.0, _add(bend(0.2), _HIPHOP_ARMS))),
        move("body_wave", 2, 1,
             (0.5, _WAVE),
             (1.0, _add(torso(-0.15), tilt(0.15), bend(0.25), head(0.2), _both(arm(elbow=0.8)))),
             (1.5, _WAVE),
             (2.0, _add(bend(0.2), _HIPHOP_ARMS))),
        step_touch("step_touch", _both(arm(raise_=0.4, elbow=1.3)),
                   _add(arm(swing=0.6, elbow=1.2), _mirror(arm(swing=-0.3)))),
        step_turn("spin", 4, 2 * np.pi, _HIPHOP_ARMS, depth=0.2),
        jump("jump", 0.1, _add(arm(raise_=1.3), _mirror(arm(raise_=0.8, elbow=1.0)))),
        move("wop", 2, 1, (1.0, _WOP), (2.0, _mirror(_WOP))),
    ),
)

_GUARD = _both(arm(raise_=0.2, swing=0.6, elbow=1.5))
_PUNCH = _add(_mirror(_GUARD), {"l_shoulder.z": 0.6}, arm(swing=0.6, elbow=-0.9),
              torso(twist=-0.25), bend(0.2))
BREAKING = Genre(
    "breaking", tempo=(100.0, 150.0), meter=4, swing=0.1,
    kick="9.3.....9.7.....", snare="....9..3.2..9..3", hat="7575757575757575",
    kit=Kit((150, 55, 0.025, 0.2), (0.1, 220, 0.4), 0.03, (1.0, 0.8, 0.3)),
    bass=((0, 0, 2), (3, 12, 1), (6, 0, 2), (8, 7, 2), (11, 10, 1), (14, 12, 2)),
    bass_voice=Voice("saw", 0.003, 0.15, 0.5, shape=700.0),
    comp=((2, 1), (5, 1), (10, 1), (13, 1)),
    chord_voice=Voice("square", 0.002, 0.09, 0.18, shape=3.0),
    progressions=(((0, "7"), (5, "7")), ((0, "m7"), (5, "7")),
                  ((0, "7"), (0, "7"), (5, "7"), (7, "7"))),
    stance=_add(_both(arm(raise_=-1.0, swing=0.3, elbow=1.2)), bend(0.2), torso(0.15)),
    moves=(
        point("indian_step", _add({"l_hip.x": -0.6, "l_hip.z": -0.15, "l_knee.x": 0.5,
                                   "l_ankle.x": -0.1}, torso(twist=-0.2)), _GUARD),
        kick("kick", 1.1, _GUARD),
        point("salsa_step", _add({"l_hip.x": 0.3, "l_knee.x": 0.9, "l_ankle.x": 0.3},
                                 torso(twist=0.3)),
              _add(arm(raise_=0.9, elbow=0.3), _mirror(arm(swing=0.6, elbow=1.4)))),
        move("drop", 2, 1,
             (1.0, _add(bend(0.7), torso(0.35), arm(raise_=1.0, elbow=0.3),
                        _mirror(arm(swing=0.6, elbow=1.5)))),
             (2.0, _add(bend(0.15), _GUARD))),
        groove("punch", _PUNCH, _add(bend(0.1), _GUARD)),
        jump("jump_turn", 0.12, _both(arm(raise_=0.3, swing=0.5, elbow=1.3)), apex=1.5, tuck=0.6,
             turn=np.pi / 2),
        step_turn("step_turn", 4, 2 * np.pi, _GUARD, depth=0.2),
        groove("shoulder_rock", _add(shrug(0.25), bend(0.25), head(0.2), torso(0.1)),
               _add(shrug(-0.05), bend(0.1))),
    ),
)

_FRAME = _both(arm(raise_=-0.3, swing=0.6, elbow=0.7))
_SWAY = _add(sway(0.1), torso(side=0.2), _both(arm(raise_=0.8, elbow=0.3)), bend(0.1))
_SPOT = _add(_mirror(lift(0.7)), {"l_ankle.x": 0.3}, _both(arm(raise_=0.9, swing=0.4, elbow=1.1)))
WALTZ = Genre(
    "waltz", tempo=(80.0, 120.0), meter=3, swing=0.0,
    kick="9...........", snare="....5...5...", hat="..3...3...3.",
    kit=Kit((110, 48, 0.04, 0.3), (0.2, 170, 0.1), 0.05, (0.7, 0.35, 0.15)),
    bass=((0, 0, 4),),
    bass_voice=Voice("sine", 0.01, 0.6, 0.6, shape=0.35),
    comp=((4, 3), (8, 3)),
    chord_voice=Voice("fm", 0.005, 0.5, 0.3, shape=1.6, ratio=2.0),
    progressions=(((0, "M"), (5, "M"), (7, "7"), (0, "M")),
                  ((0, "M"), (9, "m"), (2, "m"), (7, "7")),
                  ((0, "M"), (4, "m"), (5, "M"), (7, "M"))),
    stance=_add(ARMS_DOWN, bend(0.06), torso(-0.03)),
    moves=(
        move("box", 3, 1,
             (0.5, _add(lift(STEP), _FRAME)),
             (1.0, _add(stride(0.25), bend(0.1), _FRAME)),
             (1.5, _add(_mirror(lift(STEP)), {"r_hip.z": -0.2, "l_hip.x": -0.08}, rise(0.1),
                        _FRAME)),
             (2.0, _add(wide(0.12), rise(0.25), _FRAME)),
             (2.5, _add(lift(STEP), {"r_hip.z": -0.06}, rise(0.15), _FRAME)),
             (3.0, _add(rise(0.15), _FRAME))),
        move("balance", 3, 0,
             (0.5, _add(lift(STEP), {"l_hip.z": 0.2}, arm(raise_=1.2, elbow=0.4))),
             (1.0, _add(wide(0.12), bend(0.15), arm(raise_=1.3, elbow=0.3), torso(side=0.1))),
             (1.5, _add(_mirror(lift(STEP)), {"l_hip.z": 0.03}, rise(0.1))),
             (2.0, _add(rise(0.3), arm(raise_=1.0, elbow=0.4))),
             (3.0, _add(rise(0.15), arm(raise_=0.5, elbow=0.4)))),
        move("sway", 3, 0,
             (1.0, _SWAY),
             (2.0, _add(sway(0.06), torso(side=0.12), _both(arm(raise_=1.4, elbow=0.3)),
                        rise(0.2))),
             (3.0, _add(_both(arm(raise_=0.6, elbow=0.3)), rise(0.1)))),
        move("turn", 3, 2,
             *[(o, _add(_SPOT, {"yaw": np.pi / 3})) for o in (0.5, 1.0, 1.5, 2.0, 2.5)],
             (3.0, _add(bend(0.1), _both(arm(raise_=0.8, elbow=0.4)), {"yaw": np.pi / 3}))),
        move("port_de_bras", 3, 0,
             (1.0, _add(bend(0.15), _both(arm(raise_=0.3, swing=1.0, elbow=0.5)))),
             (2.0, _add(_both(arm(raise_=2.2, swing=0.3, elbow=0.4)), rise(0.2), torso(-0.1))),
             (3.0, _add(_both(arm(raise_=1.0, elbow=0.2)), rise(0.1)))),
        walk("promenade", _FRAME, 3),
        groove("rise", _add(rise(0.3), _FRAME), _add(bend(0.15), _FRAME)),
        step_turn("box_turn", 3, np.pi / 2, _FRAME, depth=0.1),
    ),
)

_LATIN_ARMS = _both(arm(raise_=0.3, swing=0.3, elbow=1.3))
_SHIMMY = _add(torso(twist=0.2), shrug(0.1), bend(0.08), _LATIN_ARMS)
LATIN = Genre(
    "latin", tempo=(100.0, 160.0), meter=4, swing=0.0,
    kick="9.....9.....9...", snare="..6..6....6..6..", hat="5353535353535353",
    kit=Kit((130, 60, 0.02, 0.18), (0.05, 800, 0.8), 0.06, (0.8, 0.5, 0.35)),
    bass=((0, 0, 5), (6, 7, 5), (12, 12, 3)),
    bass_voice=Voice("fm", 0.003, 0.25, 0.5, shape=1.0, ratio=1.0),
    comp=((0, 2), (3, 2), (6, 2), (10, 2), (12, 2)),
    chord_voice=Voice("fm", 0.002, 0.25, 0.25, shape=2.5, ratio=1.0),
    progressions=(((0, "m"), (5, "m"), (7, "7"), (0, "m")),
                  ((0, "M"), (5, "M"), (7, "7"), (5, "M")),
                  ((0, "m"), (7, "7"))),
    stance=_add(_both(arm(raise_=-0.9, elbow=1.3)), bend(0.12)),
    moves=(
        move("basic", 4, 1,
             (0.5, _add(lift(STEP), sway(0.05))),
             (1.0, _add(stride(0.25), bend(0.08), sway(-0.06))),
             (1.5, _add(stride(0.25), {"r_hip.x": -0.1, "r_knee.x": 0.9, "r_ankle.x": -0.3})),
             (2.0, _add(stride(0.25), bend(0.08), sway(0.06))),
             (2.5, _add(lift(STEP), {"r_hip.x": -0.08})),
             (3.0, _add(bend(0.12), sway(-0.08))),
             (4.0, _add(bend(0.05), sway(0.1), _LATIN_ARMS))),
        move("side_basic", 4, 1,
             (0.5, _add(lift(STEP), {"l_hip.z": 0.2}, _LATIN_ARMS)),
             (1.0, _add(wide(0.12), bend(0.12), sway(0.06))),
             (1.5, _add(_mirror(lift(STEP)), {"l_hip.z": 0.03})),
             (2.0, _add(bend(0.12), sway(-0.08), _LATIN_ARMS)),
             (2.5, _add(_mirror(lift(STEP)), {"r_hip.z": -0.2})),
             (3.0, _add(wide(0.12), bend(0.12), sway(-0.06))),
             (3.5, _add(lift(STEP), {"r_hip.z": -0.03})),
             (4.0, _add(bend(0.12), sway(0.08), _LATIN_ARMS))),
        groove("hip_sway", _add(sway(0.14), torso(side=-0.1), bend(0.12),
                                arm(raise_=0.8, elbow=0.6)),
               _add(sway(-0.04), bend(0.05))),
        point("cumbia", _add({"l_hip.x": 0.3, "l_knee.x": 0.9, "l_ankle.x": 0.3},
                             torso(fwd=0.1, twist=0.2)),
              _add(arm(raise_=1.0, elbow=0.5), _mirror(arm(raise_=0.2, elbow=1.2)))),
        move("arm_circle", 2, 0,
             (1.0, _add(arm(raise_=2.3, swing=0.4, elbow=0.3), sway(0.08), bend(0.1))),
             (2.0, _add(arm(raise_=1.0, swing=-0.3, elbow=0.3), sway(-0.08), bend(0.1)))),
        step_turn("turn", 4, 2 * np.pi,
                  _add(arm(raise_=2.2, elbow=0.5), _mirror(arm(raise_=0.4, elbow=1.0)))),
        move("shimmy", 1, 0,
             (0.5, _SHIMMY), (0.75, _add(torso(twist=-0.2), bend(0.12), _LATIN_ARMS)),
             (1.0, _add(bend(0.15), _LATIN_ARMS))),
        kick("flick", 0.7, _LATIN_ARMS),
    ),
)

_BRAS_BAS = _both(arm(raise_=-1.05, swing=0.25, elbow=0.35))
_PASSE = {"l_hip.x": -0.7, "l_hip.z": 0.3, "l_knee.x": 1.8, "l_ankle.x": 0.5}
_FIFTH = _both(arm(raise_=2.3, swing=0.2, elbow=0.4))
_FIRST = _both(arm(raise_=-0.2, swing=1.0, elbow=1.3))
BALLET = Genre(
    "ballet", tempo=(80.0, 110.0), meter=4, swing=0.0,
    kick="7.......3.......", snare="................", hat="....2.......2...",
    kit=Kit((90, 45, 0.06, 0.6), (0.2, 160, 0.1), 0.12, (0.6, 0.0, 0.1)),
    bass=((0, 0, 16),),
    bass_voice=Voice("sine", 0.05, 2.0, 0.5, shape=0.4),
    comp=((0, 4), (4, 4), (8, 4), (12, 4)),
    chord_voice=Voice("fm", 0.004, 0.7, 0.3, shape=0.8, ratio=1.0),
    progressions=(((0, "M"), (9, "m"), (5, "M"), (7, "M")),
                  ((0, "M"), (4, "m"), (5, "M"), (7, "7")),
                  ((0, "M7"), (5, "M7"))),
    stance=_add(_BRAS_BAS, _both({"l_hip.y": 0.45}), bend(0.03), torso(-0.03), head(-0.05)),
    moves=(
        move("plie", 4, 0,
             (1.0, _add(bend(0.18), _both(arm(raise_=0.3, swing=0.5, elbow=0.3)))),
             (2.0, _add(bend(0.35), _both(arm(raise_=0.7, swing=0.9, elbow=0.5)))),
             (3.0, _add(bend(0.18), _both(arm(raise_=1.1, elbow=0.3)))),
             (4.0, bend(0.0))),
        move("releve", 2, 0,
             (1.0, _add(rise(0.45), _FIFTH)),
             (2.0, _add(bend(0.12), _both(arm(raise_=0.4, swing=0.6, elbow=0.4))))),
        move("port_de_bras", 4, 0,
             (1.0, _both(arm(raise_=0.6, swing=1.1, elbow=0.5))),
             (2.0, _both(arm(raise_=1.0, elbow=0.2))),
             (3.0, _add(_FIFTH, torso(side=0.15, fwd=-0.1))),
             (4.0, _both(arm(raise_=0.3, swing=0.3, elbow=0.3)))),
        move("arabesque", 4, 2,
             (1.0, _add(_PASSE, _both(arm(raise_=0.6, swing=1.0, elbow=0.6)))),
             (2.0, _add({"l_hip.x": 1.0, "l_ankle.x": 0.5, "r_ankle.x": 0.2}, torso(0.3),
                        arm(raise_=1.2), _mirror(arm(raise_=1.3, swing=0.8)))),
             (3.0, _add({"l_hip.x": 0.8, "l_ankle.x": 0.5}, torso(0.2), arm(raise_=1.1),
                        _mirror(arm(raise_=1.6, swing=0.6)))),
             (3.5, _add(_PASSE, _both(arm(raise_=0.6, swing=0.6, elbow=0.6)))),
             (4.0, bend(0.05))),
        move("developpe", 4, 1,
             (1.0, _add(_PASSE, _both(arm(raise_=0.5, swing=1.1, elbow=0.6)))),
             (2.0, _add({"l_hip.x": -1.2, "l_ankle.x": 0.5}, _both(arm(raise_=1.3, elbow=0.3)))),
             (3.0, _add({"l_hip.x": -0.7, "l_knee.x": 0.3, "l_ankle.x": 0.5},
                        _both(arm(raise_=1.0, elbow=0.3)))),
             (3.5, _add(_PASSE, _both(arm(raise_=0.6, elbow=0.3)))),
             (4.0, bend(0.05))),
        move("pirouette", 4, 2,
             (1.0, _add(bend(0.3), _both(arm(raise_=0.5, swing=1.1, elbow=0.8)))),
             (1.5, _add(_mirror(_PASSE), {"l_ankle.x": 0.4}, _FIRST)),
             (2.5, _add(_mirror(_PASSE), {"l_ankle.x": 0.4}, _FIRST, {"yaw": 2 * np.pi})),
             (3.0, _add(bend(0.2), _both(arm(raise_=0.8, elbow=0.4)))),
             (4.0, _add(bend(0.05), _both(arm(raise_=1.2, elbow=0.2))))),
        jump("saute", 0.1, _both(arm(raise_=1.3, swing=0.2, elbow=0.5)), tuck=0.1),
        kick("grand_battement", 1.4, _both(arm(raise_=1.2, elbow=0.2))),
    ),
)
# fmt: on

GENRES = {g.name: g for g in (HOUSE, HIPHOP, BREAKING, WALTZ, LATIN, BALLET)}
SEEN_GENRES = ("house", "hiphop", "breaking", "waltz")
HELD_OUT_GENRES = ("latin", "ballet")

SECTION_ENERGY = {"intro": 0.35, "verse": 0.6, "chorus": 0.9, "break": 0.25}
NEXT_SECTION = {
    "intro": ("verse",),
    "verse": ("chorus",),
    "chorus": ("break", "verse"),
    "break": ("chorus", "verse"),
}


def genre_for(split: str, index: int) -> Genre:
    """Genres take turns within a split; "unseen" has only the held-out ones."""
    group = HELD_OUT_GENRES if split == "unseen" else SEEN_GENRES
    return GENRES[group[index % len(group)]]


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True, eq=False)
class Plan:
    """Tempo, bar grid and sections. Bar -1 starts before the clip (it is an excerpt)."""

    tempo: float
    meter: int
    first_downbeat: float  # seconds, in [0, bar length)
    n_bars: int  # bars 0..n_bars-1 start inside the clip
    section_of_bar: np.ndarray  # (n_bars + 1,) section index of bars -1..n_bars-1
    sections: list[dict]  # name, start, end, energy

    @property
    def beat(self) -> float:
        return 60.0 / self.tempo

    def beat_time(self, beats: np.ndarray | float) -> np.ndarray | float:
        return self.first_downbeat + np.asarray(beats) * self.beat

    def bar_energy(self, bar: int) -> float:
        return self.sections[self.section_of_bar[bar + 1]]["energy"]

    def section_start_bar(self, bar: int) -> int:
        """The first bar of the section that ``bar`` belongs to."""
        return int(np.argmax(self.section_of_bar == self.section_of_bar[bar + 1])) - 1


def plan_music(rng: np.random.Generator, genre: Genre) -> Plan:
    tempo = float(rng.uniform(*genre.tempo))
    bar = genre.meter * 60.0 / tempo
    first = float(rng.uniform(0.0, bar))
    n_bars = int(np.ceil((CLIP_SECONDS - first) / bar))
    name = str(rng.choice(["intro", "verse", "break"]))
    sections, owner, b = [], [], 0
    while b < n_bars:
        length = int(rng.choice([2, 4]))
        energy = float(np.clip(SECTION_ENERGY[name] + rng.uniform(-0.08, 0.08), 0.15, 1.0))
        start = 0.0 if not sections else first + b * bar
        end = min(CLIP_SECONDS, first + (b + length) * bar)
        sections.append(
            {
                "name": name,
                "start": round(start, 4),
                "end": round(end, 4),
                "energy": round(energy, 3),
            }
        )
        owner += [len(sections) - 1] * length
        b += length
        name = str(rng.choice(NEXT_SECTION[name]))
    sections[-1]["end"] = CLIP_SECONDS
    return Plan(tempo, genre.meter, first, n_bars, np.array([0] + owner[:n_bars]), sections)


# ----------------------------------------------------------------------------- music


def _drum_kit(rng: np.random.Generator, kit: Kit) -> dict[str, np.ndarray]:
    """One-shot samples for this clip's kit (the genre's, detuned by up to 10%)."""
    j = rng.uniform(0.9, 1.1, 8)
    f0, f1, pitch_decay, decay = kit.kick
    t = np.arange(int(0.6 * SAMPLE_RATE)) / SAMPLE_RATE
    freq = f1 * j[0] + (f0 - f1) * j[1] * np.exp(-t / pitch_decay)
    kick = np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE) * np.exp(-t / (decay * j[2]))
    kick[:128] += 0.6 * rng.standard_normal(128) * np.exp(-t[:128] / 0.003)  # the beater's click
    noise_decay, body, body_level = kit.snare
    ts = t[: int(0.35 * SAMPLE_RATE)]
    noise = np.diff(rng.standard_normal(ts.size + 1))  # first difference: a gentle high-pass
    snare = noise * np.exp(-ts / (noise_decay * j[3])) / 2 + body_level * np.sin(
        2 * np.pi * body * j[4] * ts
    ) * np.exp(-ts / 0.04)
    th = t[: int(0.25 * SAMPLE_RATE)]
    hat = np.diff(rng.standard_normal(th.size + 2), 2) * np.exp(-th / (kit.hat * j[5])) / 4
    tc = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
    crash = np.diff(rng.standard_normal(tc.size + 2), 2) * np.exp(-tc / (0.6 * j[6])) / 4
    levels = dict(zip(("kick", "snare", "hat"), kit.levels, strict=True))
    out = {"kick": kick, "snare": snare, "hat": hat, "crash": crash}
    return {
        k: (x * levels.get(k, 0.15) / np.abs(x).max()).astype(np.float32) for k, x in out.items()
    }


def _add_at(out: np.ndarray, start: int, x: np.ndarray) -> None:
    """out[start:] += x, cropped to out (a note that starts before the clip is heard from 0)."""
    x = x[max(0, -start) :]
    start = max(start, 0)
    n = min(x.size, out.size - start)
    if n > 0:
        out[start : start + n] += x[:n]


def _grid_times(plan: Plan, genre: Genre, steps: np.ndarray) -> np.ndarray:
    """(bars + 1, len(steps)) times in seconds of 16th steps in bars -1..n_bars-1, with swing."""
    step = plan.beat / 4
    delay = np.where(steps % 2 == 1, genre.swing * step, 0.0)
    bars = np.arange(-1, plan.n_bars)[:, None] * plan.meter * plan.beat
    return plan.first_downbeat + bars + steps[None, :] * step + delay[None, :]


def _drums(rng: np.random.Generator, plan: Plan, genre: Genre, out: np.ndarray) -> None:
    kit = _drum_kit(rng, genre.kit)
    energy = np.array([plan.bar_energy(b) for b in range(-1, plan.n_bars)])
    is_break = np.array([plan.sections[s]["name"] == "break" for s in plan.section_of_bar])
    gain = 0.5 + 0.5 * energy
    for name, pattern in (("kick", genre.kick), ("snare", genre.snare), ("hat", genre.hat)):
        vel = np.array([0 if c == "." else int(c) for c in pattern], dtype=np.float64) / 9
        times = _grid_times(plan, genre, np.arange(len(pattern)))
        play = (vel[None, :] > 0) & (vel[None, :] >= 1.0 - energy[:, None])
        if name == "kick":
            play &= ~is_break[:, None]
        accent = np.where(np.arange(len(pattern)) == 0, 1.3, 1.0)  # downbeats
        amp = vel[None, :] * accent[None, :] * gain[:, None] * rng.uniform(0.9, 1.1, times.shape)
        for t, a in zip(times[play], amp[play], strict=True):
            _add_at(out, int(round(t * SAMPLE_RATE)), kit[name] * a)
    for s in plan.sections[1:]:
        if s["energy"] > 0.7 and genre.kit.levels[2] > 0.2:
            _add_at(out, int(round(s["start"] * SAMPLE_RATE)), kit["crash"] * s["energy"])


def _tone(voice: Voice, freqs: np.ndarray, n: int) -> np.ndarray:
    """A note (or chord) of n samples plus a 20 ms release, summed over ``freqs`` (float32).

    Rendering stops where the decay has reached -60 dB.
    """
    release = int(0.02 * SAMPLE_RATE)
    n = min(n, int(7 * voice.decay * SAMPLE_RATE)) + release
    t = np.arange(n, dtype=np.float32) / np.float32(SAMPLE_RATE)
    phase = np.float32(2 * np.pi) * freqs.astype(np.float32)[:, None] * t
    if voice.kind == "sine":
        x = np.sin(phase) + np.float32(voice.shape) * np.sin(phase * np.float32(2))
    elif voice.kind == "saw":
        x = phase / np.float32(2 * np.pi) % np.float32(1) * np.float32(2) - np.float32(1)
        a = np.exp(-2 * np.pi * voice.shape / SAMPLE_RATE)
        x = lfilter(np.array([1 - a], np.float32), np.array([1, -a], np.float32), x, axis=-1)
    elif voice.kind == "fm":
        index = np.float32(voice.shape) * np.exp(t / np.float32(-0.5 * voice.decay))
        x = np.sin(phase + index * np.sin(phase * np.float32(voice.ratio)))
    else:  # "square": a driven sine
        x = np.tanh(np.float32(voice.shape) * np.sin(phase))
    env = np.exp(t / np.float32(-voice.decay))
    onset = min(n, int(5 * voice.attack * SAMPLE_RATE) + 1)
    env[:onset] *= 1 - np.exp(t[:onset] / np.float32(-voice.attack))
    env[-release:] *= np.linspace(1, 0, release, dtype=np.float32)
    return x.sum(axis=0) * (env * np.float32(1 / np.sqrt(len(freqs))))


def _midi_hz(note: np.ndarray) -> np.ndarray:
    return 440.0 * 2 ** ((np.asarray(note, dtype=np.float64) - 69) / 12)


def _harmony(rng: np.random.Generator, plan: Plan, genre: Genre, out: np.ndarray) -> None:
    """Bass line and chords, one chord per bar from one of the genre's progressions."""
    key = int(rng.integers(0, 12))
    progression = genre.progressions[int(rng.integers(len(genre.progressions)))]
    step = plan.beat / 4
    voices = {
        "bass": _jitter_voice(rng, genre.bass_voice),
        "chord": _jitter_voice(rng, genre.chord_voice),
    }
    rendered: dict[tuple, np.ndarray] = {}  # patterns repeat: each distinct note is made once

    def play(part: str, notes: tuple[int, ...], t: float, steps: int, gain: float) -> None:
        if (part, notes, steps) not in rendered:
            n = int(steps * step * SAMPLE_RATE)
            rendered[part, notes, steps] = (
                _tone(voices[part], _midi_hz(notes), n) * voices[part].level
            )
        _add_at(out, int(round(t * SAMPLE_RATE)), rendered[part, notes, steps] * gain)

    for bar in range(-1, plan.n_bars):
        root, quality = progression[bar % len(progression)]
        pitch = (key + root) % 12
        gain = 0.5 + 0.5 * plan.bar_energy(bar)
        t0 = plan.first_downbeat + bar * plan.meter * plan.beat
        for s, interval, length in genre.bass:
            play("bass", (36 + pitch + interval,), t0 + s * step, length, gain)
        chord = tuple(55 + pitch + i for i in CHORDS[quality])
        for s, length in genre.comp:
            play("chord", chord, t0 + s * step, length, gain)


def _jitter_voice(rng: np.random.Generator, v: Voice) -> Voice:
    """The genre's voice with this clip's timbre: decay and shape varied by up to 15%."""
    d, s = rng.uniform(0.85, 1.15, 2)
    return Voice(v.kind, v.attack, v.decay * d, v.level, v.shape * s, v.ratio)


def render_music(rng: np.random.Generator, plan: Plan, genre: Genre) -> np.ndarray:
    """(N_SAMPLES,) float32 audio, peak -3 dBFS, quantised to 16 bit."""
    out = np.zeros(N_SAMPLES, dtype=np.float32)
    _drums(rng, plan, genre, out)
    _harmony(rng, plan, genre, out)
    out *= PEAK / np.abs(out).max()
    return (np.round(out * 32767) / 32768).astype(np.float32)


# ----------------------------------------------------------------------------- dance


# Joint groups scaled together. The pelvis goes with the legs: sway() and tilt() turn it and
# counter-turn the hips by the same angle, which must stay equal to keep the feet planted.
_STYLE_PARTS = {
    part: tuple(_JOINT[j] for j in joints)
    for part, joints in (
        ("arms", ("l_collar", "r_collar", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow")),
        ("legs", ("pelvis", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle")),
        ("torso", ("spine1", "spine2", "spine3", "neck", "head")),
    )
}


def _move_weights(genre: Genre, energy: float) -> np.ndarray:
    """Low energy favours grooves (intensity 0), high energy big moves (intensity 2)."""
    level = np.array([m.intensity / 2 for m in genre.moves])
    w = np.exp(-((level - energy) ** 2) / (2 * 0.25**2))
    return w / w.sum()


@dataclass(frozen=True, eq=False)
class Keys:
    """The key poses of a whole clip, in time order."""

    beats: np.ndarray  # (K,) positions in beats, 0 = the first downbeat in the clip
    angles: np.ndarray  # (K, 24, 3) local joint angles (EULER_ORDER columns)
    yaw: np.ndarray  # (K,) facing in radians
    air: np.ndarray  # (K,) metres off the floor
    hit: np.ndarray  # (K,) on a whole beat: reached with zero velocity


def choreograph(rng: np.random.Generator, plan: Plan, genre: Genre) -> tuple[Keys, list[dict]]:
    """Key poses for the whole clip and the moves danced (as annotations).

    Bars are filled with moves (a move is often repeated mirrored); in each section the odd bars
    repeat the bar before them mirrored. A move's size follows its section's energy.
    """
    meter = plan.meter
    stance, _, _ = _pose_arrays(_add(genre.stance, bend(float(rng.uniform(-0.04, 0.08)))))
    # the dancer's style: how big the arm, leg and torso motions are
    style = np.ones(SMPL24.n_joints)
    for part, scale in zip(_STYLE_PARTS, rng.uniform(0.85, 1.15, len(_STYLE_PARTS)), strict=True):
        style[list(_STYLE_PARTS[part])] = scale
    legs = np.isin(np.arange(SMPL24.n_joints), _STYLE_PARTS["legs"])[:, None]
    tempo_scale = (110.0 / plan.tempo) ** 0.5  # dancers make smaller moves at fast tempi
    beats, angles, yaw, air, hit = [[-meter]], [stance[None]], [[0.0]], [[0.0]], [[True]]
    moves: list[dict] = []
    bar_plan: list[tuple[Move, bool]] = []
    for bar in range(-1, plan.n_bars):
        energy = plan.bar_energy(bar)
        if (bar - plan.section_start_bar(bar)) % 2 == 0:
            bar_plan = _fill_bar(rng, genre, meter, energy)
        else:
            bar_plan = [(m, not mirrored) for m, mirrored in bar_plan]
        b = bar * meter
        for m, mirrored in bar_plan:
            amp = (0.5 + 0.6 * energy) * tempo_scale * rng.uniform(0.9, 1.1)
            # the legs keep most of their size: a step must clear the floor at any energy
            legs_amp = 0.8 + 0.2 * amp
            beats.append(b + m.offsets)
            angles.append(
                stance + style[:, None] * np.where(legs, legs_amp, amp) * m.angles[int(mirrored)]
            )
            yaw.append(m.yaw[int(mirrored)])
            air.append(legs_amp * m.air)
            hit.append(m.offsets == np.round(m.offsets))
            start, end = plan.beat_time(b), plan.beat_time(b + m.beats)
            if end > 0 and start < CLIP_SECONDS:
                moves.append({
                    "label": m.name,
                    "start": round(float(max(start, 0.0)), 4),
                    "end": round(float(min(end, CLIP_SECONDS)), 4),
                    "beats": m.beats,
                })  # fmt: skip
            b += m.beats
    keys = Keys(
        beats=np.concatenate(beats).astype(np.float64),
        angles=np.concatenate(angles),
        yaw=np.cumsum(np.concatenate(yaw)) + rng.uniform(-0.5, 0.5),
        air=np.concatenate(air),
        hit=np.concatenate(hit),
    )
    return keys, moves


def _fill_bar(
    rng: np.random.Generator, genre: Genre, meter: int, energy: float
) -> list[tuple[Move, bool]]:
    """Moves filling one bar: (move, mirrored) pairs; a move is repeated mirrored 60% of times."""
    weights = _move_weights(genre, energy)
    out: list[tuple[Move, bool]] = []
    left = meter
    while left:
        last = out[-1] if out else None
        if last is not None and last[0].beats <= left and rng.random() < 0.6:
            out.append((last[0], not last[1]))
        else:
            fits = np.array([m.beats <= left for m in genre.moves])
            p = weights * fits
            m = genre.moves[int(rng.choice(len(p), p=p / p.sum()))]
            out.append((m, bool(rng.random() < 0.5)))
        left -= out[-1][0].beats
    return out


def _min_jerk(s: np.ndarray) -> np.ndarray:
    return s**3 * (10 - 15 * s + 6 * s**2)


def _interval(kb: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For positions u: the key interval each falls in, its length and the fraction s in [0, 1]."""
    i = np.clip(np.searchsorted(kb, u, side="right") - 1, 0, len(kb) - 2)
    span = kb[i + 1] - kb[i]
    return i, span, np.clip((u - kb[i]) / span, 0.0, 1.0)


def _ease(kb: np.ndarray, values: np.ndarray, hit: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Quintic Hermite through keys (K, D) at positions u (beats), zero acceleration at keys.

    Hit keys have zero velocity (the motion stops on the beat); others pass through with the
    Catmull-Rom velocity of their neighbours.
    """
    vel = np.zeros_like(values)
    inner = ~hit[1:-1]
    vel[1:-1][inner] = ((values[2:] - values[:-2]) / (kb[2:] - kb[:-2])[:, None])[inner]
    i, span, s = _interval(kb, u)
    s = s[:, None]
    s3 = s**3
    h_start = s - 6 * s3 + 8 * s3 * s - 3 * s3 * s**2  # weight of the start velocity
    h_end = -4 * s3 + 7 * s3 * s - 3 * s3 * s**2
    return (
        values[i]
        + (values[i + 1] - values[i]) * _min_jerk(s)
        + span[:, None] * (h_start * vel[i] + h_end * vel[i + 1])
    )


def _turn(kb: np.ndarray, yaw: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Facing between hit keys, eased within the middle 80% of each interval: on the beats (where
    the feet are down) the body does not turn."""
    i, _, s = _interval(kb, u)
    return yaw[i] + (yaw[i + 1] - yaw[i]) * _min_jerk(np.clip((s - 0.1) / 0.8, 0.0, 1.0))


def level_feet(angles: np.ndarray) -> np.ndarray:
    """Key poses (K, 24, 3) with both feet on the floor wherever both are nearly down.

    Where the feet's lowest joints differ by less than LEVEL_BAND (a step landing beside or in
    front of the other foot, a wide stance on an asymmetric skeleton), the lower foot's ankle is
    flexed, toe up, until its toe is level with the other foot. Both feet then stand still on
    the floor at the key, so the support can pass from one to the other without either sliding.
    """
    angles = angles.copy()
    keys = np.arange(len(angles))
    ankle = np.array([_JOINT["l_ankle"], _JOINT["r_ankle"]])
    for _ in range(3):  # Newton steps on the toe height
        pos = SMPL24.forward_kinematics(euler_to_matrix(angles, EULER_ORDER))
        feet = pos[:, FOOT_JOINTS].reshape(-1, 2, 2, 3)  # key, foot (l, r), joint (ankle, toe)
        height = feet[..., 1].min(axis=2)
        gap = height[:, 0] - height[:, 1]
        lower = (gap > 0).astype(int)
        sole = feet[keys, lower]  # (K, 2, 3) the lower foot's ankle and toe
        lever = np.linalg.norm((sole[:, 1] - sole[:, 0])[:, [0, 2]], axis=1)
        fix = (np.abs(gap) < LEVEL_BAND) & (sole[:, 1, 1] <= sole[:, 0, 1])
        angles[keys[fix], ankle[lower[fix]], _AXIS["x"]] -= np.abs(gap[fix]) / lever[fix]
    return angles


def animate(keys: Keys, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions (T, 24, 3) float64 and the support foot of each frame (T,) int8.

    Forward kinematics without root translation gives each frame's pose; the root is then
    raised so the lowest foot joint touches the floor (plus any jump height) and moved so that
    joint stays where it is (foot locking). In the air the root keeps its horizontal place. The
    path is centred on the origin.
    """
    u = (np.arange(N_FRAMES) / FPS - plan.first_downbeat) / plan.beat
    n = SMPL24.n_joints
    values = np.concatenate([level_feet(keys.angles).reshape(-1, n * 3), keys.air[:, None]], axis=1)
    v = _ease(keys.beats, values, keys.hit, u)
    rot = euler_to_matrix(v[:, :-1].reshape(-1, n, 3), EULER_ORDER)
    rot[:, 0] = axis_rotation(_turn(keys.beats[keys.hit], keys.yaw[keys.hit], u), "y") @ rot[:, 0]
    air = np.maximum(v[:, -1], 0.0)
    airborne = air > 0
    local = SMPL24.forward_kinematics(rot, np.zeros((N_FRAMES, 3)))
    feet = local[:, FOOT_JOINTS]
    frames = np.arange(N_FRAMES)
    low = feet[:, :, 1].argmin(axis=1)  # the planted joint of each frame
    planted = feet[:, :, [0, 2]][frames[:-1], low[:-1]]
    moved = feet[1:, :, [0, 2]][frames[:-1], low[:-1]] - planted  # how it moves to the next frame
    moved[airborne[:-1] | airborne[1:]] = 0.0
    root = np.zeros((N_FRAMES, 3))
    root[1:, [0, 2]] = -np.cumsum(moved, axis=0)
    root[:, [0, 2]] -= (root[:, [0, 2]].max(axis=0) + root[:, [0, 2]].min(axis=0)) / 2
    root[:, 1] = air - feet[frames, low, 1]
    contacts = np.where(airborne, -1, low // 2).astype(np.int8)
    return local + root[:, None, :], contacts


# ----------------------------------------------------------------------------- the generator


class MusicDanceGenerator:
    """The "music-dance" corpus: 20 s clips of music and SMPL-24 dance at 30 fps.

    >>> clip = MusicDanceGenerator().generate(seed=0, split="train", index=0)
    >>> clip.audio.shape, clip.motion.shape, clip.annotations["genre"]
    ((307200,), (600, 24, 3), 'house')
    """

    name = "music-dance"
    version = "2"
    fps = FPS
    sample_rate = SAMPLE_RATE
    skeleton = SMPL24
    clip_seconds = CLIP_SECONDS
    split_sizes = {"train": 180, "val": 12, "test": 18, "unseen": 18}  # train: one hour
    audio_kind = "music"

    def generate(self, seed: int, split: str, index: int) -> GeneratedClip:
        """Clip ``index`` of ``split``, the same for the same (seed, split, index).

        Annotations: genre, tempo (BPM), meter (beats per bar), beat_times and downbeat_times
        (seconds), sections (name, start, end, energy), moves (label, start, end, beats; times
        clipped to the clip) and contacts (per frame: 0 left foot, 1 right foot, -1 airborne).
        """
        rng = clip_rng(seed, split, index, self.split_sizes)
        genre = genre_for(split, index)
        plan = plan_music(rng, genre)
        audio = render_music(rng, plan, genre)
        keys, moves = choreograph(rng, plan, genre)
        motion, contacts = animate(keys, plan)
        k = np.arange(-plan.meter, plan.n_bars * plan.meter)  # beat numbers, 0 = first downbeat
        times = plan.beat_time(k)
        inside = (times >= 0) & (times < CLIP_SECONDS)
        beats = times[inside]
        return GeneratedClip(
            audio=audio,
            motion=motion.astype(np.float32),
            beats=beats,
            annotations={
                "genre": genre.name,
                "tempo": round(plan.tempo, 3),
                "meter": plan.meter,
                "beat_times": beats.copy(),
                "downbeat_times": times[inside & (k % plan.meter == 0)],
                "sections": plan.sections,
                "moves": moves,
                "contacts": contacts,
            },
        )


if __name__ == "__main__":
    import time

    gen = MusicDanceGenerator()
    gen.generate(0, "train", 0)  # warm up
    times = []
    for split in ("train", "unseen"):
        for i in range(12):
            t0 = time.perf_counter()
            gen.generate(0, split, i)
            times.append(time.perf_counter() - t0)
    print(
        f"audio + motion per 20 s clip: median {1000 * np.median(times):.1f} ms, "
        f"max {1000 * max(times):.1f} ms ({len(times)} clips)"
    )
