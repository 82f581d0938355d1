"""Guests come and go while the exporter runs: a real QEMU guest appears, is killed, disappears."""

from __future__ import annotations

import asyncio

from vmexit_tui.exporter.sources import SourcePlan, plan
from vmexit_tui.exporter.store import MetricStore
from vmexit_tui.exporter.supervisor import Supervisor
from vmexit_tui.host.discovery import Pinning, VmInfo
from vmexit_tui.recording import demo
from vmexit_tui.recording.protocol import EndReason, RecordingEnded


async def test_demo_guests_keep_growing_counters_and_stop_cleanly():
    source = plan("demo", interval_s=0.05)
    store = MetricStore(source.mode, source.why)
    stop = asyncio.Event()
    sup = Supervisor(store, source, rescan_s=0.05)
    task = asyncio.create_task(sup.run(stop))
    seen: list[int] = []
    for _ in range(40):
        await asyncio.sleep(0.05)
        snap = store.snapshot()
        seen.append(sum(s.count for v in snap.vms for s in v.series))
    stop.set()
    await asyncio.wait_for(task, 15)
    assert len(store.keys()) == len(demo.simulated_vms())
    assert seen == sorted(seen) and seen[-1] > 0
    assert not sup._tasks and not sup._recorders  # every recording drained and ended


async def test_a_guest_that_leaves_discovery_is_dropped_and_its_recorder_stopped():
    source = plan("demo", interval_s=0.05)
    vms = demo.simulated_vms()
    present = list(vms)
    gone = SourcePlan(
        source.mode,
        source.why,
        lambda: list(present),
        source.make_recorder,
        source.histogram_of,
        source.isa,
    )
    store = MetricStore("demo")
    stop = asyncio.Event()
    sup = Supervisor(store, gone, rescan_s=0.05)
    task = asyncio.create_task(sup.run(stop))
    await asyncio.sleep(0.5)
    assert len(store.keys()) == 4
    present.pop(0)
    await asyncio.sleep(0.5)
    labels = [v.label for v in store.snapshot().vms]
    assert vms[0].name not in labels and len(labels) == 3
    assert store.snapshot().health.vms_lost == 1
    assert len(sup._recorders) == 3
    stop.set()
    await asyncio.wait_for(task, 15)


async def test_a_recorder_that_fails_is_a_source_error_and_is_retried_later():
    vms = demo.simulated_vms()[:1]
    made = []

    def failing(vm):
        made.append(vm)
        raise OSError("tracefs is not mounted")

    broken = SourcePlan("kernel", "test", lambda: list(vms), failing, lambda s: None, "svm")
    for retry_s, wanted in ((3600.0, 1), (0.0, 3)):
        made.clear()
        store = MetricStore("kernel")
        stop = asyncio.Event()
        sup = Supervisor(store, broken, rescan_s=0.01, retry_s=retry_s)
        task = asyncio.create_task(sup.run(stop))
        rescans = 0
        real = sup.rescan

        async def counted(real=real):
            nonlocal rescans
            rescans += 1
            await real()

        sup.rescan = counted  # type: ignore[method-assign]
        while rescans < 6 or len(made) < wanted:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 15)
        health = store.snapshot().health
        assert "tracefs is not mounted" in (health.last_error or "")
        assert health.source_errors == len(made)
        if retry_s > 100:
            assert len(made) == 1  # six rescans, one attempt: retried only after retry_s


async def test_only_the_guests_named_with_vm_are_exported():
    source = plan("demo", interval_s=0.05)
    store = MetricStore("demo")
    stop = asyncio.Event()
    task = asyncio.create_task(
        Supervisor(store, source, names=["simulated-gp-rt-bind"], rescan_s=0.05).run(stop)
    )
    while not any(v.series for v in store.snapshot().vms):
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 15)
    assert [v.label for v in store.snapshot().vms] == ["simulated-gp-rt-bind"]


async def test_a_recording_that_ends_with_its_guest_is_no_source_error():
    vms = demo.simulated_vms()[:1]
    gone = VmInfo(2**22 + 7, "gone", "qemu", 1.0, None, 0, (), Pinning.UNKNOWN)  # no such pid

    class EndsWithGuest:
        info = None

        async def events(self):
            yield RecordingEnded(EndReason.PERF_FAILED, "perf died with the guest")

        async def stop(self):
            return None

    present = [gone, *vms]
    source = plan("demo", interval_s=0.05)
    plan_ = SourcePlan("kernel", "test", lambda: list(present),
                       lambda vm: EndsWithGuest() if vm is gone else source.make_recorder(vm),
                       lambda s: None, "svm")  # fmt: skip
    store = MetricStore("kernel")
    stop = asyncio.Event()
    sup = Supervisor(store, plan_, rescan_s=0.05)
    task = asyncio.create_task(sup.run(stop))
    await asyncio.sleep(0.3)
    present.remove(gone)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 15)
    health = store.snapshot().health
    assert health.source_errors == 0 and health.vms_lost == 1
