"""A real QEMU guest appears in the exporter's output, is killed, and disappears."""

from __future__ import annotations

import time

import pytest

from tests.exporter.exporter_thread import exporter_thread
from tests.qemu_guest import needs_qemu, perf_pids, qemu_guest
from vmexit_tui.exporter.sources import SourcePlan, SourceUnavailable, host_isa, plan
from vmexit_tui.host.discovery import VmScanner

pytestmark = needs_qemu


def metrics_when(exp, predicate, what: str, timeout: float = 20.0) -> str:
    """The exporter's /metrics once `predicate(text)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = exp.metrics()
        if predicate(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_guest_disappears_and_counts_as_lost():
    name = f"exp-test-{time.time_ns()}"
    # This host's KVM never fires kvm_exit: no exit source works here (the lab has them),
    # so the guest is followed by discovery alone: info, vCPU threads, pinning.
    scanner = VmScanner()
    presence = SourcePlan("discovery", "test", scanner.scan, None, lambda s: None, host_isa())
    with exporter_thread(presence, names=[name]) as exp, qemu_guest(name, smp=2) as guest:
        argv = guest.cmdline()
        # qemu names its vCPU threads a moment after it starts: wait for both
        text = metrics_when(
            exp, lambda t: name in t and t.count("kvm_vcpu_info{") >= 2, "the guest's vCPUs"
        )
        assert f'pid="{guest.pid}"' in text
        vcpus = [line for line in text.splitlines() if line.startswith("kvm_vcpu_info{")]
        assert len(vcpus) == 2 and all("policy=" in v and "cpus=" in v for v in vcpus)
        # never a command line: no path or option value of it shows up (plain words such as
        # "none" can be label values of their own)
        for arg in argv:
            if name not in arg and any(c in arg for c in "/=,.:"):
                assert arg not in text, f"command-line argument {arg!r} exported"
        guest.kill()
        text = metrics_when(exp, lambda t: name not in t, "the guest gone")
        assert "vmexit_tui_vms_lost_total 1.0" in text
        assert "vmexit_tui_vms 0.0" in text


def test_count_source_follows_a_real_guest_and_leaves_no_perf(no_new_perf):
    pytest.importorskip(
        "vmexit_tui.recording.perf_count", reason="the count source is not in this build yet"
    )
    try:
        source = plan("count", interval_s=1)  # perf stat counts whole seconds
    except SourceUnavailable as exc:
        pytest.skip(f"perf counting cannot run here: {exc}")
    name = f"exp-count-{time.time_ns()}"
    before = perf_pids()
    with exporter_thread(source, names=[name]) as exp, qemu_guest(name, smp=2):
        text = metrics_when(exp, lambda t: name in t, "the guest")
        assert 'vmexit_tui_source_info{mode="count"' in text
        # its recording runs: a perf counting process of ours (this host's KVM may never
        # fire kvm_exit, so the counts themselves are not checked here: the lab does that)
        deadline = time.monotonic() + 20
        while not perf_pids() - before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert perf_pids() - before, "no perf process counts the guest"
    # the guest gone and the exporter stopped: `no_new_perf` checks nothing is left running
