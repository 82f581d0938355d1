"""The Prometheus view of a `MetricStore`: a prometheus_client custom collector.

Metric names and labels (the Grafana dashboard and the fleet view read these):

- `kvm_vmexits_total{vm, vcpu, reason, isa}`: counter of VM exits.
- `kvm_vmexit_handling_seconds{vm, reason, isa}`: histogram of the time KVM took to handle
  an exit, from the kernel's log2 buckets (`le` = bucket upper bound in seconds), all vCPUs
  of a guest together (per vCPU it would be most of a scrape's cost). Its `_count` equals
  the counter summed over vCPUs wherever the source delivers histograms.
- `kvm_vm_info{vm, pid, vmm, pinning}` = 1 per running guest.
- `kvm_vcpu_info{vm, vcpu, tid, cpus, policy}` = 1, `kvm_vcpu_allowed_cpus{vm, vcpu}`,
  `kvm_vcpu_rt_priority{vm, vcpu}` per vCPU thread.
- `kvm_host_rt_check_info{check, value, usual_for_rt}` = 1 per host audit check.
- `vmexit_tui_source_info{mode, why}` = 1, `vmexit_tui_vms`, `vmexit_tui_vms_lost_total`,
  `vmexit_tui_source_errors_total`, `vmexit_tui_scrape_errors_total`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from vmexit_tui.exporter.store import MetricStore, Snapshot, VmView
from vmexit_tui.host.discovery import cpu_ranges

SERIES_LABELS = ("vm", "vcpu", "reason", "isa")
HISTOGRAM_LABELS = ("vm", "reason", "isa")  # all vCPUs of a guest together


@functools.lru_cache(maxsize=1024)
def _le(seconds: float) -> str:
    """A bucket bound as Prometheus prints it (`0.000016`, not `1.6e-05`)."""
    return f"{seconds:.9f}".rstrip("0").rstrip(".") or "0"


class VmExitCollector(Collector):
    """Builds every metric from one `MetricStore.snapshot()` per scrape."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store
        self.scrape_errors = 0

    def describe(self) -> list[Metric]:
        return []  # metrics are only known at scrape time: skip the registry's probe call

    def collect(self) -> Iterator[Metric]:
        try:
            snap = self.store.snapshot()
            families = self._families(snap)
        except Exception as exc:  # one bad scrape must not stop the exporter
            self.scrape_errors += 1
            self.store.source_failed(f"scrape: {type(exc).__name__}: {exc}")
            families = []
            snap = None
        yield from families
        yield from self._health(snap)

    def _families(self, snap: Snapshot) -> list[Metric]:
        exits = CounterMetricFamily(
            "kvm_vmexits", "VM exits per reason and vCPU", labels=SERIES_LABELS
        )
        handling = HistogramMetricFamily(
            "kvm_vmexit_handling_seconds",
            "Time KVM took to handle one VM exit (log2 buckets of the kernel)",
            labels=HISTOGRAM_LABELS,
        )
        vm_info = InfoMetricFamily(
            "kvm_vm", "A running KVM guest", labels=("vm", "pid", "vmm", "pinning")
        )
        vcpu_info = InfoMetricFamily(
            "kvm_vcpu",
            "A vCPU thread: allowed host CPUs and scheduling policy",
            labels=("vm", "vcpu", "tid", "cpus", "policy"),
        )
        allowed = GaugeMetricFamily(
            "kvm_vcpu_allowed_cpus",
            "Host CPUs a vCPU thread may run on",
            labels=("vm", "vcpu"),
        )
        prio = GaugeMetricFamily(
            "kvm_vcpu_rt_priority",
            "Real-time priority of a vCPU thread (0: not RT)",
            labels=("vm", "vcpu"),
        )
        for vm in snap.vms:
            vm_info.add_metric([vm.label, str(vm.pid), vm.vmm, vm.pinning], {})
            for t in vm.threads:
                vcpu = str(t.index)
                vcpu_info.add_metric([vm.label, vcpu, str(t.tid), cpu_ranges(t.cpus), t.policy], {})
                allowed.add_metric([vm.label, vcpu], len(t.cpus))
                prio.add_metric([vm.label, vcpu], t.rt_priority)
            _add_series(exits, vm)
            _add_histograms(handling, vm)
        host = InfoMetricFamily(
            "kvm_host_rt_check",
            "One check of the host's real-time configuration (audit)",
            labels=("check", "value", "usual_for_rt"),
        )
        for check, value, usual in snap.host_checks:
            host.add_metric([check, value, usual], {})
        return [exits, handling, vm_info, vcpu_info, allowed, prio, host]

    def _health(self, snap: Snapshot | None) -> list[Metric]:
        out: list[Metric] = []
        if snap is not None:
            h = snap.health
            source = InfoMetricFamily(
                "vmexit_tui_source", "Where the exit counts come from", labels=("mode", "why")
            )
            source.add_metric([h.mode, h.why], {})
            out.append(source)
            out.append(GaugeMetricFamily("vmexit_tui_vms", "Guests exported", len(snap.vms)))
            out.append(
                CounterMetricFamily(
                    "vmexit_tui_vms_lost", "Guests dropped because their process ended", h.vms_lost
                )
            )
            out.append(
                CounterMetricFamily(
                    "vmexit_tui_source_errors",
                    "Recordings that failed or ended unexpectedly",
                    h.source_errors,
                )
            )
        out.append(
            CounterMetricFamily(
                "vmexit_tui_scrape_errors", "Scrapes that could not be built", self.scrape_errors
            )
        )
        return out


# The two hot loops (thousands of samples per scrape) append prometheus_client `Sample`s
# directly: what `add_metric` builds, without its per-call label zipping and checks (our
# label names are fixed and valid). bench/bench_exporter.py measures the difference.
def _add_series(family: Metric, vm: VmView) -> None:
    name, samples, label, isa = "kvm_vmexits_total", family.samples, vm.label, vm.isa
    for s in vm.series:
        labels = {"vm": label, "vcpu": s.vcpu, "reason": s.reason, "isa": isa}
        samples.append(Sample(name, labels, float(s.count)))


def _add_histograms(family: Metric, vm: VmView) -> None:
    samples, label, isa = family.samples, vm.label, vm.isa
    bucket, count, total = (f"kvm_vmexit_handling_seconds_{x}" for x in ("bucket", "count", "sum"))
    for h in vm.histograms:
        base = {"vm": label, "reason": h.reason, "isa": isa}
        for bound, n in h.cumulative:
            samples.append(Sample(bucket, {**base, "le": _le(bound)}, float(n)))
        samples.append(Sample(bucket, {**base, "le": "+Inf"}, float(h.count)))
        samples.append(Sample(count, base, float(h.count)))
        samples.append(Sample(total, base, h.time_s))
