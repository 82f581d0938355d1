"""The incremental parser: text fed in pieces gives the reports of the whole text, each once."""

from __future__ import annotations

from pathlib import Path

from vmexit_tui.formats.perf_parser import parse_reports
from vmexit_tui.formats.perf_stream_parser import ReportStreamParser

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_crlf_and_streaming_in_tiny_pieces_give_the_same_reports():
    raw = text("live_vmx_3_intervals.txt")
    whole = parse_reports(raw)
    assert parse_reports(raw.replace("\n", "\r\n")) == whole  # CRLF changes nothing
    parser = ReportStreamParser()
    got = []
    for i in range(0, len(raw), 7):
        got += parser.feed(raw[i : i + 7])
    got += parser.close()
    assert got == whole


def test_take_complete_hands_over_a_block_without_waiting_for_the_next():
    raw = text("live_vmx_3_intervals.txt")
    first_end = raw.index("Total Samples:")
    first_end = raw.index("\n", first_end) + 1
    parser = ReportStreamParser()
    assert parser.feed(raw[:first_end]) == []  # a Lost events line might still follow
    done = parser.take_complete()
    assert len(done) == 1 and done[0].timestamp == "14:02:07.000412"
