"""PerfRecorder with the real perf against a real QEMU guest: chunks, manifest and faults."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import stat
import subprocess

import pytest

from tests.qemu_guest import guest_fixture, needs_qemu, perf_pids, qemu_guest
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.perf_parser import parse_reports
from vmexit_tui.host import lifecycle
from vmexit_tui.host.discovery import VmScanner
from vmexit_tui.recording.perf_argv import report_argv
from vmexit_tui.recording.perf_chunks import chunk_time, read_manifest
from vmexit_tui.recording.perf_record import NO_VM_EXITS, PerfRecorder
from vmexit_tui.recording.protocol import EndReason, RecordingEnded, RecordingStatus

pytestmark = [*needs_qemu, pytest.mark.perf]


guest = guest_fixture(smp=2, accel="kvm")


async def collect(rec, on_interval=None, limit_s=30.0):
    """All events of a recording; `on_interval(rec, interval, n)` may act on each interval."""
    events = []

    async def run():
        n = 0
        async for ev in rec.events():
            events.append(ev)
            if isinstance(ev, Interval):
                n += 1
                if on_interval is not None:
                    await on_interval(rec, ev, n)

    await asyncio.wait_for(run(), limit_s)
    return events


def stop_after(count):
    async def act(rec, interval, n):
        if n >= count:
            await rec.stop()

    return act


def readable(chunk):
    done = subprocess.run(report_argv(chunk), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return parse_reports(done.stderr + done.stdout, source=str(chunk))[0]


async def test_records_chunks_reports_each_once_and_writes_the_manifest(
    guest, tmp_path, no_new_perf
):
    vm = VmScanner().find(pid=guest.pid)
    out = tmp_path / "root" / "run"
    rec = PerfRecorder(vm, out, interval_s=1)
    events = await collect(rec, stop_after(2))
    end = events[-1]
    assert isinstance(end, RecordingEnded) and end.ok and end.reason == EndReason.STOPPED
    assert sum(isinstance(e, RecordingEnded) for e in events) == 1
    intervals = [e for e in events if isinstance(e, Interval)]
    chunks = sorted(out.glob("perf.data.*"))
    assert len(intervals) == len(chunks) >= 3  # two, plus the one finished at stop
    assert [i.index for i in intervals] == list(range(len(chunks)))
    for a, b in itertools.pairwise(intervals):
        assert a.end == b.start  # contiguous: every moment in exactly one interval
    for interval, chunk in zip(intervals, chunks, strict=True):
        assert interval.end == chunk_time(chunk.name)
        report = readable(chunk)
        assert report.scope.pids in ((), (vm.pid,))
        assert interval.reports[EventKind.VMEXIT].sample_count == report.sample_count
        assert stat.S_IMODE(chunk.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    m = read_manifest(out)
    assert (m["vm_name"], m["vm_pid"], m["end_reason"], m["ok"]) == (
        vm.name,
        vm.pid,
        "stopped",
        True,
    )
    assert m["pinning_at_start"] == str(vm.pinning) and m["pinning_at_end"] == str(vm.pinning)
    assert [c["file"] for c in m["chunks"]] == [c.name for c in chunks]
    assert [c["bytes"] for c in m["chunks"]] == [c.stat().st_size for c in chunks]
    assert m["argv"][:4] == ["perf", "kvm", "stat", "record"] and m["events"] == ["vmexit"]
    assert m["started"] < m["stopped"] and m["started_iso"] and m["stopped_iso"]
    assert m["perf_version"] and m["unfinished_chunk"] is None
    assert not list((tmp_path / "root").glob(".vmexit-tui-*.lock"))  # lock released
    # On a host whose KVM never reports exits (nested, like this one) the status says so.
    messages = {e.message for e in events if isinstance(e, RecordingStatus) and e.message}
    if all(i.reports[EventKind.VMEXIT].sample_count == 0 for i in intervals):
        prefix = NO_VM_EXITS.split("{")[0]
        assert any(msg.startswith(prefix) for msg in messages), messages


async def test_vm_exit_ends_the_recording_and_keeps_the_data(tmp_path, no_new_perf):
    with qemu_guest(smp=1) as proc:
        vm = VmScanner().find(pid=proc.pid)

        async def kill_vm(rec, interval, n):
            if n == 1:
                proc.kill()

        events = await collect(PerfRecorder(vm, tmp_path / "run"), kill_vm)
    end = events[-1]
    assert end.reason == EndReason.VM_EXITED and end.ok and "exited" in end.detail
    chunks = sorted((tmp_path / "run").glob("perf.data.*"))
    assert chunks and all(readable(c) for c in chunks)
    m = read_manifest(tmp_path / "run")
    assert m["end_reason"] == "vm-exited" and m["pinning_at_end"] is None


async def test_perf_killed_is_reported_and_chunks_are_kept(guest, tmp_path, no_new_perf):
    vm = VmScanner().find(pid=guest.pid)
    rec = PerfRecorder(vm, tmp_path / "run")

    async def kill_perf(rec, interval, n):
        if n == 1:
            (ref,) = [c for c in lifecycle.REGISTRY.children if c.argv[3] == "record"]
            os.kill(ref.pid, signal.SIGKILL)

    events = await collect(rec, kill_perf)
    end = events[-1]
    assert end.reason == EndReason.PERF_FAILED and not end.ok
    assert "perf was killed by SIGKILL" in end.detail
    chunks = sorted((tmp_path / "run").glob("perf.data.*"))
    assert chunks and all(readable(c) for c in chunks)
    m = read_manifest(tmp_path / "run")
    assert m["end_reason"] == "perf-failed" and len(m["chunks"]) == len(chunks)


async def test_perf_failing_shows_its_stderr(guest, tmp_path, no_new_perf):
    """Remove the folder under perf: its next switch fails and perf exits with a message."""
    vm = VmScanner().find(pid=guest.pid)
    out = tmp_path / "run"

    async def pull_the_folder(rec, interval, n):
        if n == 1:
            shutil.rmtree(out)

    events = await collect(PerfRecorder(vm, out), pull_the_folder)
    end = events[-1]
    assert end.reason == EndReason.PERF_FAILED and not end.ok
    assert "perf exited with status" in end.detail, end.detail
    assert "Failed to" in end.detail or "failed to" in end.detail, end.detail
    assert "manifest.json not written" in end.detail


async def test_disk_nearly_full_stops_and_says_so(guest, tmp_path, no_new_perf):
    vm = VmScanner().find(pid=guest.pid)
    rec = PerfRecorder(vm, tmp_path / "run")

    async def fill(rec, interval, n):
        if n == 1:
            rec.min_free_fraction = 1.01  # no filesystem has that much free: "full"

    events = await collect(rec, fill)
    end = events[-1]
    assert end.reason == EndReason.DISK_FULL and end.ok
    assert "free on the filesystem" in end.detail and "before the last 101%" in end.detail
    intervals = [e for e in events if isinstance(e, Interval)]
    assert 2 <= len(intervals) <= 3  # the chunk that tripped it, and the one perf finished


async def test_a_second_recording_of_the_same_vm_is_refused(guest, tmp_path, no_new_perf):
    vm = VmScanner().find(pid=guest.pid)
    second_end = []

    async def second(rec, interval, n):
        if n == 1:
            before = perf_pids()
            other = PerfRecorder(vm, tmp_path / "other")
            second_end.extend(await collect(other))
            assert perf_pids() <= before  # the refused one started no perf
            await rec.stop()

    await collect(PerfRecorder(vm, tmp_path / "first"), second)
    end = second_end[-1]
    assert end.reason == EndReason.ALREADY_RECORDING and not end.ok
    assert f"VM pid {vm.pid} is already being recorded" in end.detail
    assert not (tmp_path / "other").exists() or not list((tmp_path / "other").glob("perf.data*"))
    # released on stop: a new recording may start
    again = await collect(PerfRecorder(vm, tmp_path / "third"), stop_after(1))
    assert again[-1].reason == EndReason.STOPPED, again[-1]


async def test_abandoning_the_event_stream_stops_perf(guest, tmp_path, no_new_perf):
    vm = VmScanner().find(pid=guest.pid)
    rec = PerfRecorder(vm, tmp_path / "run")
    agen = rec.events()
    async for ev in agen:
        if isinstance(ev, Interval):
            break
    await agen.aclose()
    m = read_manifest(tmp_path / "run")
    assert m["end_reason"] == "stopped" and m["chunks"]


def test_an_emulated_guest_is_never_recorded(tmp_path, no_new_perf):
    with qemu_guest(smp=1, accel="tcg") as tcg:
        vm = VmScanner().find(pid=tcg.pid)
        assert not vm.kvm
        rec = PerfRecorder(vm, tmp_path / "run", interval_s=1)
        events = asyncio.run(collect(rec))
    ended = events[-1]
    assert isinstance(ended, RecordingEnded) and not ended.ok
    assert ended.reason == str(EndReason.NOT_STARTED)
    assert f"(pid {tcg.pid}) is not a KVM guest" in (ended.detail or "")
    assert not list((tmp_path / "run").glob("perf.data*"))


async def test_chunks_keep_coming_when_perf_starts_slower_than_one_interval(
    guest, tmp_path, no_new_perf
):
    """perf's own `--switch-output=1s` timer fires once, before perf can rotate, and is lost
    when its setup outlasts the interval (seen on a loaded host: one ever-growing perf.data).
    Here perf is held stopped for longer than an interval as soon as it is spawned."""
    vm = VmScanner().find(pid=guest.pid)
    out = tmp_path / "run"
    rec = PerfRecorder(vm, out, interval_s=1)
    real_spawn = lifecycle.spawn

    async def slow_start(argv, *args, **kwargs):
        proc = await real_spawn(argv, *args, **kwargs)
        if "record" not in argv:  # the chunks' short `stat report` runs may be gone already
            return proc
        os.kill(proc.pid, signal.SIGSTOP)
        await asyncio.sleep(2.5)
        os.kill(proc.pid, signal.SIGCONT)
        return proc

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lifecycle, "spawn", slow_start)
        events = await collect(rec, stop_after(3), limit_s=60)
    assert isinstance(events[-1], RecordingEnded) and events[-1].ok
    assert len([e for e in events if isinstance(e, Interval)]) >= 3
    assert len(list(out.glob("perf.data.*"))) >= 3
