import numpy as np
import pytest
from scipy import linalg

from gesture_gym.metrics.frechet import (
    frechet_distance,
    frechet_feature_distance,
    gaussian_stats,
    mean_pairwise_distance,
)


def _scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The references' formula (sqrtm of the product), for well-conditioned inputs only."""
    (mu1, s1), (mu2, s2) = gaussian_stats(a), gaussian_stats(b)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_matches_the_sqrtm_formula_when_well_conditioned():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(loc=0.5, size=(300, 6)) @ rng.normal(size=(6, 6))
    assert frechet_feature_distance(a, b) == pytest.approx(_scipy_frechet(a, b), rel=1e-7)


def test_one_dimensional_gaussians_have_the_closed_form():
    # N(m1, s1^2) vs N(m2, s2^2): (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance(
        np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]])
    ) == (pytest.approx(4.0 + 1.0))


def test_a_set_against_itself_is_zero_and_noise_increases_it_monotonically():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(200, 10)) @ rng.normal(size=(10, 10))
    assert frechet_feature_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    noise = rng.normal(size=a.shape)
    d = [frechet_feature_distance(a + s * noise, a) for s in (0.1, 0.3, 1.0, 3.0)]
    assert all(x < y for x, y in zip(d, d[1:], strict=False)), d


@pytest.mark.parametrize("n", [3, 10, 50])
def test_singular_and_ill_conditioned_covariances_stay_finite_and_non_negative(n):
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n, 72))  # fewer samples than dimensions: singular covariances
    b = rng.normal(size=(n, 72)) * np.logspace(-8, 3, 72)  # condition number ~1e22
    for x, y in ((a, b), (b, a), (a, a), (b, b)):
        d = frechet_feature_distance(x, y)
        assert np.isfinite(d) and d >= 0.0
    assert frechet_feature_distance(b, b) == pytest.approx(0.0, abs=1e-6 * np.trace(np.cov(b.T)))


def test_too_few_samples_is_a_clear_error_not_nan():
    with pytest.raises(ValueError, match="at least 2"):
        frechet_feature_distance(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_feature_distance(np.full((3, 4), np.nan), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="mismatched"):
        frechet_feature_distance(np.zeros((3, 4)), np.zeros((5, 3)))


def test_order_of_samples_does_not_matter_and_identical_copies_have_zero_diversity():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(40, 5)), rng.normal(size=(30, 5))
    perm = rng.permutation(len(a))
    assert frechet_feature_distance(a[perm], b) == pytest.approx(
        frechet_feature_distance(a, b), rel=1e-9
    )
    assert mean_pairwise_distance(a[perm]) == pytest.approx(mean_pairwise_distance(a), rel=1e-12)
    assert mean_pairwise_distance(np.repeat(a[:1], 10, axis=0)) == 0.0
    # hand case: three points on a line at 0, 1, 3 -> pair distances 1, 3, 2
    assert mean_pairwise_distance(np.array([[0.0], [1.0], [3.0]])) == pytest.approx(2.0)
