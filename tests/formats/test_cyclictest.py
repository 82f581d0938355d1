"""cyclictest parsers against the real cyclictest (rt-tests) run here: pipe, pty, -h, --json."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

from vmexit_tui.formats.cyclictest import (
    CyclictestFormatError,
    CyclictestStream,
    nsecs_requested,
    parse_json,
    parse_text,
)

needs_cyclictest = pytest.mark.skipif(
    shutil.which("cyclictest") is None, reason="cyclictest (rt-tests) is not installed"
)
BASE = ["cyclictest", "-m", "-p95", "-i", "1000", "-t", "2", "-D", "2"]


def _run(tmp_path: Path, *extra: str) -> tuple[str, dict]:
    """cyclictest's stdout through a pipe, and its --json file."""
    out = tmp_path / "ct.json"
    proc = subprocess.run(
        [*BASE, *extra, f"--json={out}"], capture_output=True, text=True, timeout=60, check=True
    )
    return proc.stdout, json.loads(out.read_text())


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@needs_cyclictest
def test_histogram_run_matches_its_json(tmp_path: Path) -> None:
    text, data = _run(tmp_path, "-h", "400")
    assert "\x1b[4A" in text  # live status lines with cursor movement, then the histogram
    statuses, stream = parse_text(_chunks(text, 7))  # arbitrary chunking: partial lines
    assert statuses and stream.skipped_lines == 0
    _, from_json = parse_json((tmp_path / "ct.json").read_text())
    summaries = stream.summaries()
    assert [s.thread for s in summaries] == [0, 1]
    for parsed, exact in zip(summaries, from_json, strict=True):
        assert parsed.max_us == exact.max_us == data["thread"][str(parsed.thread)]["max"]
        assert parsed.min_us == exact.min_us
        assert parsed.avg_us is not None and exact.avg_us is not None
        assert abs(parsed.avg_us - exact.avg_us) < 1  # printed truncated, JSON to 0.01
        assert parsed.histogram == exact.histogram and parsed.histogram
        assert parsed.cycles == exact.cycles


@needs_cyclictest
def test_quiet_run_matches_its_json(tmp_path: Path) -> None:
    text, _ = _run(tmp_path, "-q")
    statuses, stream = parse_text([text])
    _, from_json = parse_json((tmp_path / "ct.json").read_text())
    assert len(statuses) == 2
    for parsed, exact in zip(stream.summaries(), from_json, strict=True):
        assert (parsed.cycles, parsed.min_us, parsed.max_us) == (
            exact.cycles,
            exact.min_us,
            exact.max_us,
        )
        assert parsed.avg_us == pytest.approx(exact.avg_us, abs=1)
        assert parsed.histogram == exact.histogram == {}


@needs_cyclictest
def test_live_pipe_output_tracks_the_json(tmp_path: Path) -> None:
    """Without -q the last printed block precedes the last few cycles: never beyond the JSON."""
    text, data = _run(tmp_path)
    statuses, stream = parse_text(_chunks(text, 64))
    assert stream.skipped_lines == 0
    started = [s for s in statuses if s.started]
    assert len(started) > 20  # printed every ~10 ms
    for n in (0, 1):
        mine = [s for s in started if s.thread == n]
        cycles = [s.cycles for s in mine]
        assert cycles == sorted(cycles)  # cumulative
        exact = data["thread"][str(n)]
        assert mine[-1].max_us <= exact["max"] and mine[-1].cycles <= exact["cycles"]
        assert exact["cycles"] - mine[-1].cycles < exact["cycles"] // 10


@needs_cyclictest
def test_through_a_terminal(tmp_path: Path) -> None:
    """A pty turns \\n into \\r\\n; the escapes reach the reader as they would a terminal."""
    master, slave = pty.openpty()
    out = tmp_path / "ct.json"
    proc = subprocess.Popen([*BASE, f"--json={out}"], stdout=slave, stderr=slave)
    os.close(slave)
    stream = CyclictestStream()
    statuses = []
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            statuses += stream.feed(chunk.decode(errors="replace"))
    finally:
        os.close(master)
        proc.wait(timeout=30)
    statuses += stream.close()
    assert stream.skipped_lines == 0
    exact = json.loads(out.read_text())["thread"]
    last = stream.summaries()
    assert len(last) == 2 and all(s.max_us is not None for s in last)
    assert all(s.max_us <= exact[str(s.thread)]["max"] for s in last if s.max_us is not None)


def test_foreign_and_broken_lines_are_counted() -> None:
    text = (
        "[   12.345678] random: crng init done\n"
        "T: 0 ( 1234) P:95 I:1000 C:   5000 Min:      2 Act:    3 Avg:    3 Max:      12\n"
        "T: 0 ( 1234) P:95 I:1000 C:   50\n"  # cut short (serial console dropped bytes)
        "root@guest:~# \n"
        "\n"
        "T: 1 ( 1235) P:95 I:1500 C:   3333 Min:      4 Act:    5 Avg:    6 Max:      40"
    )
    statuses, stream = parse_text([text])
    assert [(s.thread, s.max_us) for s in statuses] == [(0, 12), (1, 40)]
    assert stream.skipped_lines == 3


def test_byte_by_byte_equals_whole() -> None:
    text = (
        "# /dev/cpu_dma_latency set to 0us\npolicy: fifo: loadavg: 0.1 0.2 0.3 1/2 3\n\n"
        "T: 0 (    0) P:95 I:1000 C:      0 Min:1000000 Act:    0 Avg:    0 Max:       0\n"
        "\x1b[4Apolicy: fifo: loadavg: 0.1 0.2 0.3 1/2 3          \r\n\r\n"
        "T: 0 ( 9) P:95 I:1000 C:     10 Min:      5 Act:    7 Avg:    6 Max:      9\r\n"
    )
    whole, _ = parse_text([text])
    single, stream = parse_text(list(text))
    assert whole == single and len(whole) == 2
    assert not whole[0].started and whole[1].elapsed_s == pytest.approx(0.01)
    assert stream.skipped_lines == 0
    assert stream.summaries()[0].max_us == 9


def test_json_keys_with_and_without_colon() -> None:
    text = json.dumps(
        {
            "file_version": 1,
            "cmdline:": "cyclictest -t 1",
            "rt_test_version:": "2.40",
            "thread": {"0": {"histogram": {"5": 3, "6": 0}, "cycles": 3, "min": 5, "max": 5,
                             "avg": 5.0, "cpu": 1, "node": 0}},
        }
    )  # fmt: skip
    meta, threads = parse_json(text)
    assert meta["cmdline"] == "cyclictest -t 1" and meta["rt_test_version"] == "2.40"
    assert threads[0].histogram == {5: 3} and threads[0].cpu == 1


def test_json_that_is_not_cyclictests() -> None:
    with pytest.raises(CyclictestFormatError, match=r"x.json:1: expected"):
        parse_json('{"a": 1}', source="x.json")
    with pytest.raises(CyclictestFormatError, match=r"x.json:2:"):
        parse_json('{\n"thread": }', source="x.json")


@needs_cyclictest
def test_a_run_in_ns_reads_as_microseconds_like_its_json(tmp_path: Path) -> None:
    """cyclictest -N prints ns with nothing to say so; its --json file says resolution_in_ns."""
    text, data = _run(tmp_path, "-q", "-N")
    assert data["resolution_in_ns"] == 1
    _, as_us = parse_text([text])  # read as if in µs: 1000 times too large
    _, stream = parse_text([text], nsecs=True)
    meta, from_json = parse_json((tmp_path / "ct.json").read_text())
    assert meta["resolution_in_ns"] == 1
    for wrong, parsed, exact in zip(as_us.summaries(), stream.summaries(), from_json, strict=True):
        raw = data["thread"][str(parsed.thread)]
        assert wrong.max_us == raw["max"]  # what a reader that ignores -N would report
        assert parsed.max_us == exact.max_us == round(raw["max"] / 1000)
        assert parsed.min_us == exact.min_us == round(raw["min"] / 1000)
        assert exact.avg_us == pytest.approx(raw["avg"] / 1000)
        assert parsed.avg_us == pytest.approx(exact.avg_us, abs=1)
        assert parsed.cycles == exact.cycles


def test_ns_is_found_in_a_command_line() -> None:
    assert nsecs_requested(["ssh", "rt-guest", "cyclictest", "-N", "-m", "-p95"])
    assert nsecs_requested(["ssh", "rt-guest", "cyclictest -m -N"])  # a quoted remote command
    assert nsecs_requested(["/usr/bin/cyclictest", "--nsecs"])
    assert nsecs_requested(["cyclictest", "-qmN"])
    assert not nsecs_requested(["cyclictest", "-m", "-p95", "-i1000", "-t", "2", "-n"])
    assert not nsecs_requested(["ssh", "-N", "rt-guest", "cyclictest", "-m"])  # ssh's own -N
    assert not nsecs_requested(["ssh", "rt-guest", "./run-rt.sh", "-N"])  # no cyclictest word


def test_histogram_rows_in_ns_merge_into_microsecond_buckets() -> None:
    text = (
        "T: 0 ( 4242) P:95 I:1000 C:   3000 Min:   1400 Act:   2600 Avg:   2100 Max:   2600\n"
        "# Histogram\n001400 000001\n001499 000002\n002600 000001\n"
        "# Total: 000000004\n# Min Latencies: 01400\n# Avg Latencies: 02100\n"
        "# Max Latencies: 02600\n# Histogram Overflows: 00000\n"
    )
    _, stream = parse_text([text], nsecs=True)
    (summary,) = stream.summaries()
    assert (summary.min_us, summary.avg_us, summary.max_us) == (1, 2.0, 3)
    assert summary.histogram == {1: 3, 3: 1}  # 1400 and 1499 ns: 1 µs; 2600 ns: 3 µs
