"""MetricStore: counters only grow per guest process, gone guests disappear."""

from __future__ import annotations

from vmexit_tui.exporter.store import MetricStore, Observation, VmKey
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo


def vm(pid: int = 100, name: str = "web", started: float = 1000.0) -> VmInfo:
    return VmInfo(pid, name, "qemu", started, None, 0, (VCpu(0, pid + 1, (2,)),), Pinning.BIND)


def test_counts_add_up_per_vcpu_and_reason_and_histograms_accumulate():
    store = MetricStore("demo")
    key = store.upsert_vm(vm(), "svm")
    store.add(key, [Observation("0", "HLT", 3, 30.0, {4.0: 1, 16.0: 2})])
    store.add(key, [Observation("0", "HLT", 2, 10.0, {4.0: 2}), Observation("1", "HLT", 5)])
    (view,) = store.snapshot().vms
    by = {(s.vcpu, s.reason): s.count for s in view.series}
    assert by == {("0", "HLT"): 5, ("1", "HLT"): 5}
    (hlt,) = view.histograms  # one per reason, all vCPUs; only exits with a histogram in it
    assert hlt.reason == "HLT" and hlt.count == 5
    assert hlt.cumulative == ((4e-6, 3), (16e-6, 5))
    assert hlt.time_s == 40e-6
    assert store.total(key) == {"HLT": 10}


def test_refreshing_a_vm_keeps_its_counters_and_a_new_pid_starts_from_zero():
    store = MetricStore("demo")
    key = store.upsert_vm(vm(), "svm")
    store.add(key, [Observation("0", "HLT", 7)])
    assert store.upsert_vm(vm(), "svm") == key  # the same process seen again
    assert store.total(key) == {"HLT": 7}
    assert store.drop(key)
    new = store.upsert_vm(vm(pid=200, started=2000.0), "svm")
    assert store.total(new) == {}
    store.add(key, [Observation("0", "HLT", 1)])  # a late interval of the dead guest
    assert store.keys() == {new}
    assert store.snapshot().health.vms_lost == 1


def test_same_pid_new_start_time_is_a_new_guest():
    assert VmKey.of(vm(started=1000.0)) != VmKey.of(vm(started=1005.0))


def test_two_guests_with_one_name_get_distinct_labels():
    store = MetricStore("demo")
    store.upsert_vm(vm(pid=1), "svm")
    store.upsert_vm(vm(pid=2), "svm")
    assert [v.label for v in store.snapshot().vms] == ["web", "web#2"]
