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
    assert "0.88 us" in f.text and "0.78 us" in f.text and "-11%" in f.text


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


def test_io_instruction_count_rises_for_rt_but_falls_for_gp(seed):
    (rt,) = pick(seed, "GP-RT", "IO_INSTRUCTION", "samples")
    assert (rt.direction, rt.baseline_value, rt.value) == ("up", 740, 1484)
    (gp,) = pick(seed, "GP-GP", "IO_INSTRUCTION", "samples")  # the seed says it rises
    assert (gp.direction, gp.baseline_value, gp.value) == ("down", 1047, 608)
    assert "falls from 1047 to 608" in gp.text


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
    assert tests == 5  # share, samples and mean_us for X; share and samples for Y


def test_exact_spread_is_not_conservative_and_unknown_spread_is_skipped():
    a = report(ExitStat("X", 5000, mean_us=1.00, rel_stddev_pct=0.5))
    b = report(ExitStat("X", 5000, mean_us=1.20, rel_stddev_pct=0.5))
    findings, _ = find_changes([ComparedRun("a", a), ComparedRun("b", b)], [(0, 1)])
    (f,) = [f for f in findings if f.metric == "mean_us"]
    assert not f.conservative and f.direction == "up"
    c = report(ExitStat("X", 5000, mean_us=1.20))  # spread unknown
    findings, tests = find_changes([ComparedRun("a", a), ComparedRun("c", c)], [(0, 1)])
    assert [f for f in findings if f.metric == "mean_us"] == []
    assert tests == 2


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
