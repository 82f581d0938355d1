"""The hand-written distributions and tests against scipy and against hand-worked cases."""

from __future__ import annotations

import math

import pytest
from scipy import special
from scipy import stats as sp

from vmexit_tui.analysis import stats


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [(0.5, 0.5, 0.3), (2, 3, 0.1), (10, 0.5, 0.99), (300, 0.5, 0.9), (5000, 7000, 0.43),
     (1.5, 20, 0.999), (0.5, 1e4, 1e-5)],
)  # fmt: skip
def test_regularized_beta_matches_scipy(a, b, x):
    lower, upper = stats.regularized_beta_pair(a, b, x)
    assert close(lower, special.betainc(a, b, x))
    assert close(upper, special.betaincc(a, b, x))


@pytest.mark.parametrize("x", [-40.0, -5.0, -1.0, 0.0, 0.3, 2.5, 8.0, 37.0])
def test_normal_matches_scipy(x):
    assert close(stats.normal_sf(x), sp.norm.sf(x))


@pytest.mark.parametrize(
    ("t", "df"),
    [(0.0, 3), (1.0, 1), (-2.0, 2.5), (2.0, 10), (4.127, 607), (10.4, 19762), (30.0, 5.3),
     (-7.0, 80), (3.0, 1e6)],
)  # fmt: skip
def test_student_t_matches_scipy(t, df):
    assert close(stats.student_t_sf(t, df), sp.t.sf(t, df), 1e-8)


def test_student_t_hand_worked():
    # df = 1 is the Cauchy distribution: P(T > 1) = 1/4; df = 2: P(T > t) = (1 - t/sqrt(t^2+2))/2
    assert close(stats.student_t_sf(1.0, 1), 0.25, 1e-12)
    assert close(stats.student_t_sf(2.0, 2), (1 - 2 / math.sqrt(6)) / 2, 1e-12)


@pytest.mark.parametrize(
    ("k", "n", "p"), [(0, 10, 0.3), (3, 10, 0.5), (608, 1655, 0.5), (10, 20, 0.9)]
)
def test_binomial_tails_match_scipy(k, n, p):
    assert close(stats.binomial_cdf(k, n, p), sp.binom.cdf(k, n, p), 1e-9)
    assert close(stats.binomial_sf_incl(k, n, p), sp.binom.sf(k - 1, n, p), 1e-9)


def test_two_proportion_z_hand_worked():
    # 30/100 against 50/100: pooled 0.4, se = sqrt(0.4*0.6*0.02) = 0.069282, z = 0.2/se
    result = stats.two_proportion_z(30, 100, 50, 100)
    assert close(result.statistic, 0.2 / math.sqrt(0.4 * 0.6 * 0.02), 1e-12)
    assert close(result.p_value, 2 * sp.norm.sf(result.statistic), 1e-9)


def test_two_proportion_z_direction_and_no_variance():
    assert stats.two_proportion_z(50, 100, 30, 100).statistic < 0
    assert stats.two_proportion_z(0, 10, 0, 20).p_value == 1.0


def test_welch_matches_scipy_from_summary_stats():
    mine = stats.welch_t(12, 5.1, 1.3, 30, 6.0, 2.2)
    ref = sp.ttest_ind_from_stats(5.1, 1.3, 12, 6.0, 2.2, 30, equal_var=False)
    # scipy computes mean1 - mean2; ours is second minus first.
    assert close(mine.statistic, -ref.statistic, 1e-12)
    assert close(mine.p_value, ref.pvalue, 1e-9)
    v1, v2 = 1.3**2 / 12, 2.2**2 / 30
    assert close(mine.df, (v1 + v2) ** 2 / (v1**2 / 11 + v2**2 / 29), 1e-12)


def test_welch_df_lower_bound_is_more_conservative():
    exact = stats.welch_t(608, 6.26, 7.7, 1047, 8.46, 10.6)
    bound = stats.welch_t(608, 6.26, 7.7, 1047, 8.46, 10.6, df_lower_bound=True)
    assert bound.df == 607
    assert bound.statistic == exact.statistic
    assert bound.p_value >= exact.p_value


def test_welch_rejects_single_samples():
    with pytest.raises(ValueError, match="at least 2"):
        stats.welch_t(1, 1.0, 0.0, 5, 2.0, 1.0)


def test_poisson_rate_test_matches_binomial_and_scipy():
    result = stats.poisson_rate_test(1047, 1.0, 608, 1.0)
    assert result.statistic < 0
    ref = sp.binomtest(608, 1655, 0.5)  # symmetric case: doubling the tail equals scipy's p
    assert close(result.p_value, ref.pvalue, 1e-8)
    unequal = stats.poisson_rate_test(10, 2.0, 10, 1.0)
    assert unequal.statistic > 0
    assert close(unequal.p_value, 2 * sp.binom.sf(9, 20, 1 / 3), 1e-9)
    assert stats.poisson_rate_test(0, 1.0, 0, 3.0).p_value == 1.0
