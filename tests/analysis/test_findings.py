"""Findings on the built-in reference runs, and the rules behind them on small cases."""

from __future__ import annotations

import pytest

from vmexit_tui.analysis.comparison import ComparedRun, compare, pair_layout
from vmexit_tui.analysis.findings import Finding, find_changes
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.reference import seed_runs


@pytest.fixture(scope="module")
def seed():
    runs = [ComparedRun(name.upper(), seed_runs.load(name)) for name in seed_runs.NAMES]
    return compare(runs, pairs=pair_layout(runs))


def pick(comparison, guest: str, reason: str, metric: str) -> list[Finding]:
    return [
        f
        for f in comparison.findings
        if f.labels == (f"{guest}-RAW", f"{guest}-BIND")
        and f.reason == reason
        and f.metric == metric
    ]


@pytest.mark.parametrize("guest", ["GP-GP", "GP-RT"])
def test_msr_write_share_rises_with_binding_in_both_guests(seed, guest):
    (f,) = pick(seed, guest, "MSR_WRITE", "share")
    assert f.direction == "up"
    assert f.value > f.baseline_value


def test_msr_write_mean_unchanged_for_rt_guest(seed):
    assert pick(seed, "GP-RT", "MSR_WRITE", "mean_us") == []


def test_msr_write_mean_falls_about_eleven_percent_for_gp_guest(seed):
    (f,) = pick(seed, "GP-GP", "MSR_WRITE", "mean_us")
    assert (f.direction, f.baseline_value, f.value) == ("down", 0.88, 0.78)
    assert f.relative_change == pytest.approx(-0.11, abs=0.005)
    assert f.conservative  # both spreads are pager-cut bounds ("0>" and "0.4>")
    assert "0.88 µs" in f.text and "0.78 µs" in f.text and "-11%" in f.text


def test_rt_guest_preemption_timer_up_external_interrupt_down(seed):
    (timer,) = pick(seed, "GP-RT", "PREEMPTION_TIMER", "share")
    assert timer.direction == "up"
    assert round(timer.baseline_value, 2) == 0.31 and round(timer.value, 2) == 0.72
    (ext,) = pick(seed, "GP-RT", "EXTERNAL_INTERRUPT", "share")
    assert ext.direction == "down"
    assert round(ext.baseline_value, 2) == 4.11 and round(ext.value, 2) == 0.35
    assert "4.11%" in ext.text and "0.35%" in ext.text


@pytest.mark.parametrize("guest", ["GP-GP", "GP-RT"])
def test_io_instruction_mean_rises_in_both_guests(seed, guest):
    (f,) = pick(seed, guest, "IO_INSTRUCTION", "mean_us")
    assert f.direction == "up"
    assert f.conservative


def test_io_instruction_count_change_is_a_difference_not_a_finding(seed):
    """Without durations a count change is descriptive (issue 14.14): never a finding."""
    assert not [f for f in seed.findings if f.metric == "samples"]
    io = {d.labels: d for d in seed.differences if d.reason == "IO_INSTRUCTION"}
    rt, gp = io[("GP-RT-RAW", "GP-RT-BIND")], io[("GP-GP-RAW", "GP-GP-BIND")]
    assert (rt.baseline_value, rt.value) == (740, 1484)
    assert (gp.baseline_value, gp.value) == (1047, 608)  # the seed says it rises
    assert gp.text == "IO_INSTRUCTION: 1047 → 608 exits (-42%), GP-GP-RAW → GP-GP-BIND"


def test_no_rate_findings_without_durations_and_ranked_by_p(seed):
    assert all(f.metric != "rate" for f in seed.findings)
    ps = [f.p_value for f in seed.findings]
    assert ps == sorted(ps)
    assert all(f.p_value < seed.alpha / seed.tests for f in seed.findings)


def test_unknown_mean_is_not_tested_and_total_falls_back_to_row_sum(seed):
    # GP-GP-RAW's PAUSE_INSTRUCTION has no legible mean, so no mean test for it.
    assert pick(seed, "GP-GP", "PAUSE_INSTRUCTION", "mean_us") == []
    # GP-GP-BIND has no Total Samples line: its share uses the sum of its rows.
    (f,) = pick(seed, "GP-GP", "MSR_WRITE", "share")
    bind = seed_runs.load("gp-gp-bind")
    assert bind.total_samples is None
    assert f.value == pytest.approx(100 * 24630 / sum(r.samples for r in bind.rows))
    assert f"of {sum(r.samples for r in bind.rows)} exits" in f.text


def report(*rows: ExitStat) -> Report:
    return Report(EventKind.VMEXIT, rows)


def test_mean_change_within_spread_is_not_reported():
    a = report(ExitStat("X", 1000, mean_us=1.00, rel_stddev_pct=5.0), ExitStat("Y", 1000))
    b = report(ExitStat("X", 1000, mean_us=1.05, rel_stddev_pct=5.0), ExitStat("Y", 1000))
    findings, tests = find_changes([ComparedRun("a", a), ComparedRun("b", b)], [(0, 1)])
    assert [f for f in findings if f.metric == "mean_us"] == []
    assert tests == 3  # share and mean_us for X, share for Y; counts are not tested


def test_exact_spread_is_not_conservative_and_unknown_spread_is_skipped():
    a = report(ExitStat("X", 5000, mean_us=1.00, rel_stddev_pct=0.5))
    b = report(ExitStat("X", 5000, mean_us=1.20, rel_stddev_pct=0.5))
    findings, _ = find_changes([ComparedRun("a", a), ComparedRun("b", b)], [(0, 1)])
    (f,) = [f for f in findings if f.metric == "mean_us"]
    assert not f.conservative and f.direction == "up"
    c = report(ExitStat("X", 5000, mean_us=1.20))  # spread unknown
    findings, tests = find_changes([ComparedRun("a", a), ComparedRun("c", c)], [(0, 1)])
    assert [f for f in findings if f.metric == "mean_us"] == []
    assert tests == 0  # X is all exits of both runs: its share cannot change


def test_rates_when_durations_are_known():
    a = report(ExitStat("X", 1000), ExitStat("Y", 1000))
    b = report(ExitStat("X", 1000), ExitStat("Y", 1000))
    runs = [ComparedRun("a", a, duration_s=10.0), ComparedRun("b", b, duration_s=5.0)]
    findings, _ = find_changes(runs, [(0, 1)])
    rates = [f for f in findings if f.metric == "rate"]
    assert {(f.reason, f.direction, f.baseline_value, f.value) for f in rates} == {
        ("X", "up", 100.0, 200.0),
        ("Y", "up", 100.0, 200.0),
    }
    assert not [f for f in findings if f.metric in ("samples", "share")]


def test_reason_missing_in_one_run_counts_as_zero_exits():
    a = report(ExitStat("X", 5000), ExitStat("GONE", 400))
    b = report(ExitStat("X", 5000))
    findings, _ = find_changes([ComparedRun("a", a), ComparedRun("b", b)], [(0, 1)])
    share = [f for f in findings if f.reason == "GONE" and f.metric == "share"]
    assert len(share) == 1 and share[0].value == 0.0 and share[0].direction == "down"


def test_finding_json_round_trip(seed):
    f = seed.findings[0]
    data = f.to_json()
    assert set(data) >= {"reason", "metric", "direction", "baseline_value", "value", "p_value",
                         "conservative", "text", "pair"}  # fmt: skip
    assert Finding.from_json(data) == f


def test_counts_are_not_tested_without_both_durations():
    a = report(ExitStat("X", 1000), ExitStat("Y", 1000))
    b = report(ExitStat("X", 3000), ExitStat("Y", 3000))
    for durations in ((None, None), (10.0, None), (None, 10.0)):
        runs = [ComparedRun("a", a, duration_s=durations[0]),
                ComparedRun("b", b, duration_s=durations[1])]  # fmt: skip
        c = compare(runs)
        assert c.findings == ()  # the shares are equal; the counts are not tested
        assert [(d.reason, d.baseline_value, d.value) for d in c.differences] == [
            ("X", 1000, 3000),
            ("Y", 1000, 3000),
        ]
    timed = compare([ComparedRun("a", a, duration_s=10.0), ComparedRun("b", b, duration_s=10.0)])
    assert {f.metric for f in timed.findings} == {"rate"} and timed.differences == ()


def test_empty_run_gives_no_findings_and_a_note():
    """An empty 5-second recording against a seed run (issue 14.15): no findings at all."""
    empty = ComparedRun("empty", Report(EventKind.VMEXIT, ()), duration_s=5.0)
    seed_run = ComparedRun("GP-RT-RAW", seed_runs.load("gp-rt-raw"))
    c = compare([empty, seed_run])
    assert c.findings == () and c.differences == () and c.tests == 0
    assert c.empty_runs == (0,)
    assert c.notes[0].startswith("empty has no exits at all")


def test_a_reason_with_too_few_exits_is_not_tested():
    big = ExitStat("BIG", 10_000)
    few = find_changes(
        [ComparedRun("a", report(big)), ComparedRun("b", report(big, ExitStat("R", 9)))], [(0, 1)]
    )
    assert few == ((), 0)  # expected count 4.5 < 5: no share test, no finding
    findings, tests = find_changes(
        [ComparedRun("a", report(big)), ComparedRun("b", report(big, ExitStat("R", 40)))],
        [(0, 1)],
    )
    assert tests == 2 and sorted(f.reason for f in findings) == ["BIG", "R"]


def test_mean_needs_enough_exits_in_both_runs():
    a = report(ExitStat("X", 4, mean_us=1.0, rel_stddev_pct=1.0), ExitStat("Y", 1000))
    b = report(ExitStat("X", 4, mean_us=9.0, rel_stddev_pct=1.0), ExitStat("Y", 1000))
    findings, _ = find_changes([ComparedRun("a", a), ComparedRun("b", b)], [(0, 1)])
    assert [f for f in findings if f.metric == "mean_us"] == []
