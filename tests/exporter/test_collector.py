"""The collector's exposition, read back with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vmexit_tui.exporter.service import build_registry
from vmexit_tui.exporter.store import MetricStore, Observation, VcpuThread
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo


def samples(store: MetricStore) -> list:
    text = generate_latest(build_registry(store)).decode()
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples]


def make_store() -> MetricStore:
    store = MetricStore("demo", "simulated")
    guest = VmInfo(10, "db", "qemu", 5.0, None, 0, (VCpu(0, 11, (3,)),), Pinning.BIND)
    key = store.upsert_vm(guest, "svm", [VcpuThread(0, 11, (3,), "SCHED_FIFO", 50)])
    store.add(key, [Observation("0", "NPF", 6, 60.0, {1.0: 1, 8.0: 5})])
    store.set_host_checks([("isolcpus", "3", "yes")])
    return store


def test_counter_histogram_and_info_metrics():
    got = samples(make_store())
    by = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in got}
    labels = (("isa", "svm"), ("reason", "NPF"), ("vcpu", "0"), ("vm", "db"))
    assert by[("kvm_vmexits_total", labels)] == 6
    hist = (("isa", "svm"), ("reason", "NPF"), ("vm", "db"))  # all vCPUs together
    assert by[("kvm_vmexit_handling_seconds_count", hist)] == 6
    assert by[("kvm_vmexit_handling_seconds_sum", hist)] == 60e-6
    one_us = (hist[0], ("le", "0.000001"), *hist[1:])
    inf = (hist[0], ("le", "+Inf"), *hist[1:])
    assert by[("kvm_vmexit_handling_seconds_bucket", one_us)] == 1
    assert by[("kvm_vmexit_handling_seconds_bucket", inf)] == 6
    info = [s for s in got if s.name == "kvm_vm_info"]
    assert [s.labels for s in info] == [{"vm": "db", "pid": "10", "vmm": "qemu", "pinning": "bind"}]
    vcpu = next(s for s in got if s.name == "kvm_vcpu_info")
    assert vcpu.labels == {
        "vm": "db",
        "vcpu": "0",
        "tid": "11",
        "cpus": "3",
        "policy": "SCHED_FIFO",
    }
    assert next(s for s in got if s.name == "kvm_vcpu_rt_priority").value == 50
    check = next(s for s in got if s.name == "kvm_host_rt_check_info")
    assert check.labels == {"check": "isolcpus", "value": "3", "usual_for_rt": "yes"}
    assert next(s for s in got if s.name == "vmexit_tui_source_info").labels["mode"] == "demo"


def test_le_bounds_are_plain_decimals_in_seconds():
    text = generate_latest(build_registry(make_store())).decode()
    assert 'le="0.000008"' in text and "e-0" not in text.split("kvm_vmexit_handling")[1][:2000]


def test_a_failing_snapshot_is_a_scrape_error_not_a_dead_exporter():
    store = make_store()

    def broken():
        raise RuntimeError("boom")

    store.snapshot = broken  # type: ignore[method-assign]
    registry = build_registry(store)
    first = generate_latest(registry).decode()
    second = generate_latest(registry).decode()
    assert "kvm_vmexits_total" not in first
    assert "vmexit_tui_scrape_errors_total 1.0" in first
    assert "vmexit_tui_scrape_errors_total 2.0" in second
