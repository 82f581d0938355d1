"""Rows, deltas, pairing and validation of `compare`."""

from __future__ import annotations

import pytest

from vmexit_tui.analysis.comparison import ComparedRun, compare, pair_layout, references
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.reference import seed_runs


def seed_compared() -> list[ComparedRun]:
    return [ComparedRun(name.upper(), seed_runs.load(name)) for name in seed_runs.NAMES]


def test_two_runs_cells_and_deltas_against_baseline():
    runs = seed_compared()[2:]
    c = compare(runs)
    assert c.pairs == ((0, 1),) and c.baseline == 0
    row = next(r for r in c.rows if r.reason == "IO_INSTRUCTION")
    raw, bind = row.cells
    assert raw is not None and bind is not None
    assert (raw.samples, bind.samples) == (740, 1484)
    assert raw.share_pct == pytest.approx(100 * 740 / 52947)
    assert raw.rate is None  # no duration
    assert (raw.mean_us, bind.mean_us) == (8.12, 10.95)
    assert (raw.rel_stddev_pct, raw.rel_stddev_below) == (None, 5.0)
    assert row.share_delta[0] is None
    assert row.share_delta[1] == pytest.approx(100 * 1484 / 56789 - 100 * 740 / 52947)
    assert row.mean_delta_pct[1] == pytest.approx(100 * (10.95 / 8.12 - 1))
    assert row.samples_delta_pct[1] == pytest.approx(100 * (1484 / 740 - 1))


def test_rows_sorted_by_baseline_share():
    c = compare(seed_compared()[:2])
    assert [r.reason for r in c.rows][:3] == ["EPT_VIOLATION", "MSR_WRITE", "HLT"]
    c = compare(seed_compared()[:2], baseline=1)
    assert [r.reason for r in c.rows][:3] == ["MSR_WRITE", "EPT_VIOLATION", "HLT"]
    assert c.rows[0].share_delta == (pytest.approx(36.74 - 41.416, abs=0.01), None)


def test_unknown_values_stay_unknown_and_missing_reason_counts_zero():
    a = Report(EventKind.VMEXIT, (ExitStat("X", 10), ExitStat("Y", 10, mean_us=2.0)))
    b = Report(EventKind.VMEXIT, (ExitStat("X", 30, mean_us=1.0),))
    c = compare([ComparedRun("a", a, duration_s=2.0), ComparedRun("b", b, duration_s=3.0)])
    x = next(r for r in c.rows if r.reason == "X")
    assert x.cells[1] is not None and x.cells[1].rate == 10.0
    assert x.mean_delta_pct == (None, None)  # the baseline mean is unknown, not 0
    y = next(r for r in c.rows if r.reason == "Y")
    assert y.cells[1] is None
    assert y.share_delta[1] == pytest.approx(-50.0)
    assert y.samples_delta_pct[1] == pytest.approx(-100.0)
    assert y.mean_delta_pct[1] is None


def test_pair_layout_for_seed_labels():
    runs = seed_compared()
    assert pair_layout(runs) == ((0, 1), (2, 3))
    shuffled = [runs[3], runs[0], runs[2], runs[1]]
    assert pair_layout(shuffled) == ((2, 0), (1, 3))
    spaced = [ComparedRun("GP-RT bind", runs[3].report), ComparedRun("gp-rt RAW", runs[2].report)]
    assert pair_layout(spaced) == ((1, 0),)
    assert pair_layout(runs[:3]) is None
    assert pair_layout([runs[0], ComparedRun("other", runs[1].report)]) is None
    assert pair_layout([runs[0], runs[0]]) is None


def test_pairs_set_references_and_findings_per_pair():
    runs = seed_compared()
    c = compare(runs, pairs=pair_layout(runs))
    assert references(4, c.pairs) == (None, 0, None, 2)
    assert {f.pair for f in c.findings} == {(0, 1), (2, 3)}
    row = c.rows[0]
    assert row.share_delta[0] is None and row.share_delta[2] is None
    assert row.share_delta[1] is not None and row.share_delta[3] is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": 1}, "2 to 4 runs"),
        ({"runs": 5}, "2 to 4 runs"),
        ({"baseline": 2}, "baseline must be"),
        ({"pairs": [(0, 0)]}, "invalid pair"),
    ],
)
def test_invalid_arguments(kwargs, message):
    runs = seed_compared()
    count = kwargs.pop("runs", 2)
    chosen = (runs * 2)[:count]
    with pytest.raises(ValueError, match=message):
        compare(chosen, **kwargs)


def test_mixed_event_kinds_are_rejected():
    a = seed_runs.load("gp-rt-raw")
    b = Report(EventKind.MSR, (ExitStat("0x6e0:W", 5),))
    with pytest.raises(ValueError, match="different event kinds"):
        compare([ComparedRun("a", a), ComparedRun("b", b)])
