"""The one formatting rule per quantity, including the examples issue 14 lists."""

from __future__ import annotations

import math

import pytest

from vmexit_tui.formats import numbers as n


def test_symbols_are_distinct_and_in_the_legend():
    assert n.UNKNOWN == "?" and n.ABSENT == "–"
    assert len({n.UNKNOWN, n.ABSENT}) == 2
    for symbol in (n.UNKNOWN, n.ABSENT, "±<x%"):
        assert symbol in n.LEGEND


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "?"), (0, "0"), (2306, "2306"), (99_999, "99999"), (-5, "-5")],
)
def test_count_is_exact(value, shown):
    assert n.count(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(99_999, "99999"), (100_000, "100k"), (123_456, "123k"), (999_999, "1.00M"),
     (1_234_567, "1.23M"), (12_345_678, "12.3M"), (2_000_000_000, "2.00G")],
)  # fmt: skip
def test_short_count_keeps_three_significant_digits(value, shown):
    assert n.count(value, short=True) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2306.4, "2306"),
        (145.2, "145"),
        (9.0, "9"),  # not "9.0" beside "2306" (issue 14.6)
        (9.4, "9"),
        (0.996, "1"),
        (8 / 50, "0.16"),  # MSR_READ, 8 samples over a long run: not "0.0" (issue 14.6)
        (8 / 3000, "0.0027"),
        (0.0004, "<0.001"),
        (0, "0"),
        (123_456, "123k"),
        (None, "?"),
        (math.nan, "?"),
    ],
)
def test_rate(value, shown):
    assert n.rate(value) == shown


def test_a_nonzero_rate_never_reads_zero():
    for value in (1e-3, 0.0049, 0.049, 0.5, 0.9949):
        assert n.rate(value).strip("<0.") != ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.514, "0.51"), (58.4, "58.40"), (583.66, "583.7"), (3039.2, "3039"),
     (58_400, "58400"), (131_000, "131000"), (1_500_000, "1500000"), (None, "?")],
)  # fmt: skip
def test_us_never_changes_unit(value, shown):
    assert n.us(value) == shown
    assert "ms" not in n.us(value) and not n.us(value).endswith("s")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.48, "0.48 µs"), (583.7, "583.7 µs"), (131_000, "131.0 ms"), (1_500_000, "1.50 s"),
     (None, "?")],
)  # fmt: skip
def test_duration_writes_its_unit(value, shown):
    assert n.duration(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(45.123, "45.12"), (100.0, "100.00"), (0.0, "0.00"), (0.004, "<0.01"), (None, "?")],
)
def test_percent(value, shown):
    assert n.percent(value) == shown


def test_percent_with_fewer_digits():
    assert n.percent(41.04, 1) == "41.0"
    assert n.percent(0.04, 1) == "<0.1"
    assert n.percent(0.0, 1) == "0.0"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(-0.001, "0.00 pp"), (0.004, "0.00 pp"), (-0.0, "0.00 pp"), (1.234, "+1.23 pp"),
     (-2.5, "-2.50 pp"), (None, "?")],
)  # fmt: skip
def test_pp_never_prints_minus_zero(value, shown):
    assert n.pp(value) == shown


def test_pp_without_unit():
    assert n.pp(-0.003, unit=False) == "0.00"
    assert n.pp(0.5, unit=False) == "+0.50"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(12.4, "+12%"), (-3.4, "-3%"), (-0.4, "0%"), (math.inf, "new"), (None, "?")],
)
def test_change(value, shown):
    assert n.change(value) == shown


@pytest.mark.parametrize(
    ("value", "below", "shown", "short"),
    [
        (0.373273, None, "±0.37%", "0.37"),  # a snapshot's spread (issue 14.6)
        (1.27, None, "±1.27%", "1.27"),
        (15.94, None, "±15.94%", "15.94"),
        (123.4, None, "±123.40%", "123.40"),
        (None, 5.0, "±<5%", "<5"),
        (None, 0.5, "±<0.5%", "<0.5"),
        (None, None, "?", "?"),
    ],
)
def test_spread(value, below, shown, short):
    assert n.spread(value, below) == shown
    assert n.spread(value, below, short=True) == short


def test_run_labels_of_builtin_runs_are_upper_case():
    assert n.run_label("gp-rt-raw") == "GP-RT-RAW"
    assert n.run_label("GP-RT-RAW") == "GP-RT-RAW"
    assert n.run_label("my-run") == "my-run"
