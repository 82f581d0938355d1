"""The line grammar's helpers: the upper bound of a spread a pager cut off."""

from __future__ import annotations

import pytest

from vmexit_tui.formats.perf_report_lines import cut_bound


@pytest.mark.parametrize(
    ("prefix", "bound"), [("0", 1.0), ("21", 22.0), ("0.4", 0.5), ("60.7", 60.8), ("3.", 4.0)]
)
def test_cut_bound(prefix, bound):
    assert cut_bound(prefix) == bound
