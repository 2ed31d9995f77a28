"""Dance metrics of the AIST++ protocol as Bailando computes them: FID_k, FID_g, DIV_k, DIV_g.

Sources: lisiyao21/Bailando utils/metrics_new.py (preprocessing, normalisation, FID, DIV),
utils/features/kinetic.py and manual_new.py with the fairmotion helpers in utils/features/utils.py
(the same files as google/aistplusplus_api aist_plusplus/features/). The reference names compute
exactly what those files compute, quirks included, so numbers compare with published tables
(AIST++ ground truth: FID_k 17.10, FID_g 10.60, DIV_k 8.19, DIV_g 7.45). Where a quirk is a bug,
the ``*_corrected`` names compute what was meant; those numbers do not compare with papers.

The reference frame rate is 60 fps. At another rate the window sizes given in frames are
converted so they cover the same time (``common.whole_frames``); at 60 fps nothing changes.

Quirks reproduced (and documented where each is implemented):
  * preprocessing: the first 1200 frames (20 s), minus the root joint's position in frame 0.
  * kinetic features: "kinetic energy" is the squared window-averaged speed (no 1/2 m); energy
    expenditure is the mean magnitude of the window-averaged acceleration; windows are cut at
    the clip's ends. Not bugs, just definitions.
  * geometric features: the velocity thresholds use fairmotion's default frame time of 1/120 s
    on 60 fps data, so every "velocity" is twice the true one (bug, corrected variant: 1/fps);
    ``f_move`` never reads its fourth joint and tests the third joint relative to the first
    (bug, corrected variant: the fourth joint relative to the third, as Mueller et al. define
    F_move).
  * normalisation: both sets are z-scored with the reference set's mean and population std plus
    1e-10, so a feature that is constant over the reference set blows a generated set's FID up
    by ~1e20 (bug, corrected variant: such features are only centred).
  * FID: numpy's unbiased covariance; DIV: mean Euclidean distance over pairs i < j of the
    normalised generated features.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gesture_gym.metrics.common import as_motion, check_fps, whole_frames
from gesture_gym.metrics.frechet import frechet_feature_distance, mean_pairwise_distance

AIST_FPS = 60.0  # the frame rate the AIST++ / Bailando metric parameters are stated at
EVAL_SECONDS = 20.0  # Bailando evaluates the first 1200 frames at 60 fps
KINETIC_WINDOW = 2  # fairmotion's sliding_window, frames at 60 fps

# Joint names of aistplusplus_api features/manual.py, in SMPL-24 order (= motion.skeleton.SMPL24).
AIST_JOINTS = (
    "root", "lhip", "rhip", "belly", "lknee", "rknee", "spine", "lankle", "rankle", "chest",
    "ltoes", "rtoes", "neck", "linshoulder", "rinshoulder", "head", "lshoulder", "rshoulder",
    "lelbow", "relbow", "lwrist", "rwrist", "lhand", "rhand",
)  # fmt: skip
Clips = Sequence[np.ndarray]  # (T, 24, 3) SMPL joint positions per clip


def _dist(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return float(np.linalg.norm(np.subtract(a, b)))


# Body-size units of the geometric thresholds: SMPL mean-shape joint positions from manual_new.py
# (the corrected constants of aistplusplus_api; the old manual.py measured the wrong joints).
_L_SHOULDER = (1.99113488e-01, 2.36807942e-01, -1.80702247e-02)
_L_ELBOW = (4.54445392e-01, 2.21158922e-01, -4.10167128e-02)
_R_SHOULDER = (-1.91692337e-01, 2.36928746e-01, -1.23055102e-02)
_L_HIP = (5.64076714e-02, -3.23069185e-01, 1.09197125e-02)
_R_HIP = (-6.24834076e-02, -3.31302464e-01, 1.50412619e-02)
HL = _dist(_L_SHOULDER, _L_ELBOW)  # humerus length
SW = _dist(_L_SHOULDER, _R_SHOULDER)  # shoulder width
HW = _dist(_L_HIP, _R_HIP)  # hip width

# The 32 boolean relational features of manual_new.py, in its order: (test, joints, threshold).
# Thresholds are metres (plane tests), metres per "second" (velocity tests, see the module
# docstring) or an open interval of degrees (angle tests).
GEOMETRIC_FEATURES: tuple[tuple[str, tuple[str, ...], float | tuple[float, float]], ...] = (
    ("nmove", ("neck", "rhip", "lhip", "rwrist"), 1.8 * HL),
    ("nmove", ("neck", "lhip", "rhip", "lwrist"), 1.8 * HL),
    ("nplane", ("chest", "neck", "neck", "rwrist"), 0.2 * HL),
    ("nplane", ("chest", "neck", "neck", "lwrist"), 0.2 * HL),
    ("move", ("belly", "chest", "chest", "rwrist"), 1.8 * HL),
    ("move", ("belly", "chest", "chest", "lwrist"), 1.8 * HL),
    ("angle", ("relbow", "rshoulder", "relbow", "rwrist"), (0.0, 110.0)),
    ("angle", ("lelbow", "lshoulder", "lelbow", "lwrist"), (0.0, 110.0)),
    ("nplane", ("lshoulder", "rshoulder", "lwrist", "rwrist"), 2.5 * SW),
    ("move", ("lwrist", "rwrist", "rwrist", "lwrist"), 1.4 * HL),
    ("move", ("rwrist", "root", "lwrist", "root"), 1.4 * HL),
    ("move", ("lwrist", "root", "rwrist", "root"), 1.4 * HL),
    ("fast", ("rwrist",), 2.5 * HL),
    ("fast", ("lwrist",), 2.5 * HL),
    ("plane", ("root", "lhip", "ltoes", "rankle"), 0.38 * HL),
    ("plane", ("root", "rhip", "rtoes", "lankle"), 0.38 * HL),
    ("nplane", ("zero", "y_unit", "y_min", "rankle"), 1.2 * HL),
    ("nplane", ("zero", "y_unit", "y_min", "lankle"), 1.2 * HL),
    ("nplane", ("lhip", "rhip", "lankle", "rankle"), 2.1 * HW),
    ("angle", ("rknee", "rhip", "rknee", "rankle"), (0.0, 110.0)),
    ("angle", ("lknee", "lhip", "lknee", "lankle"), (0.0, 110.0)),
    ("fast", ("rankle",), 2.5 * HL),
    ("fast", ("lankle",), 2.5 * HL),
    ("angle", ("neck", "root", "rshoulder", "relbow"), (25.0, 180.0)),
    ("angle", ("neck", "root", "lshoulder", "lelbow"), (25.0, 180.0)),
    ("angle", ("neck", "root", "rhip", "rknee"), (50.0, 180.0)),
    ("angle", ("neck", "root", "lhip", "lknee"), (50.0, 180.0)),
    ("plane", ("rankle", "neck", "lankle", "root"), 0.5 * HL),
    ("angle", ("neck", "root", "zero", "y_unit"), (70.0, 110.0)),
    ("nplane", ("zero", "minus_y_unit", "y_min", "rwrist"), -1.2 * HL),
    ("nplane", ("zero", "minus_y_unit", "y_min", "lwrist"), -1.2 * HL),
    ("fast", ("root",), 2.3 * HL),
)

# Points a test can name: the joints, then fairmotion's virtual points (the origin, the up and
# down unit vectors, and (0, lowest joint height of the frame, 0)).
_VIRTUAL = {"zero": (0.0, 0.0, 0.0), "y_unit": (0.0, 1.0, 0.0), "minus_y_unit": (0.0, -1.0, 0.0)}
_POINT = {name: i for i, name in enumerate(AIST_JOINTS + (*_VIRTUAL, "y_min"))}


def _group(test: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(feature columns, point indices (F, k), thresholds) of one kind of test."""
    rows = [(f, j, th) for f, (t, j, th) in enumerate(GEOMETRIC_FEATURES) if t == test]
    cols, joints, thresholds = zip(*rows, strict=True)
    idx = np.array([[_POINT[name] for name in j] for j in joints])
    return np.array(cols), idx, np.array(thresholds, dtype=np.float64)


_GROUPS = {test: _group(test) for test in ("plane", "nplane", "angle", "fast", "nmove", "move")}


def preprocess(motion: np.ndarray, fps: float = AIST_FPS, name: str = "motion") -> np.ndarray:
    """Bailando's ``calc_and_save_feats``: the first 20 s, minus the root position of frame 0."""
    m = as_motion(motion, name, n_joints=len(AIST_JOINTS), min_frames=3)
    m = m[: round(EVAL_SECONDS * check_fps(fps))]
    return m - m[:1, :1]


def kinetic_features(motion: np.ndarray, fps: float = AIST_FPS) -> np.ndarray:
    """(72,) float32: per joint, horizontal and vertical "kinetic energy" and energy expenditure.

    fairmotion's KineticFeatures (frame_time 1/fps, up axis y, sliding window 2 frames at 60 fps)
    for frames i = 1..T-1: the velocity is the mean of the frame differences d[k] = p[k] - p[k-1]
    for k in [i-w, i+w] that exist, divided by the frame time; the acceleration the mean of the
    second differences at k in [i-w, i+w] that exist. The energies are the squared horizontal
    (x, z) and vertical (y) speeds averaged over i; the expenditure is the mean acceleration
    magnitude. Sums over windows telescope, so each is one subtraction per frame.
    """
    p = as_motion(motion, min_frames=3)
    fps = check_fps(fps)
    t, w = p.shape[0], whole_frames(KINETIC_WINDOW, AIST_FPS, fps)
    i = np.arange(1, t)
    lo, hi = np.maximum(1, i - w), np.minimum(t - 1, i + w)
    vel = (p[hi] - p[lo - 1]) * (fps / (hi - lo + 1))[:, None, None]
    lo, hi = np.maximum(1, i - w), np.minimum(t - 2, i + w)
    acc_sum = (p[hi + 1] - p[hi]) - (p[lo] - p[lo - 1])  # sum of second differences over [lo, hi]
    acc = acc_sum * (fps * fps / (hi - lo + 1))[:, None, None]
    features = np.stack(
        [
            (vel[..., 0] ** 2 + vel[..., 2] ** 2).mean(axis=0),
            (vel[..., 1] ** 2).mean(axis=0),
            np.linalg.norm(acc, axis=-1).mean(axis=0),
        ],
        axis=1,
    )  # (J, 3), joint-major like the reference's loop over joints
    return features.reshape(-1).astype(np.float32)


def _project(vectors: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Signed length of each vector along its direction (NaN for a zero direction)."""
    return (vectors * directions).sum(axis=-1) / np.linalg.norm(directions, axis=-1)


def geometric_features(
    motion: np.ndarray, fps: float = AIST_FPS, *, corrected: bool = False
) -> np.ndarray:
    """(32,) float32: the fraction of frames 1..T-1 where each relational feature holds.

    The tests of fairmotion's feature utils, each kind evaluated for all frames and features
    at once:
      * plane(a, b, c; p): p lies more than th in front of the plane through a, b, c with
        normal (c - a) x (b - a).
      * nplane(n1, n2, a; p): p lies more than th beyond the plane through a with normal n2 - n1.
      * angle(j1, j2, k1, k2): the angle between j2 - j1 and k2 - k1 is strictly inside (lo, hi).
      * fast(j): the speed of j exceeds th.
      * nmove(j1, j2, j3; p): the velocity of p relative to j1 along (j3 - j1) x (j2 - j1)
        exceeds th.
      * move(j1, j2, j3; j4): reference: the velocity of j3 (not j4) relative to j1 along
        j2 - j1; corrected: the velocity of j4 relative to j3 along j2 - j1.
    Velocities divide by fairmotion's default frame time, 1/120 s, which at the 60 fps reference
    rate doubles them; that factor of two is kept at any rate (``corrected`` uses the true 1/fps).
    Degenerate geometry (a zero-length normal) gives NaN and so False, as in the reference.
    """
    p = as_motion(motion, n_joints=len(AIST_JOINTS), min_frames=2)
    speed_scale = check_fps(fps) * (1.0 if corrected else 2.0)
    cur, prev = p[1:], p[:-1]
    n = cur.shape[0]
    virtual = np.broadcast_to(np.array(list(_VIRTUAL.values())), (n, len(_VIRTUAL), 3))
    y_min = np.zeros((n, 1, 3))
    y_min[:, 0, 1] = cur[:, :, 1].min(axis=1)
    points = np.concatenate([cur, virtual, y_min], axis=1)  # indexed by _POINT

    def velocity(joint: np.ndarray, relative_to: np.ndarray) -> np.ndarray:
        return (
            (cur[:, joint] - cur[:, relative_to]) - (prev[:, joint] - prev[:, relative_to])
        ) * speed_scale

    out = np.empty((n, len(GEOMETRIC_FEATURES)), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for test, (cols, idx, threshold) in _GROUPS.items():
            q = points[:, idx]  # (n, F, k, 3)
            if test == "angle":
                u, v = q[:, :, 1] - q[:, :, 0], q[:, :, 3] - q[:, :, 2]
                cos = _project(u, v) / np.linalg.norm(u, axis=-1)
                angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
                out[:, cols] = (angle > threshold[:, 0]) & (angle < threshold[:, 1])
                continue
            if test == "fast":
                value = (
                    np.linalg.norm(cur[:, idx[:, 0]] - prev[:, idx[:, 0]], axis=-1) * speed_scale
                )
            elif test == "plane":
                a = q[:, :, 0]
                value = _project(q[:, :, 3] - a, np.cross(q[:, :, 2] - a, q[:, :, 1] - a))
            elif test == "nplane":
                value = _project(q[:, :, 3] - q[:, :, 2], q[:, :, 1] - q[:, :, 0])
            elif test == "nmove":
                normal = np.cross(q[:, :, 2] - q[:, :, 0], q[:, :, 1] - q[:, :, 0])
                value = _project(velocity(idx[:, 3], idx[:, 0]), normal)
            else:  # move
                vel = (
                    velocity(idx[:, 3], idx[:, 2]) if corrected else velocity(idx[:, 2], idx[:, 0])
                )
                value = _project(vel, q[:, :, 1] - q[:, :, 0])
            out[:, cols] = value > threshold
    return out.mean(axis=0, dtype=np.float64).astype(np.float32)


# The reported variants, name suffix -> (feature kind, corrected normalisation): the reference
# metrics, and the corrected ones (kinetic features have no bug of their own, only the
# normalisation is fixed; geometric features are fixed too).
VARIANTS: dict[str, tuple[str, bool]] = {
    "k": ("kinetic", False),
    "g": ("geometric", False),
    "k_corrected": ("kinetic", True),
    "g_corrected": ("geometric_corrected", True),
}
FEATURE_KINDS = tuple(dict.fromkeys(kind for kind, _ in VARIANTS.values()))


def feature_set(
    motions: Sequence[np.ndarray], kind: str, fps: float = AIST_FPS, which: str = "clips"
) -> np.ndarray:
    """(N, D) features of preprocessed clips; ``kind`` is one of FEATURE_KINDS."""
    if kind not in FEATURE_KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; one of {FEATURE_KINDS}")
    if len(motions) == 0:
        raise ValueError(f"{which}: no clips given")
    rows = []
    for i, motion in enumerate(motions):
        m = preprocess(motion, fps, name=f"{which} clip {i}")
        if kind == "kinetic":
            rows.append(kinetic_features(m, fps))
        else:
            rows.append(geometric_features(m, fps, corrected=kind == "geometric_corrected"))
    return np.stack(rows)


def normalise(
    generated: np.ndarray, reference: np.ndarray, *, corrected: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """z-score both sets with the reference set's mean and population std (metrics_new.py).

    The reference adds 1e-10 to the std; ``corrected`` instead leaves features whose reference
    std is below 1e-8 unscaled (centred only), so one constant feature cannot dominate.
    """
    gen, ref = np.asarray(generated, np.float64), np.asarray(reference, np.float64)
    if gen.ndim != 2 or ref.ndim != 2 or gen.shape[1] != ref.shape[1]:
        raise ValueError(f"feature sets of shapes {gen.shape} and {ref.shape} do not match")
    mean, std = ref.mean(axis=0), ref.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0) if corrected else std + 1e-10
    return (gen - mean) / std, (ref - mean) / std


def fid_from_features(
    generated: np.ndarray, reference: np.ndarray, *, corrected: bool = False
) -> float:
    """Frechet distance of the normalised feature sets (Bailando's ``calc_fid``)."""
    gen, ref = normalise(generated, reference, corrected=corrected)
    return frechet_feature_distance(gen, ref)


def div_from_features(
    generated: np.ndarray, reference: np.ndarray, *, corrected: bool = False
) -> float:
    """Mean pairwise distance of the generated features, normalised by the reference's stats."""
    gen, _ = normalise(generated, reference, corrected=corrected)
    return mean_pairwise_distance(gen, "generated features")


def _metric(score: str, variant: str, doc: str) -> Callable[..., float]:
    """The public function ``<score>_<variant>(generated, reference, fps=60) -> float``."""
    kind, corrected = VARIANTS[variant]
    from_features = fid_from_features if score == "fid" else div_from_features

    def metric(generated: Clips, reference: Clips, fps: float = AIST_FPS) -> float:
        gen = feature_set(generated, kind, fps, "generated")
        ref = feature_set(reference, kind, fps, "reference")
        return from_features(gen, ref, corrected=corrected)

    metric.__name__ = metric.__qualname__ = f"{score}_{variant}"
    metric.__doc__ = doc
    return metric


fid_k = _metric("fid", "k", "FID_k: Frechet distance of kinetic features (reference quirks).")
fid_g = _metric("fid", "g", "FID_g: Frechet distance of geometric features (reference quirks).")
div_k = _metric("div", "k", "DIV_k: mean pairwise distance of the generated kinetic features.")
div_g = _metric("div", "g", "DIV_g: mean pairwise distance of the generated geometric features.")
fid_k_corrected = _metric("fid", "k_corrected", "FID_k with the normalisation fix.")
fid_g_corrected = _metric("fid", "g_corrected", "FID_g with corrected features and normalisation.")
div_k_corrected = _metric("div", "k_corrected", "DIV_k with the normalisation fix.")
div_g_corrected = _metric("div", "g_corrected", "DIV_g with corrected features and normalisation.")
