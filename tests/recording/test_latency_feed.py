"""The latency feed with real cyclictest: as a command (pty), from a growing file, stopped."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import psutil
import pytest

from vmexit_tui.analysis.latency import LatencyInterval
from vmexit_tui.recording.latency_feed import (
    LatencyEnded,
    LatencyFeed,
    LatencySpec,
    command_chunks,
    file_chunks,
    stream_chunks,
)

needs_cyclictest = pytest.mark.skipif(
    shutil.which("cyclictest") is None, reason="cyclictest (rt-tests) is not installed"
)
CT = "cyclictest -m -p95 -i 1000 -t 2"


def _cyclictests() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "cyclictest"}


async def _collect(feed: LatencyFeed, stop_after: int | None = None) -> list:
    events = []
    async for ev in feed.events():
        events.append(ev)
        if stop_after is not None and len(events) == stop_after:
            await feed.stop()
    return events


@needs_cyclictest
async def test_command_feed_gives_intervals_that_add_up(tmp_path: Path) -> None:
    feed = LatencyFeed(LatencySpec(command=f"{CT} -D 2").chunks(), interval_s=0.5)
    events = await _collect(feed)
    assert isinstance(events[-1], LatencyEnded) and events[-1].ok
    intervals = [e for e in events if isinstance(e, LatencyInterval)]
    assert len(intervals) >= 3
    assert all(a.end == b.start for a, b in itertools.pairwise(intervals))
    summary = feed.summary()
    assert [t.thread for t in summary.threads] == [0, 1]
    for t in summary.threads:
        # the worst of the intervals is the run's max: no latency is lost between intervals
        per_interval = [i.threads[t.thread].max_us for i in intervals if t.thread in i.threads]
        assert max(x for x in per_interval if x is not None) == t.max_us
    assert feed.stream.skipped_lines == 0


@needs_cyclictest
async def test_stopping_ends_the_command() -> None:
    before = _cyclictests()
    feed = LatencyFeed(command_chunks(CT.split()), interval_s=0.3)
    events = await _collect(feed, stop_after=2)
    assert events[-1] == LatencyEnded("stopped", ok=True)
    assert _cyclictests() - before == set()


async def test_a_command_that_fails_says_why() -> None:
    argv = ["python3", "-c", "import sys; print('usage: ...'); sys.exit('ssh: no route to host')"]
    feed = LatencyFeed(command_chunks(argv), interval_s=0.3)
    events = await _collect(feed)
    assert events[-1] == LatencyEnded("python3 exited with status 1: ssh: no route to host", False)
    feed = LatencyFeed(command_chunks(["python3", "-c", "print('hello')"]), interval_s=0.3)
    events = await _collect(feed)
    assert events[-1].ok and "no cyclictest status line" in events[-1].reason
    feed = LatencyFeed(command_chunks(["/nonexistent/ct"]), interval_s=0.3)
    events = await _collect(feed)
    assert events[-1].reason.startswith("cannot run /nonexistent/ct")


@needs_cyclictest
async def test_growing_file_from_its_end(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    old = "T: 0 ( 1) P:95 I:1000 C:   9 Min: 1 Act: 1 Avg: 1 Max: 99999\n"  # an older run
    log.write_text(old + old[:30])  # ...cut in the middle of a line: its rest is not read
    feed = LatencyFeed(file_chunks(log, poll_s=0.05), interval_s=0.3)
    with log.open("ab") as out:
        proc = subprocess.Popen([*CT.split(), "-D", "2"], stdout=out, stderr=subprocess.DEVNULL)
        events = []

        async def collect() -> None:
            async for ev in feed.events():
                events.append(ev)

        task = asyncio.create_task(collect())
        await asyncio.to_thread(proc.wait, 30)
        await asyncio.sleep(0.3)
        await feed.stop()
        await task
    intervals = [e for e in events if isinstance(e, LatencyInterval)]
    assert intervals and feed.summary().max_us is not None
    assert feed.summary().max_us < 99999  # the old line before the feed started is not read
    assert feed.stream.skipped_lines == 0


async def test_stdin_pipe_until_eof() -> None:
    r, w = os.pipe()
    line = "T: 0 ( 7) P:95 I:1000 C:{:7d} Min:      2 Act:    3 Avg:    3 Max:      {}\n"
    feed = LatencyFeed(stream_chunks(os.fdopen(r, "rb")), interval_s=0.2)
    events = []

    async def collect() -> None:
        async for ev in feed.events():
            events.append(ev)

    task = asyncio.create_task(collect())
    os.write(w, line.format(10, 9).encode())
    await asyncio.sleep(0.3)
    os.write(w, ("partial " + line.format(20, 12)[:20]).encode())  # a line cut short, then EOF
    os.close(w)
    await asyncio.wait_for(task, 10)
    assert events[-1].ok and feed.summary().max_us == 9
    assert feed.stream.skipped_lines == 1


@needs_cyclictest
async def test_a_command_with_minus_n_is_read_in_microseconds(tmp_path: Path) -> None:
    out = tmp_path / "ct.json"
    spec = LatencySpec(command=f"{CT} -N -D 1 --json={out}")
    assert spec.in_ns and not LatencySpec(command=f"{CT} -D 1").in_ns
    assert LatencySpec(file="console.log", nsecs=True).describe() == "file: console.log (ns)"
    feed = LatencyFeed(spec.chunks(), interval_s=0.5, nsecs=spec.in_ns)
    await _collect(feed)
    raw = json.loads(out.read_text())
    assert raw["resolution_in_ns"] == 1
    threads = feed.summary().threads
    assert [t.thread for t in threads] == [0, 1]
    for t in threads:
        exact_ns = raw["thread"][str(t.thread)]["max"]
        assert t.max_us is not None and t.max_us <= round(exact_ns / 1000)  # the live lines
        assert t.max_us * 1000 > exact_ns / 20  # µs, not ns: within reach of the exact max
