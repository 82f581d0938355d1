"""A real QEMU guest appears in the exporter's output, is killed, and disappears."""

from __future__ import annotations

import time

from tests.exporter.exporter_thread import exporter_thread
from tests.qemu_guest import needs_qemu, qemu_guest
from vmexit_tui.exporter.sources import SourcePlan, host_isa
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
