"""Snapshots of the fleet view with frozen data: three hosts, one of them unreachable.

Review changes by eye: `python -m pytest tests/app/test_fleet_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import threading

import pytest
from prometheus_client import generate_latest

from vmexit_tui.app.fleet_app import FleetApp
from vmexit_tui.exporter.fleet import FleetTracker, HostError
from vmexit_tui.exporter.service import build_registry
from vmexit_tui.exporter.store import MetricStore, Observation
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
GUESTS = {
    "web": (Pinning.RAW, {"HLT": 900, "EXTERNAL_INTERRUPT": 300, "MSR_WRITE": 150}),
    "db": (Pinning.BIND, {"EPT_VIOLATION": 2000, "MSR_WRITE": 700, "HLT": 40}),
    "rt-ctl": (Pinning.BIND, {"PREEMPTION_TIMER": 500, "MSR_WRITE": 480, "IO_INSTRUCTION": 5}),
}


def exposition(names: tuple[str, ...], scale: int) -> str:
    """A real exporter's /metrics (our collector) after `scale` seconds of fixed rates."""
    store = MetricStore("kernel", "frozen")
    for pid, name in enumerate(names, 100):
        pinning, rates = GUESTS[name]
        vm = VmInfo(pid, name, "qemu", 1.0, None, 0, (VCpu(0, pid + 1000, (2,)),), pinning)
        key = store.upsert_vm(vm, "vmx")
        store.add(key, [Observation("0", r, n * scale, n * scale * 2.0) for r, n in rates.items()])
    return generate_latest(build_registry(store)).decode()


def frozen_app() -> FleetApp:
    hosts = {
        "http://kvm-01:9977/metrics": ("web", "db"),
        "http://kvm-02:9977/metrics": ("rt-ctl",),
        "http://kvm-03:9977/metrics": None,  # never answers
    }
    polls: dict[str, int] = {}
    current = threading.local()  # a host's fetch and its time stamp run in one worker thread

    def fetcher(url: str) -> str:
        polls[url] = current.polls = min(polls.get(url, 0) + 1, 2)  # frozen after two polls
        names = hosts[url]
        if names is None:
            raise HostError("unreachable: Connection refused")
        return exposition(names, 10 * current.polls)

    def clock() -> float:  # ten seconds a poll
        return 1_700_000_000.0 + 10 * getattr(current, "polls", 2)

    tracker = FleetTracker(hosts, fetcher=fetcher, clock=clock)
    return FleetApp(tracker, interval_s=3600)  # polled by the test with "p"


def after_polls(*keys: str):
    async def run_before(pilot) -> None:
        table = pilot.app.screen.query_one("#fleet-table")
        for _ in range(100):
            if pilot.app.screen.view is not None and not pilot.app.screen.polling:
                break
            await pilot.pause(0.05)
        await pilot.press("p")  # the second poll: now there are rates
        for _ in range(100):
            if table.row_count == 4 and all(
                table.get_cell(k, "rate").value is not None
                for k in table.rows
                if "kvm-03" not in k.value
            ):
                break
            await pilot.pause(0.05)
        for key in keys:
            await pilot.press(key)
        for _ in range(5):  # the pushed screen's footer draws a few refreshes later
            await pilot.pause(0.05)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_fleet_table(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=after_polls())


@pytest.mark.parametrize("size", SIZES)
def test_fleet_guest_reasons(snap_compare, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=after_polls("enter"))
