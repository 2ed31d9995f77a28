"""Frechet distance between Gaussians fitted to two feature sets, and mean pairwise distance.

The references (Bailando utils/metrics_new.py, mint tools/calculate_fid_scores.py, EMAGE's FGD)
take ``scipy.linalg.sqrtm(S1 @ S2)`` and drop any imaginary part. For covariances estimated
from fewer samples than dimensions that product is singular, sqrtm is slow and its real part can
make the distance negative. Here ``Tr sqrt(S1 S2)`` is computed as ``Tr sqrt(S1^1/2 S2 S1^1/2)``
with symmetric eigen-decompositions: the same value in exact arithmetic (the two matrices are
similar), but always real, finite and O(D^3) with small constants.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist


def feature_matrix(
    features: np.ndarray, name: str = "features", min_samples: int = 2
) -> np.ndarray:
    """Check a (N, D) feature set: finite, two-dimensional, with enough rows for a covariance."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"{name}: expected an (N, D) array of feature vectors, got shape {x.shape}"
        )
    if x.shape[0] < min_samples:
        raise ValueError(
            f"{name}: {x.shape[0]} sample(s); at least {min_samples} are needed to estimate a "
            "covariance (evaluate more clips, or longer ones)"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return x


def gaussian_stats(features: np.ndarray, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (numpy's ``np.cov(rowvar=False)``, as every reference uses)."""
    x = feature_matrix(features, name)
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2), finite and >= 0 for any PSD covariances."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    s1, s2 = np.atleast_2d(s1), np.atleast_2d(s2)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"Frechet distance: mismatched shapes mu {mu1.shape} / {mu2.shape}, "
            f"covariance {s1.shape} / {s2.shape}"
        )
    r1 = _psd_sqrt(s1)
    m = r1 @ s2 @ r1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    d = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean
    return float(max(d, 0.0))


def frechet_feature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two (N, D) feature sets."""
    return frechet_distance(
        *gaussian_stats(a, "generated features"), *gaussian_stats(b, "reference features")
    )


def mean_pairwise_distance(features: np.ndarray, name: str = "features") -> float:
    """Mean Euclidean distance over all pairs i < j (Bailando/AIST++ ``calculate_avg_distance``)."""
    return float(pdist(feature_matrix(features, name)).mean())
