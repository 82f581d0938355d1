"""Hypothesis tests for comparing runs, in pure Python (standard library only).

The distribution functions are the textbook ones: the normal tail from `math.erfc`, Student's
t and the binomial from the regularized incomplete beta function, evaluated with a continued
fraction (modified Lentz), always on the side that is accurate, so small tail probabilities
keep their relative precision instead of drowning in ``1 - x``.

All p-values are two-sided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 100_000


class ConvergenceError(ArithmeticError):
    """A series or continued fraction did not converge (arguments far out of range)."""


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of one test: its statistic, degrees of freedom (if any), two-sided p."""

    statistic: float
    p_value: float
    df: float | None = None

    __test__ = False  # not a pytest test class


# --- special functions -------------------------------------------------------------------


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes' betacf)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ConvergenceError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_beta_pair(a: float, b: float, x: float) -> tuple[float, float]:
    """``(I_x(a, b), 1 - I_x(a, b))``, each computed on its accurate side."""
    if a <= 0 or b <= 0:
        raise ValueError(f"incomplete beta needs a > 0 and b > 0, got a={a}, b={b}")
    if x <= 0.0:
        return 0.0, 1.0
    if x >= 1.0:
        return 1.0, 0.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_front) * _beta_cf(a, b, x) / a
        return lower, 1.0 - lower
    upper = math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b
    return 1.0 - upper, upper


def regularized_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)``."""
    return regularized_beta_pair(a, b, x)[0]


# --- distributions ------------------------------------------------------------------------


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z (accurate far into the tail)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def student_t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom (df may be fractional)."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    # P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2)
    both_tails = regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 0.5 * both_tails if t >= 0 else 1.0 - 0.5 * both_tails


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    # P(X <= k) = I_{1-p}(n-k, k+1)
    return regularized_beta_pair(n - k, k + 1, 1.0 - p)[0]


def binomial_sf_incl(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    # P(X >= k) = I_p(k, n-k+1)
    return regularized_beta_pair(k, n - k + 1, p)[0]


# --- tests -------------------------------------------------------------------------------


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Pooled two-proportion z test of ``x1/n1`` against ``x2/n2`` (z > 0: the second is larger).

    Equivalent to the 2x2 chi-square test without continuity correction (z**2 == chi2).
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"both totals must be positive, got {n1} and {n2}")
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError(f"counts must lie within their totals: {x1}/{n1}, {x2}/{n2}")
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    diff = x2 / n2 - x1 / n1
    if var == 0.0:
        return TestResult(0.0, 1.0)
    z = diff / math.sqrt(var)
    return TestResult(z, min(1.0, 2.0 * normal_sf(abs(z))))


def welch_t(
    n1: int,
    mean1: float,
    sd1: float,
    n2: int,
    mean2: float,
    sd2: float,
    *,
    df_lower_bound: bool = False,
) -> TestResult:
    """Welch's unequal-variance t test from summary statistics (t > 0: the second is larger).

    The degrees of freedom are Welch–Satterthwaite's. With ``df_lower_bound`` they are
    ``min(n1, n2) - 1`` instead, the smallest value Welch–Satterthwaite can give: use it when
    the standard deviations are only known as upper bounds, so the p-value is an upper bound.
    """
    if n1 < 2 or n2 < 2:
        raise ValueError(f"Welch's test needs at least 2 samples per group, got {n1} and {n2}")
    if sd1 < 0 or sd2 < 0:
        raise ValueError("standard deviations must not be negative")
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    se2 = v1 + v2
    diff = mean2 - mean1
    if se2 == 0.0:
        if diff == 0.0:
            return TestResult(0.0, 1.0, float(n1 + n2 - 2))
        return TestResult(math.copysign(math.inf, diff), 0.0, float(n1 + n2 - 2))
    t = diff / math.sqrt(se2)
    if df_lower_bound:
        df = float(min(n1, n2) - 1)
    else:
        df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    return TestResult(t, min(1.0, 2.0 * student_t_sf(abs(t), df)), df)


def poisson_rate_test(x1: int, t1: float, x2: int, t2: float) -> TestResult:
    """Exact conditional test of two Poisson rates: ``x1`` events in ``t1`` vs ``x2`` in ``t2``.

    Given ``n = x1 + x2``, under equal rates ``x2 ~ Binomial(n, t2 / (t1 + t2))``. The two-sided
    p-value doubles the smaller tail (capped at 1). The statistic is the normal score of ``x2``
    under that binomial (> 0: the second rate is larger).
    """
    if t1 <= 0 or t2 <= 0:
        raise ValueError(f"exposures must be positive, got {t1} and {t2}")
    if x1 < 0 or x2 < 0:
        raise ValueError("counts must not be negative")
    n = x1 + x2
    if n == 0:
        return TestResult(0.0, 1.0)
    p = t2 / (t1 + t2)
    lower = binomial_cdf(x2, n, p)
    upper = binomial_sf_incl(x2, n, p)
    z = (x2 - n * p) / math.sqrt(n * p * (1.0 - p))
    return TestResult(z, min(1.0, 2.0 * min(lower, upper)))
