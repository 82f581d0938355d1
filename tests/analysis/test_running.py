"""ReasonSeries and SeriesPoint: a bounded series halves its resolution when full, keeps
counts and rates exact when it merges points, and hands out a trend's tail."""

from __future__ import annotations

import pytest

from vmexit_tui.analysis.running import ReasonSeries, SeriesPoint


def test_a_point_knows_its_rate_and_an_empty_span_has_none():
    assert SeriesPoint(10.0, 12.0, 300, 1.5).rate == 150.0
    assert SeriesPoint(10.0, 10.0, 300, 1.5).rate == 0.0
    assert SeriesPoint(1.0, 2.0, 5, None) == SeriesPoint(1.0, 2.0, 5, None)


def test_a_full_series_merges_pairs_and_keeps_counts_rates_and_means():
    series = ReasonSeries(capacity=4)
    for i in range(5):
        series.append(SeriesPoint(float(i), float(i + 1), 100 * (i + 1), float(i + 1)))
    merged = series.points
    assert [(p.start, p.end, p.count) for p in merged] == [(0, 2, 300), (2, 4, 700), (4, 5, 500)]
    assert [p.rate for p in merged] == [150.0, 350.0, 500.0]
    assert merged[0].mean_us == pytest.approx((1 * 100 + 2 * 200) / 300)
    assert sum(p.count for p in merged) == sum(100 * (i + 1) for i in range(5))


@pytest.mark.parametrize("n", [0, 1, 3, 10])
def test_the_tail_is_the_last_points(n):
    series = ReasonSeries(capacity=8)
    for i in range(6):
        series.append(SeriesPoint(float(i), float(i + 1), i, None))
    assert series.tail(n) == (list(series.points[-n:]) if n else [])
