"""Rotation conversions, vectorised over any leading shape (numpy, float64 inside)."""

from __future__ import annotations

import numpy as np

_AXES = {"x": 0, "y": 1, "z": 2}


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula: (..., 3) axis-angle vectors -> (..., 3, 3) rotation matrices."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    axis = aa / np.where(angle > 1e-12, angle, 1.0)
    x, y, z = np.moveaxis(axis, -1, 0)
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + s * k + (1.0 - c) * (k @ k)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """Inverse of axis_angle_to_matrix, robust near 0 and pi."""
    m = np.asarray(matrix, dtype=np.float64)
    cos = np.clip((np.trace(m, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        axis=-1,
    )
    sin = np.sin(angle)
    small = sin > 1e-6
    axis = v / np.where(small, 2.0 * sin, 1.0)[..., None]
    # Near pi the antisymmetric part vanishes: take the axis from the symmetric part instead.
    near_pi = (~small) & (cos < 0)
    if np.any(near_pi):
        diag = np.clip((np.diagonal(m, axis1=-2, axis2=-1) + 1.0) / 2.0, 0.0, None)
        a = np.sqrt(diag)
        signs = np.sign(np.stack([np.ones_like(cos), m[..., 0, 1], m[..., 0, 2]], axis=-1))
        axis = np.where(near_pi[..., None], a * np.where(signs == 0, 1.0, signs), axis)
    out = axis * angle[..., None]
    return np.where((~small & ~near_pi)[..., None], v / 2.0, out)


def euler_to_matrix(angles: np.ndarray, order: str = "xyz") -> np.ndarray:
    """Intrinsic rotations: (..., 3) angles in radians applied in `order` (R = R_a R_b R_c)."""
    ang = np.asarray(angles, dtype=np.float64)
    if len(order) != 3 or any(a not in _AXES for a in order.lower()):
        raise ValueError(f"euler order must be three of x, y, z, got {order!r}")
    out = np.broadcast_to(np.eye(3), ang.shape[:-1] + (3, 3))
    for i, axis in enumerate(order.lower()):
        out = out @ axis_rotation(ang[..., i], axis)
    return out


def axis_rotation(angle: np.ndarray, axis: str) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about one coordinate axis."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    rows = {
        "x": [one, zero, zero, zero, c, -s, zero, s, c],
        "y": [c, zero, s, zero, one, zero, -s, zero, c],
        "z": [c, -s, zero, s, c, zero, zero, zero, one],
    }[axis]
    return np.stack(rows, axis=-1).reshape(a.shape + (3, 3))
