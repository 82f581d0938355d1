"""The writer prints perf's layout: byte-identical on perf's output, parse(write(r)) == r."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.formats.perf_parser import parse_report, parse_reports
from vmexit_tui.formats.perf_writer import UnprintableReport, format_report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_writing_what_was_parsed_gives_perfs_text_back_byte_for_byte(path):
    raw = path.read_text()
    assert "".join(format_report(r) for r in parse_reports(raw)) == raw


two_dp = st.integers(min_value=0, max_value=10**8).map(lambda v: v / 100)
names = st.from_regex(r"[A-Za-z][A-Za-z_0-9]{0,12}( [a-z]{1,5})?", fullmatch=True)


@st.composite
def reports(draw):
    width = draw(st.sampled_from([20, 40]))
    rows = []
    for name in draw(st.lists(names, unique=True, max_size=8)):
        cut = draw(st.booleans())
        rows.append(
            ExitStat(
                reason=name,
                samples=draw(st.integers(min_value=1, max_value=10**9)),
                samples_pct=draw(two_dp),
                time_pct=draw(two_dp),
                min_us=draw(two_dp),
                max_us=draw(two_dp),
                mean_us=draw(two_dp),
                rel_stddev_pct=None if cut else draw(two_dp),
                rel_stddev_below=draw(st.sampled_from([0.5, 1.0, 22.0, 60.8])) if cut else None,
            )
        )
    has_total = draw(st.booleans()) and not any(r.rel_stddev_below for r in rows)
    return Report(
        event=draw(st.sampled_from(list(EventKind))),
        rows=tuple(rows),
        total_samples=draw(st.integers(min_value=0, max_value=10**12)) if has_total else None,
        total_time_us=draw(two_dp) if has_total else None,
        scope=Scope(
            pids=tuple(draw(st.lists(st.integers(1, 4_000_000), max_size=3))),
            vcpu=draw(st.none() | st.integers(0, 255)),
        ),
        name_width=width,
        lost_events=draw(st.integers(1, 99)) if has_total and draw(st.booleans()) else None,
        timestamp=draw(st.none() | st.just("09:15:02.123456")),
    )


@settings(max_examples=300, deadline=None)
@given(reports())
def test_parse_of_write_is_the_identity(report):
    assert parse_report(format_report(report), source="w") == replace(report, source="w")


def test_values_perf_cannot_print_are_refused_with_the_reason():
    row = ExitStat("HLT", 3, samples_pct=None, time_pct=1.0, min_us=1, max_us=2, mean_us=1.5)
    with pytest.raises(UnprintableReport, match="'HLT' has unknown values"):
        format_report(Report(EventKind.VMEXIT, (row,)))
