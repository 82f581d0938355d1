"""Plain-language findings from a comparison of runs, each backed by a hypothesis test.

For every compared pair (reference run a, run b) and every exit reason of either run:

- **share** (per cent of all exits): pooled two-proportion z test on the counts, only when
  every expected count of the 2x2 table (reason / other reasons x run a / run b) is at least
  `MIN_EXPECTED` (5, Cochran's rule), so the normal approximation holds; otherwise the share is
  not tested. The total is perf's ``Total Samples`` line, or the sum of the rows when that line
  is missing. A reason a run does not list had no exits in it (perf prints every reason it
  saw), so it counts 0.
- **rate** (exits per second), only when both durations are known (recordings always know
  theirs): exact conditional Poisson test, valid for any count. Exit counts are burstier than
  Poisson, which is one more reason for the strict alpha.
- **count** without both durations is not tested: runs of unknown length cannot be compared
  by count. Large count changes are listed as descriptive `Difference`s instead (not findings).
- **mean_us** (mean handling time): Welch's t test from n, mean and perf's relative spread,
  only where both means and both spreads are known and each run has at least
  `MIN_MEAN_SAMPLES` exits. perf's ``( +- x% )`` is the
  relative standard error of the mean, so ``se = x / 100 * mean``. A spread cut off by a pager
  is an upper bound: the test uses the bound and Welch's smallest possible degrees of freedom
  (``min(n) - 1``), so its p-value is an upper bound too; such findings are ``conservative``.
  perf prints means to 0.01 us, so the difference is first shrunk by that resolution: two
  printed means 0.01 us apart are never called different.

A run with no exits at all is not tested against anything (`empty_runs` names it).

Multiple comparisons: with ~11 reasons x 3 metrics x up to 3 pairs, some 100 tests run at
once. A finding is reported only when ``p < alpha / m``, where m counts every test actually
performed in the comparison (Bonferroni), so the chance of even one false finding in the
whole comparison stays below alpha (default 0.01). Findings rank by p-value, then by size.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vmexit_tui.analysis import stats
from vmexit_tui.analysis.model import ExitStat, Report
from vmexit_tui.formats import numbers

if TYPE_CHECKING:
    from vmexit_tui.analysis.comparison import ComparedRun

METRICS = ("share", "samples", "rate", "mean_us")
DEFAULT_ALPHA = 0.01
MIN_EXPECTED = 5  # every expected cell of the share test's 2x2 table
MIN_MEAN_SAMPLES = 5  # exits per run behind a mean before Welch's t is used
DIFFERENCE_MIN_CHANGE = 0.2  # a count difference is listed from +-20% ...
DIFFERENCE_MIN_COUNT = 10  # ... when the larger count is at least this
MEAN_RESOLUTION_US = 0.01  # perf prints "%9.2fus"


@dataclass(frozen=True, slots=True)
class Finding:
    """One significant change between two runs, with the figures behind it."""

    reason: str
    metric: str  # "share" | "samples" | "rate" | "mean_us"
    direction: str  # "up" | "down"
    baseline_value: float
    value: float
    p_value: float
    conservative: bool
    text: str
    pair: tuple[int, int]
    labels: tuple[str, str]

    @property
    def relative_change(self) -> float:
        """``value / baseline_value - 1`` (inf when the baseline is 0)."""
        if self.baseline_value == 0:
            return math.inf
        return self.value / self.baseline_value - 1.0

    def to_json(self) -> dict:
        return {
            "reason": self.reason,
            "metric": self.metric,
            "direction": self.direction,
            "baseline_value": self.baseline_value,
            "value": self.value,
            "p_value": self.p_value,
            "conservative": self.conservative,
            "text": self.text,
            "pair": list(self.pair),
            "labels": list(self.labels),
        }

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        """The inverse of `to_json` (types are checked by the caller)."""
        return cls(
            reason=data["reason"],
            metric=data["metric"],
            direction=data["direction"],
            baseline_value=float(data["baseline_value"]),
            value=float(data["value"]),
            p_value=float(data["p_value"]),
            conservative=bool(data["conservative"]),
            text=data["text"],
            pair=(int(data["pair"][0]), int(data["pair"][1])),
            labels=(str(data["labels"][0]), str(data["labels"][1])),
        )


@dataclass(frozen=True, slots=True)
class Difference:
    """A descriptive count difference between two runs of unknown length: not tested, so not
    a finding (runs of different lengths give different counts without any change)."""

    reason: str
    baseline_value: int
    value: int
    pair: tuple[int, int]
    labels: tuple[str, str]

    metric = "samples"

    @property
    def text(self) -> str:
        change = (
            "new" if self.baseline_value == 0
            else numbers.change(100 * (self.value / self.baseline_value - 1))
        )  # fmt: skip
        return (
            f"{self.reason}: {self.baseline_value} → {self.value} exits ({change}), "
            f"{self.labels[0]} → {self.labels[1]}"
        )

    def to_json(self) -> dict:
        return {
            "reason": self.reason,
            "metric": self.metric,
            "baseline_value": self.baseline_value,
            "value": self.value,
            "text": self.text,
            "pair": list(self.pair),
            "labels": list(self.labels),
        }


def empty_runs(runs: Sequence[ComparedRun]) -> tuple[int, ...]:
    """The indices of runs with no exits at all (nothing to test them with)."""
    return tuple(i for i, run in enumerate(runs) if run.report.sample_count == 0)


def _rates_known(a: ComparedRun, b: ComparedRun) -> bool:
    return bool(a.duration_s and b.duration_s and a.duration_s > 0 and b.duration_s > 0)


def find_differences(
    runs: Sequence[ComparedRun], pairs: Sequence[tuple[int, int]]
) -> tuple[Difference, ...]:
    """Count differences of pairs without both durations, largest relative change first.

    Listed when the counts differ by at least `DIFFERENCE_MIN_CHANGE` and the larger is at
    least `DIFFERENCE_MIN_COUNT`; pairs with an empty run are left out.
    """
    empty = set(empty_runs(runs))
    out: list[tuple[float, int, Difference]] = []
    for pair in pairs:
        a, b = runs[pair[0]], runs[pair[1]]
        if pair[0] in empty or pair[1] in empty or _rates_known(a, b):
            continue
        for reason in dict.fromkeys(a.report.reasons + b.report.reasons):
            xa, xb = _count(a, reason), _count(b, reason)
            if max(xa, xb) < DIFFERENCE_MIN_COUNT:
                continue
            rel = math.inf if xa == 0 else abs(xb / xa - 1.0)
            if rel < DIFFERENCE_MIN_CHANGE:
                continue
            diff = Difference(reason, xa, xb, pair, (a.label, b.label))
            out.append((rel, abs(xb - xa), diff))
    out.sort(key=lambda t: (-t[0], -t[1]))
    return tuple(d for _, _, d in out)


@dataclass(frozen=True, slots=True)
class _Candidate:
    reason: str
    metric: str
    baseline_value: float
    value: float
    result: stats.TestResult
    conservative: bool
    detail: str
    pair: tuple[int, int]
    labels: tuple[str, str]


def format_p(p: float, *, bound: bool = False) -> str:
    """``p = 3.1e-05``, ``p < 1e-300`` for underflow; ``<=`` when the p-value is a bound."""
    if p < 1e-300:
        return "p < 1e-300"
    return f"p {'≤' if bound else '='} {p:.2g}"


CACHE_SIZE = 64
_ROWS: OrderedDict[int, tuple[Report, dict[str, ExitStat]]] = OrderedDict()
_PAIRS: OrderedDict[tuple, tuple[Report, Report, tuple[_Candidate, ...]]] = OrderedDict()


def _remember(cache: OrderedDict, key, value) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


def rows_by_reason(report: Report) -> dict[str, ExitStat]:
    """`report`'s rows by reason (the first row of a reason, as `Report.row` finds it).

    Reports are immutable, so the index is kept for the most recent reports: the fixed
    runs of a comparison that is recomputed on every live interval are indexed once.
    """
    hit = _ROWS.get(id(report))
    if hit is not None and hit[0] is report:
        return hit[1]
    index: dict[str, ExitStat] = {}
    for row in report.rows:
        index.setdefault(row.reason, row)
    _remember(_ROWS, id(report), (report, index))  # holding the report keeps its id unique
    return index


def _count(run: ComparedRun, reason: str) -> int:
    row = rows_by_reason(run.report).get(reason)
    return row.samples if row is not None else 0


def _pair_candidates(runs: Sequence[ComparedRun], pair: tuple[int, int]) -> list[_Candidate]:
    """The tests of one pair; remembered for the same two (immutable) reports, labels and
    durations, so the pairs of fixed runs are not tested again on every live interval."""
    a, b = runs[pair[0]], runs[pair[1]]
    key = (id(a.report), id(b.report), a.label, b.label, a.duration_s, b.duration_s, pair)
    hit = _PAIRS.get(key)
    if hit is not None and hit[0] is a.report and hit[1] is b.report:
        return list(hit[2])
    out = _test_pair(runs, pair)
    _remember(_PAIRS, key, (a.report, b.report, tuple(out)))
    return out


def _share_testable(xa: int, total_a: int, xb: int, total_b: int) -> bool:
    """Every expected count of the 2x2 table is at least `MIN_EXPECTED`."""
    if total_a <= 0 or total_b <= 0:
        return False
    total = total_a + total_b
    hits = xa + xb
    return all(
        row * col / total >= MIN_EXPECTED
        for row in (hits, total - hits)
        for col in (total_a, total_b)
    )


def _test_pair(runs: Sequence[ComparedRun], pair: tuple[int, int]) -> list[_Candidate]:
    ia, ib = pair
    a, b = runs[ia], runs[ib]
    labels = (a.label, b.label)
    total_a, total_b = a.report.sample_count, b.report.sample_count
    if total_a == 0 or total_b == 0:
        return []  # a run with no exits: nothing to test (see `empty_runs`)
    reasons = list(dict.fromkeys(a.report.reasons + b.report.reasons))
    rates = _rates_known(a, b)
    out: list[_Candidate] = []

    def add(reason, metric, base, value, result, conservative, detail):
        out.append(
            _Candidate(reason, metric, base, value, result, conservative, detail, pair, labels)
        )

    rows_a, rows_b = rows_by_reason(a.report), rows_by_reason(b.report)
    for reason in reasons:
        xa, xb = _count(a, reason), _count(b, reason)
        if _share_testable(xa, total_a, xb, total_b):
            r = stats.two_proportion_z(xa, total_a, xb, total_b)
            detail = f"{xa} of {total_a} vs {xb} of {total_b} exits, two-proportion z = "
            add(reason, "share", 100 * xa / total_a, 100 * xb / total_b, r, False,
                detail + f"{r.statistic:.1f}")  # fmt: skip
        if rates and xa + xb > 0:
            assert a.duration_s is not None and b.duration_s is not None
            r = stats.poisson_rate_test(xa, a.duration_s, xb, b.duration_s)
            detail = (
                f"{xa} exits in {a.duration_s:.1f} s vs {xb} in {b.duration_s:.1f} s, "
                "exact Poisson rate test"
            )
            add(reason, "rate", xa / a.duration_s, xb / b.duration_s, r, False, detail)
        ra, rb = rows_a.get(reason), rows_b.get(reason)
        mean = _mean_candidate(ra, rb)
        if mean is not None:
            r, conservative, detail = mean
            assert ra is not None and rb is not None
            add(reason, "mean_us", ra.mean_us, rb.mean_us, r, conservative, detail)
    return out


def _mean_candidate(ra, rb) -> tuple[stats.TestResult, bool, str] | None:
    if ra is None or rb is None or min(ra.samples, rb.samples) < MIN_MEAN_SAMPLES:
        return None
    if ra.mean_us is None or rb.mean_us is None:
        return None
    sa, sb = ra.spread_bound, rb.spread_bound
    if sa is None or sb is None:
        return None
    conservative = ra.rel_stddev_pct is None or rb.rel_stddev_pct is None
    # sd of one exit = se * sqrt(n), se = rel% * mean
    sd_a = sa / 100 * ra.mean_us * math.sqrt(ra.samples)
    sd_b = sb / 100 * rb.mean_us * math.sqrt(rb.samples)
    diff = rb.mean_us - ra.mean_us
    shrunk = math.copysign(max(abs(diff) - MEAN_RESOLUTION_US, 0.0), diff)
    if shrunk == 0.0 or (sd_a == 0.0 and sd_b == 0.0):
        return None  # within print resolution, or no spread to judge by
    r = stats.welch_t(
        ra.samples, ra.mean_us, sd_a, rb.samples, ra.mean_us + shrunk, sd_b,
        df_lower_bound=conservative,
    )  # fmt: skip
    spread_a = f"{'<' if ra.rel_stddev_pct is None else ''}{sa:g}%"
    spread_b = f"{'<' if rb.rel_stddev_pct is None else ''}{sb:g}%"
    detail = (
        f"n = {ra.samples} vs {rb.samples}, spread ± {spread_a} vs ± {spread_b}, "
        f"Welch t {'≥' if conservative else '='} {abs(r.statistic):.1f}, df "
        f"{'≥' if conservative else '='} {r.df:.0f}"
    )
    return r, conservative, detail


_WHAT = {
    "share": "share of exits",
    "samples": "count",
    "rate": "rate",
    "mean_us": "mean time",
}


def _text(c: _Candidate, direction: str) -> str:
    verb = "rises" if direction == "up" else "falls"
    base, value = c.baseline_value, c.value
    rel = "" if base == 0 else numbers.change(100 * (value / base - 1))
    if c.metric == "share":
        size = numbers.pp(value - base) + (f", {rel}" if rel else "")
        figures = f"from {numbers.percent(base)}% to {numbers.percent(value)}% ({size})"
    elif c.metric == "samples":
        figures = f"from {base:.0f} to {value:.0f}" + (f" ({rel})" if rel else "")
    elif c.metric == "rate":
        figures = f"from {numbers.rate(base)}/s to {numbers.rate(value)}/s" + (
            f" ({rel})" if rel else ""
        )
    else:
        figures = f"from {numbers.us(base)} µs to {numbers.us(value)} µs" + (
            f" ({rel})" if rel else ""
        )
    p = format_p(c.result.p_value, bound=c.conservative)
    note = (
        "; conservative: spread cut off by a pager, its upper bound used" if c.conservative else ""
    )
    return (
        f"{c.reason}: {_WHAT[c.metric]} {verb} {figures}, {c.labels[0]} → {c.labels[1]} "
        f"({c.detail}, {p}{note})"
    )


FINDING_CACHE_SIZE = 4_096
_FINDINGS: OrderedDict[int, tuple[_Candidate, Finding]] = OrderedDict()


def _finding(c: _Candidate) -> Finding:
    """The finding of a significant candidate; made once per (remembered) candidate."""
    hit = _FINDINGS.get(id(c))
    if hit is not None and hit[0] is c:
        return hit[1]
    direction = "up" if c.value > c.baseline_value else "down"
    finding = Finding(
        reason=c.reason,
        metric=c.metric,
        direction=direction,
        baseline_value=c.baseline_value,
        value=c.value,
        p_value=c.result.p_value,
        conservative=c.conservative,
        text=_text(c, direction),
        pair=c.pair,
        labels=c.labels,
    )
    _FINDINGS[id(c)] = (c, finding)  # holding the candidate keeps its id unique
    while len(_FINDINGS) > FINDING_CACHE_SIZE:
        _FINDINGS.popitem(last=False)
    return finding


def find_changes(
    runs: Sequence[ComparedRun],
    pairs: Sequence[tuple[int, int]],
    *,
    alpha: float = DEFAULT_ALPHA,
) -> tuple[tuple[Finding, ...], int]:
    """The significant changes over all `pairs` (reference, other), ranked; and the test count.

    A change is significant when its two-sided p-value is below ``alpha / m`` with m the
    number of tests performed (Bonferroni, see the module docstring).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, got {alpha}")
    candidates = [c for pair in pairs for c in _pair_candidates(runs, pair)]
    m = len(candidates)
    threshold = alpha / m if m else 0.0
    found = []
    for c in candidates:
        if c.result.p_value >= threshold or c.value == c.baseline_value:
            continue
        found.append(_finding(c))
    found.sort(key=lambda f: (f.p_value, -abs(f.relative_change)))  # stable: ties keep order
    return tuple(found), m
