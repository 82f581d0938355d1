"""The demo source: simulated VMs and a DemoRecorder drawn from the reference runs."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval, RunAccumulator
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo
from vmexit_tui.recording.demo import (
    REFERENCE_DURATION_S,
    DemoRecorder,
    VirtualClock,
    is_simulated,
    reference_run_of,
    simulated_vms,
)
from vmexit_tui.recording.protocol import RecordingEnded, RecordingState, RecordingStatus
from vmexit_tui.reference import seed_runs


def _vm(run: str) -> VmInfo:
    return next(v for v in simulated_vms() if reference_run_of(v) == run)


async def _collect(recorder: DemoRecorder) -> list:
    return [event async for event in recorder.events()]


def _record(run: str, n: int, *, seed: int = 0, interval_s: float = 1.0) -> list:
    clock = VirtualClock()
    rec = DemoRecorder(
        _vm(run), interval_s=interval_s, seed=seed, clock=clock, sleep=clock.sleep, max_intervals=n
    )
    return asyncio.run(_collect(rec))


def test_simulated_vms_are_labelled_and_cannot_name_a_real_process():
    vms = simulated_vms()
    assert [reference_run_of(v) for v in vms] == list(seed_runs.NAMES)
    for vm in vms:
        assert vm.name.startswith("simulated-")
        assert vm.pid < 0
        assert is_simulated(vm)
        assert vm.pinning is (Pinning.BIND if vm.name.endswith("bind") else Pinning.RAW)


def test_a_real_vm_is_not_simulated():
    real = VmInfo(
        pid=4242, name="web1", vmm="qemu", started=0.0, cpu_percent=None, rss_bytes=1,
        vcpus=(VCpu(0, 4243, (0,)),), pinning=Pinning.BIND,
    )  # fmt: skip
    assert not is_simulated(real)
    with pytest.raises(ValueError, match="not a simulated VM"):
        reference_run_of(real)
    with pytest.raises(ValueError, match="not a simulated VM"):
        DemoRecorder(real)


def test_events_follow_the_recorder_protocol():
    events = _record("gp-rt-bind", 3)
    assert isinstance(events[0], RecordingStatus)
    assert events[0].state is RecordingState.STARTING
    assert isinstance(events[-1], RecordingEnded) and events[-1].ok
    assert sum(isinstance(e, RecordingEnded) for e in events) == 1
    intervals = [e for e in events if isinstance(e, Interval)]
    assert [i.index for i in intervals] == [0, 1, 2]
    # intervals tile the time line: each starts where the previous one ended
    assert all(a.end == b.start for a, b in itertools.pairwise(intervals))
    assert all(i.duration == pytest.approx(1.0) for i in intervals)
    statuses = [e for e in events if isinstance(e, RecordingStatus)]
    assert statuses[-1].state is RecordingState.STOPPED
    recording = [s for s in statuses if s.state is RecordingState.RECORDING]
    assert [s.chunks for s in recording] == [1, 2, 3]
    # the first status says it is simulated; later ones carry no note (notes are for news)
    assert "simulated" in (statuses[0].message or "")
    assert all(s.message is None for s in statuses[1:])
    assert recording[-1].bytes_on_disk > recording[0].bytes_on_disk > 0


def test_same_seed_same_data_other_seed_other_data():
    a = [e for e in _record("gp-gp-raw", 4, seed=7) if isinstance(e, Interval)]
    b = [e for e in _record("gp-gp-raw", 4, seed=7) if isinstance(e, Interval)]
    c = [e for e in _record("gp-gp-raw", 4, seed=8) if isinstance(e, Interval)]
    assert [i.reports for i in a] == [i.reports for i in b]
    assert [i.reports for i in a] != [i.reports for i in c]


@pytest.mark.parametrize("run", seed_runs.NAMES)
def test_rates_and_times_follow_the_reference_run(run):
    n = 120
    acc = RunAccumulator()
    for event in _record(run, n):
        if isinstance(event, Interval):
            acc.add(event)
    ref = seed_runs.load(run)
    total = acc.total(EventKind.VMEXIT)
    for row in ref.rows:
        got = total.row(row.reason)
        expected_rate = row.samples / REFERENCE_DURATION_S
        assert got is not None, row.reason
        # Poisson counts: 120 s of data puts the mean rate within a few standard errors
        se = (expected_rate / n) ** 0.5
        assert abs(got.samples / n - expected_rate) < 5 * se + 0.02 * expected_rate, row.reason
        if row.mean_us is not None:
            assert got.mean_us == pytest.approx(row.mean_us, rel=0.1), row.reason
        if row.min_us is not None:
            assert got.min_us >= row.min_us
        if row.max_us is not None:
            assert got.max_us <= row.max_us
        assert got.min_us <= got.mean_us <= got.max_us


def test_mmio_and_ioport_views_have_data_split_from_their_exit_reasons():
    intervals = [e for e in _record("gp-rt-bind", 30) if isinstance(e, Interval)]
    acc = RunAccumulator()
    for i in intervals:
        acc.add(i)
    mmio = acc.total(EventKind.MMIO)
    io = acc.total(EventKind.IOPORT)
    assert {r.reason for r in mmio.rows} <= {"0xfee00380:W", "0xfebf1000:W", "0xfebd0008:R"}
    assert any(r.endswith(":PIN") for r in io.reasons)
    assert any(r.endswith(":POUT") for r in io.reasons)
    vm = acc.total(EventKind.VMEXIT)
    # the split never invents more exits than its parent reason has, on average
    ratio_io = io.sample_count / vm.row("IO_INSTRUCTION").samples
    ratio_mmio = mmio.sample_count / vm.row("EPT_MISCONFIG").samples
    assert 0.8 < ratio_io < 1.2
    assert 0.8 < ratio_mmio < 1.2


def test_stop_cuts_a_long_wait_short_and_ends_cleanly():
    async def main():
        rec = DemoRecorder(_vm("gp-gp-bind"), interval_s=3600.0)
        events = []

        async def consume():
            async for event in rec.events():
                events.append(event)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        await rec.stop()
        await asyncio.wait_for(task, timeout=5)  # an hour-long tick must not be waited out
        await rec.stop()  # idempotent
        return events

    events = asyncio.run(main())
    assert isinstance(events[-1], RecordingEnded)
    assert events[-2].state is RecordingState.STOPPED
    assert not any(isinstance(e, Interval) for e in events)


def test_recorder_info_is_labelled_simulated():
    rec = DemoRecorder(_vm("gp-rt-raw"), clock=lambda: 123.0)
    assert rec.info.simulated
    assert "simulated" in rec.info.label
    assert rec.info.pinning == "raw"
    assert rec.info.started == 123.0
    with pytest.raises(ValueError, match="interval_s"):
        DemoRecorder(_vm("gp-rt-raw"), interval_s=0)
