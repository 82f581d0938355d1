"""Compare 2 to 4 runs reason by reason: samples, share, rate, mean time and their changes.

Each run other than a reference is compared with its reference: by default every run with
the baseline run; with `pairs` (e.g. from `pair_layout` for the seed's RAW/BIND runs) each run
with the first run of its pair. Shares come from the counts (perf's total, or the sum of the
rows when the total line is missing), so a share perf did not print legibly is still known.
Unknown values stay None; they are never taken as 0. Findings: see `vmexit_tui.analysis.findings`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vmexit_tui.analysis.findings import (
    DEFAULT_ALPHA,
    Difference,
    Finding,
    empty_runs,
    find_changes,
    find_differences,
    rows_by_reason,
)
from vmexit_tui.analysis.model import Report
from vmexit_tui.analysis.running import RunInfo

MIN_RUNS, MAX_RUNS = 2, 4


@dataclass(frozen=True, slots=True)
class ComparedRun:
    """One run in a comparison: its label, its vmexit totals and, when known, its duration."""

    label: str
    report: Report
    duration_s: float | None = None
    info: RunInfo | None = None


@dataclass(frozen=True, slots=True)
class RunCell:
    """One reason in one run."""

    samples: int
    share_pct: float | None
    rate: float | None
    mean_us: float | None
    rel_stddev_pct: float | None
    rel_stddev_below: float | None


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One reason across the runs, with each run's change from its reference run.

    Deltas are None for reference runs themselves and wherever a value is unknown. A reason a
    run does not list counts as 0 exits there (share 0, so its share delta is known).
    """

    reason: str
    cells: tuple[RunCell | None, ...]
    share_delta: tuple[float | None, ...]  # percentage points
    mean_delta_pct: tuple[float | None, ...]  # relative, %
    samples_delta_pct: tuple[float | None, ...]  # relative, %


@dataclass(frozen=True, slots=True)
class Comparison:
    """The result of `compare`. `pairs` are (reference, compared) run indices; `tests` is the
    number of hypothesis tests behind `findings` (the Bonferroni divisor of `alpha`);
    `differences` are count changes of runs of unknown length, descriptive and not tested."""

    runs: tuple[ComparedRun, ...]
    baseline: int
    rows: tuple[ComparisonRow, ...]
    findings: tuple[Finding, ...]
    pairs: tuple[tuple[int, int], ...] = ()
    alpha: float = DEFAULT_ALPHA
    tests: int = 0
    differences: tuple[Difference, ...] = ()

    @property
    def empty_runs(self) -> tuple[int, ...]:
        """Runs with no exits at all: no finding involves them."""
        return empty_runs(self.runs)

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader must know before the table (e.g. a run with no exits)."""
        return tuple(
            f"{self.runs[i].label} has no exits at all: nothing to compare it with, "
            "no findings about it (is the VM idle or not a KVM guest?)."
            for i in self.empty_runs
        )


def references(count: int, pairs: Sequence[tuple[int, int]]) -> tuple[int | None, ...]:
    """Per run, the first reference it is paired with (None when it is only a reference)."""
    refs: list[int | None] = [None] * count
    for ref, other in pairs:
        if refs[other] is None:
            refs[other] = ref
    return tuple(refs)


def run_cell(run: ComparedRun, reason: str) -> RunCell | None:
    """The figures of `reason` in `run`, or None when the run does not list it."""
    row = rows_by_reason(run.report).get(reason)
    if row is None:
        return None
    total = run.report.sample_count
    duration = run.duration_s
    return RunCell(
        samples=row.samples,
        share_pct=100.0 * row.samples / total if total > 0 else None,
        rate=row.samples / duration if duration is not None and duration > 0 else None,
        mean_us=row.mean_us,
        rel_stddev_pct=row.rel_stddev_pct,
        rel_stddev_below=row.rel_stddev_below,
    )


def _share(run: ComparedRun, cell: RunCell | None) -> float | None:
    if cell is not None:
        return cell.share_pct
    return 0.0 if run.report.sample_count > 0 else None


def _row(
    runs: Sequence[ComparedRun],
    refs: Sequence[int | None],
    reason: str,
    cells: tuple[RunCell | None, ...] | None = None,
) -> ComparisonRow:
    if cells is None:
        cells = tuple(run_cell(run, reason) for run in runs)
    shares = [_share(run, cell) for run, cell in zip(runs, cells, strict=True)]
    counts = [cell.samples if cell else 0 for cell in cells]
    means = [cell.mean_us if cell else None for cell in cells]
    share_d: list[float | None] = []
    mean_d: list[float | None] = []
    count_d: list[float | None] = []
    for i, ref in enumerate(refs):
        if ref is None:
            share_d.append(None)
            mean_d.append(None)
            count_d.append(None)
            continue
        s, s0 = shares[i], shares[ref]
        share_d.append(None if s is None or s0 is None else s - s0)
        m, m0 = means[i], means[ref]
        mean_d.append(None if m is None or not m0 else 100.0 * (m / m0 - 1.0))
        c0 = counts[ref]
        count_d.append(100.0 * (counts[i] / c0 - 1.0) if c0 else None)
    return ComparisonRow(reason, cells, tuple(share_d), tuple(mean_d), tuple(count_d))


def compare(
    runs: Sequence[ComparedRun],
    baseline: int = 0,
    *,
    alpha: float = DEFAULT_ALPHA,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> Comparison:
    """Compare 2 to 4 runs of one event kind; rows sorted by the baseline's share.

    Without `pairs` every other run is compared with run `baseline`.
    """
    runs = tuple(runs)
    if not MIN_RUNS <= len(runs) <= MAX_RUNS:
        raise ValueError(f"compare takes {MIN_RUNS} to {MAX_RUNS} runs, got {len(runs)}")
    if not 0 <= baseline < len(runs):
        raise ValueError(f"baseline must be a run index 0..{len(runs) - 1}, got {baseline}")
    kinds = {run.report.event for run in runs}
    if len(kinds) > 1:
        shown = ", ".join(f"{r.label}: {r.report.event}" for r in runs)
        raise ValueError(f"cannot compare reports of different event kinds ({shown})")
    if pairs is None:
        pairs = [(baseline, i) for i in range(len(runs)) if i != baseline]
    pairs = tuple((int(a), int(b)) for a, b in pairs)
    for a, b in pairs:
        if not (0 <= a < len(runs) and 0 <= b < len(runs)) or a == b:
            raise ValueError(f"invalid pair ({a}, {b}) for {len(runs)} runs")
    refs = references(len(runs), pairs)
    reasons = list(dict.fromkeys(r for run in runs for r in run.report.reasons))
    cells = {reason: tuple(run_cell(run, reason) for run in runs) for reason in reasons}

    def order(reason: str) -> tuple[float, float, str]:
        shares = [_share(run, c) or 0.0 for run, c in zip(runs, cells[reason], strict=True)]
        return (-shares[baseline], -max(shares), reason)

    reasons.sort(key=order)
    rows = tuple(_row(runs, refs, reason, cells[reason]) for reason in reasons)
    findings, tests = find_changes(runs, pairs, alpha=alpha)
    differences = find_differences(runs, pairs)
    return Comparison(runs, baseline, rows, findings, pairs, alpha, tests, differences)


_LAYOUT = re.compile(r"^(?P<group>.*?)[\s_-]*\b(?P<kind>raw|bind)$", re.IGNORECASE)


def pair_layout(runs: Sequence[ComparedRun]) -> tuple[tuple[int, int], ...] | None:
    """For runs labelled like the seed (``X-RAW`` / ``X-BIND``): the pairs (raw, bind) per X.

    None unless every run has such a label and every X has exactly one RAW and one BIND run.
    Pairs come in order of each group's first run.
    """
    groups: dict[str, dict[str, int]] = {}
    for i, run in enumerate(runs):
        m = _LAYOUT.match(run.label.strip())
        if m is None:
            return None
        slot = groups.setdefault(m["group"].lower(), {})
        kind = m["kind"].lower()
        if kind in slot:
            return None
        slot[kind] = i
    if any(len(slot) != 2 for slot in groups.values()):
        return None
    return tuple((slot["raw"], slot["bind"]) for slot in groups.values())
