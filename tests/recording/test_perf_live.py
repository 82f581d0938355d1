"""PerfLiveRecorder: blocks parsed as they stream; real perf kvm stat live on a real guest."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from tests.qemu_guest import needs_qemu, qemu_guest
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.perf_parser import parse_reports
from vmexit_tui.host.discovery import Pinning, VmInfo, VmScanner
from vmexit_tui.recording.perf_live import PerfLiveRecorder, time_of_day_epoch
from vmexit_tui.recording.protocol import EndReason, RecordingEnded

FIXTURE = Path(__file__).parents[1] / "fixtures" / "reports" / "live_vmx_3_intervals.txt"


def test_time_of_day_picks_the_nearest_day():
    now = datetime(2026, 3, 1, 0, 0, 2).timestamp()  # just after midnight
    assert time_of_day_epoch("23:59:59.500000", now) == pytest.approx(now - 2.5)
    assert time_of_day_epoch("00:00:01.250000", now) == pytest.approx(now - 0.75)


async def test_streamed_blocks_become_one_interval_each():
    """The fixture fed in odd-sized pieces through a real StreamReader, as perf's pipe."""
    me = psutil.Process()
    vm = VmInfo(me.pid, "self", "test", me.create_time(), None, 0, (), Pinning.UNKNOWN)
    rec = PerfLiveRecorder(vm)
    text = FIXTURE.read_text()
    reader = asyncio.StreamReader()
    data = text.encode()
    for i in range(0, len(data), 777):
        reader.feed_data(data[i : i + 777])
    reader.feed_eof()
    await rec._read_stderr(reader)
    rec._take(rec._parser.close())
    got = [e for e in _drain(rec) if isinstance(e, Interval)]
    expected = parse_reports(text, source=rec._parser.source)
    assert [i.reports[EventKind.VMEXIT] for i in got] == expected
    assert [i.index for i in got] == [0, 1, 2]
    assert got[1].reports[EventKind.VMEXIT].lost_events == 3
    assert got[1].start == got[0].end and got[2].duration == pytest.approx(1.000058)


def _drain(rec):
    while not rec._queue.empty():
        yield rec._queue.get_nowait()


@needs_qemu[0]
@needs_qemu[1]
@pytest.mark.perf
async def test_real_perf_live_streams_and_quits_on_q(no_new_perf):
    with qemu_guest(smp=1) as guest:
        vm = VmScanner().find(pid=guest.pid)
        rec = PerfLiveRecorder(vm, interval_s=1)
        events = []

        async def run():
            async for ev in rec.events():
                events.append(ev)
                if sum(isinstance(e, Interval) for e in events) == 2:
                    await rec.stop()

        t0 = time.monotonic()
        await asyncio.wait_for(run(), 30)
        stopped_in = time.monotonic() - t0
    end = events[-1]
    assert isinstance(end, RecordingEnded) and end.reason == EndReason.STOPPED and end.ok
    intervals = [e for e in events if isinstance(e, Interval)]
    assert 2 <= len(intervals) <= 3  # two full blocks and perf's last short one after `q`
    for iv in intervals:
        assert iv.reports[EventKind.VMEXIT].scope.pids == (vm.pid,)
    assert intervals[0].end == intervals[1].start
    assert stopped_in < 10  # `q` made it quit; no escalation to signals
    assert rec.info.stopped is not None and rec.info.stopped >= intervals[-1].end - 1
    assert rec.info.pinning_at_end == str(vm.pinning)


@needs_qemu[0]
@needs_qemu[1]
@pytest.mark.perf
async def test_vm_exit_ends_live(no_new_perf):
    with qemu_guest(smp=1) as guest:
        vm = VmScanner().find(pid=guest.pid)
        rec = PerfLiveRecorder(vm)
        events = []

        async def run():
            async for ev in rec.events():
                events.append(ev)
                if isinstance(ev, Interval) and ev.index == 0:
                    guest.kill()

        await asyncio.wait_for(run(), 30)
    assert events[-1].reason == EndReason.VM_EXITED and events[-1].ok
    assert rec.info.stopped is not None and rec.info.pinning_at_end is None  # the VM is gone
