"""The live table's columns: a cell's text and the raw value it sorts by."""

from __future__ import annotations

from vmexit_tui.analysis.model import ExitStat
from vmexit_tui.analysis.running import ReasonSeries, SeriesPoint
from vmexit_tui.app.format import sort_key
from vmexit_tui.app.widgets.exit_columns import (
    COLUMNS,
    INDEX,
    SORTABLE,
    trend_text,
    update_rows,
)

SORTABLE_COLUMNS = [c for c in COLUMNS if c.key in SORTABLE]


def test_known_figures_sort_by_their_raw_value_and_unknown_ones_last():
    known = ExitStat("HLT", 1234, samples_pct=50.0, time_pct=90.0, min_us=1.0, max_us=9.0,
                     mean_us=4.0, rel_stddev_pct=2.0)  # fmt: skip
    unknown = ExitStat("MSR_READ", 3)
    for col in SORTABLE_COLUMNS:
        text, value = col.text(known, 10.0)
        assert text, col.key
        if col.key != "name":
            _, missing = col.text(unknown, None)
            if missing is None:
                assert sort_key(missing) > sort_key(value), col.key
    assert COLUMNS[INDEX["samples"]].text(known, None)[1] == 1234
    assert "trend" not in SORTABLE and INDEX["name"] == 0


def test_a_trend_is_the_last_points_rate_or_mean_as_bars():
    series = ReasonSeries(8)
    for i, (count, mean) in enumerate([(10, 5.0), (10, 1.0), (20, None), (40, 3.0)]):
        series.append(SeriesPoint(float(i), i + 1.0, count, mean))
    assert trend_text(series, 3, of_mean=False) == "▁▃█"  # rates 10, 20, 40
    assert trend_text(series, 4, of_mean=True) == "█▁ ▅"  # a None mean is a gap
    assert trend_text(None, 4, of_mean=False) == ""


def test_update_rows_resorts_only_when_rows_or_the_sort_column_change_and_widens():
    rows: dict = {}
    widths = [len(c.title) for c in COLUMNS]

    def update(*stats: ExitStat) -> tuple[bool, bool]:
        by_reason = {s.reason: s for s in stats}
        return update_rows(rows, by_reason, COLUMNS, lambda r: 1.0, widths, INDEX["samples"])

    a, b = ExitStat("HLT", 5, mean_us=1.0), ExitStat("MSR_WRITE", 7, mean_us=2.0)
    assert update(a, b) == (True, True)  # new rows; "MSR_WRITE" is wider than "Reason"
    assert widths[INDEX["name"]] == len("MSR_WRITE") and rows["HLT"].sizes[0] == 3
    version = rows["HLT"].version
    slower = ExitStat("HLT", 5, mean_us=9.0)  # another mean, the same samples
    assert update(slower, b) == (False, False)
    assert rows["HLT"].version == version + 1 and rows["HLT"].values[INDEX["mean"]] == 9.0
    assert update(slower, b) == (False, False) and rows["HLT"].version == version + 1
    assert update(slower) == (True, False) and list(rows) == ["HLT"]  # one went
