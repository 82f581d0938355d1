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

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vmexit_tui.analysis.model import EventKind, ExitStat
from vmexit_tui.analysis.running import Interval
from vmexit_tui.exporter.store import ALL_VCPUS, Observation, VcpuThread
from vmexit_tui.host.discovery import VmInfo, VmScanner
from vmexit_tui.recording import demo
from vmexit_tui.recording.protocol import Recorder

MODES = ("auto", "kernel", "count", "demo")
HistogramOf = Callable[[ExitStat], Mapping[float, int] | None]

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


def row_histogram(stat: ExitStat) -> Mapping[float, int] | None:
    """The kernel source's histogram of a row (`ExitStat.histogram`), as bound -> count."""
    hist: Any = getattr(stat, "histogram", None)
    if hist is None:
        return None
    if isinstance(hist, Mapping):
        return hist
    buckets = getattr(hist, "buckets", None)
    if isinstance(buckets, Mapping):
        return buckets
    return dict(buckets) if buckets is not None else None


def observations(
    interval: Interval, vm: VmInfo, histogram_of: HistogramOf = row_histogram
) -> list[Observation]:
    """One interval's VM exits as observations: per vCPU when the source splits them."""
    per_vcpu: Mapping[int, Any] | None = getattr(interval, "vcpus", None)
    if per_vcpu:
        reports = [(str(index), report) for index, report in per_vcpu.items()]
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
    """HOOK for the host audit (`vmexit_tui.host.audit`, issue 11): (check, value, usual).

    Empty while that module is not part of this build.
    """
    try:
        from vmexit_tui.host import audit as host_audit  # type: ignore[attr-defined]
    except ImportError:
        return []
    checks = host_audit.audit(vms=tuple(vms))
    return [(c.name, str(c.value), str(c.usual_for_rt)) for c in checks]


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
    try:
        from vmexit_tui.recording import modes  # type: ignore[attr-defined]
    except ImportError:
        raise SourceUnavailable(
            f"source {mode!r} needs the in-kernel recorders (vmexit_tui.recording.modes), "
            "which this build does not have yet; use --source demo"
        ) from None
    why = f"{mode} chosen on the command line"
    if mode == "auto":
        choice = modes.detect()
        if choice.mode not in ("kernel", "count"):
            raise SourceUnavailable(
                f"no always-on source on this host ({choice.why}); the exporter needs "
                "kernel hist triggers or perf counting"
            )
        mode, why = choice.mode, choice.why
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
