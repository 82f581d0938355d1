"""The live table's columns: a cell's text and the raw value it sorts by."""

from __future__ import annotations

from vmexit_tui.analysis.model import ExitStat
from vmexit_tui.app.format import sort_key
from vmexit_tui.app.widgets.exit_columns import COLUMNS, INDEX, SORTABLE


def test_known_figures_sort_by_their_raw_value_and_unknown_ones_last():
    known = ExitStat("HLT", 1234, samples_pct=50.0, time_pct=90.0, min_us=1.0, max_us=9.0,
                     mean_us=4.0, rel_stddev_pct=2.0)  # fmt: skip
    unknown = ExitStat("MSR_READ", 3)
    for col in COLUMNS:
        text, value = col.text(known, 10.0, "▁▂")
        assert text, col.key
        if col.key in SORTABLE and col.key not in ("name",):
            _, missing = col.text(unknown, None, "")
            if missing is None:
                assert sort_key(missing) > sort_key(value), col.key
    assert COLUMNS[INDEX["samples"]].text(known, None, "")[1] == 1234
    assert "trend" not in SORTABLE and INDEX["name"] == 0
