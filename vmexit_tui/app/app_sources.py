"""Everything the app is handed from outside: VMs, recorders, problems, folders, clock.

Tests, the demo and real perf all come through this one door (`AppSources`); the app never
decides by itself where data comes from.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vmexit_tui.analysis.model import Report
from vmexit_tui.host.audit import AuditCheck
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.host.preflight import Problem
from vmexit_tui.recording import demo
from vmexit_tui.recording.protocol import Recorder
from vmexit_tui.reference import seed_runs


@dataclass
class AppSources:
    """Where the app's data comes from.

    `scan_vms` runs in a thread every `scan_every_s`; `make_recorder` creates the recording
    of one VM; `problems` are the preflight findings shown with their fixes; `clock` stamps
    markers (wall-clock seconds); `autostart` names a VM to record at once; `demo` builds
    the simulated sources the app offers when nothing real can be recorded.
    """

    scan_vms: Callable[[], Sequence[VmInfo]]
    make_recorder: Callable[[VmInfo], Recorder]
    snapshot_folder: Path
    problems: Sequence[Problem] = ()
    clock: Callable[[], float] = time.time
    simulated: bool = False
    scan_every_s: float = 3.0
    autostart: str | None = None
    reference_runs: Callable[[], Mapping[str, Report]] = seed_runs.load_all
    demo: Callable[[], AppSources] | None = None
    # cyclictest beside the exits (issue 11): a new text source per recording, its label,
    # the spike threshold (None: p99.9 so far), and the RT audit of a recorded guest.
    latency_chunks: Callable[[], AsyncIterator[str]] | None = None
    latency_label: str = ""
    latency_nsecs: bool = False  # cyclictest -N: its text is in ns
    latency_interval_s: float = 1.0
    spike_us: float | None = None
    audit: Callable[[VmInfo], Sequence[AuditCheck]] | None = None


DEMO_AUTOSTART = "simulated-gp-rt-bind"


def demo_sources(
    snapshot_folder: Path,
    *,
    interval_s: float = 1.0,
    seed: int = 0,
    clock: Callable[[], float] = time.time,
    recorder_clock: Callable[[], float] | None = None,
    sleep=None,
    max_intervals: int | None = None,
    autostart: str | None = DEMO_AUTOSTART,
) -> AppSources:
    """Simulated VMs whose recordings are drawn from the reference runs."""
    vms = demo.simulated_vms(started=clock())

    def make(vm: VmInfo) -> Recorder:
        return demo.DemoRecorder(
            vm,
            interval_s=interval_s,
            seed=seed,
            clock=recorder_clock or time.monotonic,
            sleep=sleep,
            max_intervals=max_intervals,
        )

    return AppSources(
        scan_vms=lambda: list(vms),
        make_recorder=make,
        snapshot_folder=snapshot_folder,
        problems=(),
        clock=clock,
        simulated=True,
        scan_every_s=30.0,
        autostart=autostart,
    )
