"""Where the exporter's numbers come from: which VMs, which recorder, which histograms.

A `SourcePlan` bundles the three things the supervisor needs for a mode: how to find the
guests, how to record one (any `Recorder`, see `vmexit_tui.recording.protocol`), and how to
read a row's log2 time histogram. `observations` turns one recorded `Interval` into the
per-vCPU, per-reason `Observation`s the store counts.

- `demo`: the simulated VMs of the built-in demo; their rows get log2 histograms from
  `recording.demo.simulated_histogram`.
- `kernel` / `count` / `auto`: real guests found with psutil, recorded by the in-kernel
  sources of `vmexit_tui.recording.modes` (tracefs hist triggers, or perf counting).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from vmexit_tui.analysis.model import EventKind, ExitStat
from vmexit_tui.analysis.running import Interval
from vmexit_tui.exporter.store import ALL_VCPUS, Observation, VcpuThread
from vmexit_tui.host.audit import audit
from vmexit_tui.host.discovery import VmInfo, VmScanner
from vmexit_tui.recording import demo
from vmexit_tui.recording.protocol import Recorder

MODES = ("auto", "kernel", "count", "demo")
_RECORDER_MODULES = {
    "kernel": "vmexit_tui.recording.kernel_hist",
    "count": "vmexit_tui.recording.perf_count",
}
HistogramOf = Callable[[ExitStat], Mapping[float, int] | Sequence[tuple[float, int]] | None]

_POLICIES = {
    getattr(os, name): name
    for name in ("SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE")
    if hasattr(os, name)
}


class SourceUnavailable(RuntimeError):
    """The chosen source cannot run on this host; the message says why."""


@dataclass(frozen=True, slots=True)
class SourcePlan:
    mode: str
    why: str
    discover: Callable[[], list[VmInfo]]
    make_recorder: Callable[[VmInfo], Recorder] | None
    histogram_of: HistogramOf
    isa: str


def row_histogram(stat: ExitStat) -> Sequence[tuple[float, int]] | None:
    """The kernel source's log2 histogram of a row (`ExitStat.histogram`): (µs bound, count)."""
    return None if stat.histogram is None else stat.histogram.buckets


def observations(
    interval: Interval, vm: VmInfo, histogram_of: HistogramOf = row_histogram
) -> list[Observation]:
    """One interval's VM exits as observations: per vCPU when the source splits them."""
    if interval.vcpus:
        reports = [(str(index), report) for index, report in interval.vcpus.items()]
    else:
        report = interval.reports.get(EventKind.VMEXIT)
        if report is None:
            return []
        # A guest with a single vCPU: its exits are that vCPU's, whatever the source.
        label = str(vm.vcpus[0].index) if len(vm.vcpus) == 1 else ALL_VCPUS
        reports = [(label, report)]
    out = []
    for vcpu, report in reports:
        for row in report.rows:
            if row.samples > 0:
                out.append(
                    Observation(vcpu, row.reason, row.samples, row.total_us, histogram_of(row))
                )
    return out


def vcpu_threads(vm: VmInfo) -> tuple[VcpuThread, ...]:
    """The vCPU threads of a guest with their scheduling policy and RT priority."""
    out = []
    for v in vm.vcpus:
        policy, prio = "unknown", 0
        if v.tid > 0:
            try:
                policy = _POLICIES.get(os.sched_getscheduler(v.tid), "unknown")
                prio = os.sched_getparam(v.tid).sched_priority
            except OSError:
                pass
        out.append(VcpuThread(v.index, v.tid, v.cpus, policy, prio))
    return tuple(out)


def host_isa() -> str:
    """`svm` (AMD) or `vmx` (Intel) from the loaded KVM module, else `unknown`."""
    if os.path.isdir("/sys/module/kvm_amd"):
        return "svm"
    if os.path.isdir("/sys/module/kvm_intel"):
        return "vmx"
    return "unknown"


def host_rt_checks(vms: list[VmInfo]) -> list[tuple[str, str, str]]:
    """The host's RT configuration (`host.audit`) as (check, value, usual for RT).

    Host-wide checks only: the per-vCPU ones would repeat `kvm_vcpu_info` once per guest.
    """
    return [(c.name, c.value, c.usual_for_rt) for c in audit()]


def plan(mode: str, *, interval_s: float = 1.0, seed: int = 0) -> SourcePlan:
    """The source for `mode`; `SourceUnavailable` when it cannot run here."""
    if mode not in MODES:
        raise SourceUnavailable(f"unknown source {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "demo":
        vms = demo.simulated_vms()

        def make_demo(vm: VmInfo) -> Recorder:
            return demo.DemoRecorder(vm, interval_s=interval_s, seed=seed)

        return SourcePlan(
            mode="demo",
            why="simulated VMs drawn from the built-in reference runs",
            discover=lambda: list(vms),
            make_recorder=make_demo,
            histogram_of=lambda stat: row_histogram(stat) or demo.simulated_histogram(stat),
            isa="vmx",  # the reference runs were recorded on Intel: VMX reason names
        )
    from vmexit_tui.recording import modes

    try:
        choice = modes.choose(mode)
    except modes.ModeUnavailable as exc:
        raise SourceUnavailable(str(exc)) from None
    if choice.mode is modes.Mode.PERF:
        raise SourceUnavailable(
            f"no always-on source on this host ({choice.why}); the exporter needs kernel "
            "hist triggers or perf counting (perf record is no always-on source)"
        )
    module = _RECORDER_MODULES[choice.mode.value]
    try:
        importlib.import_module(module)
    except ImportError:
        raise SourceUnavailable(
            f"source {choice.mode.value!r} needs {module}, which this build does not have yet"
        ) from None
    mode, why = choice.mode.value, choice.why
    scanner = VmScanner()
    chosen = mode

    def make_real(vm: VmInfo) -> Recorder:
        return modes.make_recorder(chosen, vm, interval_s=interval_s)

    return SourcePlan(
        mode=chosen,
        why=why,
        discover=scanner.scan,
        make_recorder=make_real,
        histogram_of=row_histogram,
        isa=host_isa(),
    )
