"""The counting source: perf stat CSV grouped per interval; real perf on a real guest here.

This host's kvm:kvm_exit never fires, so here only start, stop and cleanup are real; counts are
checked in the lab (tests/lab/test_kernel_source.py).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.qemu_guest import needs_qemu, qemu_guest
from vmexit_tui.formats.perf_stat_csv import StatLine, StatParseError, StatStream, parse_stat_line
from vmexit_tui.host.discovery import VmScanner
from vmexit_tui.recording import modes
from vmexit_tui.recording.perf_count import OTHER, PerfCountRecorder, count_argv, group_to_report
from vmexit_tui.recording.protocol import RecordingEnded, RecordingStatus

# captured from perf 6.1 on this host (a thread that did not run, then invented counts below)
NOT_COUNTED = "     1.032882522,<not counted>,,kvm:kvm_exit,0,100.00,,"


def test_stat_lines_parse_and_not_counted_is_zero():
    assert parse_stat_line(NOT_COUNTED) == StatLine(1.032882522, 0, "kvm:kvm_exit", False)
    assert parse_stat_line("2.0,1234,,kvm:kvm_exit,1000,100.00,,") == StatLine(
        2.0, 1234, "kvm:kvm_exit"
    )
    assert parse_stat_line("# started on Thu Nov 26") is None
    assert parse_stat_line("Error: something") is None
    with pytest.raises(StatParseError, match="perf stat:7: expected a count"):
        parse_stat_line("2.0,12x,,kvm:kvm_exit,1,100,,", lineno=7)


def test_a_group_is_complete_with_one_reading_per_counter_or_at_the_next_interval():
    s = StatStream(3)
    assert s.feed("1.0,5,,kvm:kvm_exit,1,100,,") == []
    assert s.feed("1.0,7,,kvm:kvm_exit,1,100,,") == []
    (g,) = s.feed("1.0,20,,kvm:kvm_exit,1,100,,")
    assert [r.count for r in g] == [5, 7, 20]
    assert s.feed("2.0,1,,kvm:kvm_exit,1,100,,") == []
    (cut,) = s.feed("3.0,2,,kvm:kvm_exit,1,100,,")  # perf skipped ahead: the short group ends
    assert [r.count for r in cut] == [1]
    assert [[r.count for r in g] for g in s.close()] == [[2]]


def test_group_counts_by_position_with_the_rest_of_the_total_as_unknown():
    g = [StatLine(1.0, n, "kvm:kvm_exit") for n in (10, 0, 5, 18)]
    report = group_to_report(g, [124, 120, 114], {124: "msr", 120: "hlt", 114: "cpuid"})
    assert {r.reason: r.samples for r in report.rows} == {"msr": 10, "cpuid": 5, OTHER: 3}
    assert report.sample_count == 18
    assert all(r.mean_us is None for r in report.rows)  # counts only


def test_argv_is_a_list_with_one_filtered_counter_per_code_and_the_total():
    argv = count_argv([7, 5], [124, 114], interval_s=2)
    assert argv == [
        "perf", "stat", "-x,", "-I", "2000", "--no-big-num", "-t", "5,7",
        "-e", "kvm:kvm_exit", "--filter", "exit_reason==124",
        "-e", "kvm:kvm_exit", "--filter", "exit_reason==114",
        "-e", "kvm:kvm_exit",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        count_argv([], [1], interval_s=1)


@needs_qemu[0]
@needs_qemu[1]
@pytest.mark.perf
async def test_real_perf_stat_on_a_real_guest_starts_counts_and_stops_clean(no_new_perf):
    if modes.kernel_features().tracing is None or not modes.kernel_features().kvm_exit:
        pytest.skip("no kvm:kvm_exit tracepoint here")
    with qemu_guest(smp=2) as proc:
        vm = VmScanner().find(pid=proc.pid)
        rec = modes.make_recorder("count", vm, interval_s=1)
        assert isinstance(rec, PerfCountRecorder)
        events = []

        async def consume():
            async for ev in rec.events():
                events.append(ev)

        task = asyncio.create_task(consume())
        for _ in range(200):
            await asyncio.sleep(0.1)
            if sum(1 for e in events if type(e).__name__ == "Interval") >= 2:
                break
        await rec.stop()
        await asyncio.wait_for(task, 30)
    intervals = [e for e in events if type(e).__name__ == "Interval"]
    assert len(intervals) >= 2
    assert all(i.reports["vmexit"].source == "perf stat counting" for i in intervals)
    assert rec.argv[:2] == ["perf", "stat"] and rec.argv.count("--filter") == len(rec.codes)
    assert len(rec.codes) > 50  # the kernel's whole table
    ended = events[-1]
    assert isinstance(ended, RecordingEnded) and ended.ok, ended
    assert ended.folder is None
    assert any(isinstance(e, RecordingStatus) and e.state == "recording" for e in events)
    assert rec.info.source_mode == "count"
    # the end is on the run: when, and the pinning then (a snapshot shows both)
    assert rec.info.started is not None and rec.info.stopped is not None
    assert rec.info.stopped - rec.info.started >= 1.0
    assert rec.info.pinning_at_end == str(vm.pinning)
