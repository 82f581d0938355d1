"""A real recording's manifest holds the RT audit of its guest and the latency summary."""

from __future__ import annotations

import pytest

from tests.qemu_guest import guest_fixture, needs_qemu
from tests.recording.test_perf_record import collect, stop_after
from vmexit_tui.host.discovery import VmScanner
from vmexit_tui.recording.perf_chunks import read_manifest
from vmexit_tui.recording.perf_record import PerfRecorder

pytestmark = [*needs_qemu, pytest.mark.perf]
guest = guest_fixture(smp=1)


async def test_manifest_has_audit_and_latency(guest, tmp_path, no_new_perf):
    vm = VmScanner().find(pid=guest.pid)
    rec = PerfRecorder(vm, tmp_path / "run", interval_s=1)
    summary = {"threads": [{"thread": 0, "max_us": 42}], "spikes": [], "skipped_lines": 0}
    rec.latency_summary = lambda: summary
    await collect(rec, stop_after(1))
    m = read_manifest(tmp_path / "run")
    checks = {c["name"]: c for c in m["audit"]}
    assert set(checks[f"vm.{vm.name}.vcpu0.affinity"]) == {
        "name", "value", "usual_for_rt", "why", "source",
    }  # fmt: skip
    assert "cmdline.isolcpus" in checks and "kvm.halt_poll_ns" in checks
    assert m["latency"] == summary
