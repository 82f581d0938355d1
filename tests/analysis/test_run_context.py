"""Configuration differences, vCPU summaries, latency lines and hints between runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vmexit_tui.analysis.findings import Finding
from vmexit_tui.analysis.latency import LatencySummary
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.run_context import (
    RunContext,
    config_differences,
    hint_for,
    latency_line,
    vcpu_summary,
)
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats.cyclictest import ThreadSummary
from vmexit_tui.formats.snapshots import save_run
from vmexit_tui.host.audit import AuditCheck
from vmexit_tui.reference import seed_runs


def check(name: str, value: str) -> AuditCheck:
    return AuditCheck(name, value, "usual", "why", "/proc/x")


RAW = (
    check("cmdline.isolcpus", "not set"),
    check("kvm.halt_poll_ns", "200000"),
    check("vm.guest-a.vcpu0.affinity", "0-3"),
    check("vm.guest-a.vcpu0.policy", "SCHED_OTHER"),
    check("vm.guest-a.vcpu0.isolated", "no (0-3 not isolated)"),
    check("vm.guest-a.vcpu0.irqs", "2: 24 eth0; 25 ttyS0"),
)
BIND = (
    check("cmdline.isolcpus", "2-3"),
    check("kvm.halt_poll_ns", "200000"),
    check("vm.guest-b.vcpu0.affinity", "2"),
    check("vm.guest-b.vcpu0.policy", "SCHED_FIFO 95"),
    check("vm.guest-b.vcpu0.isolated", "yes (2 isolated)"),
    check("vm.guest-b.vcpu0.irqs", "1: 24 eth0"),
)


def finding(reason: str, metric: str = "share", direction: str = "up") -> Finding:
    return Finding(reason, metric, direction, 1.0, 2.0, 1e-9, False, "", (0, 1), ("RAW", "BIND"))


def test_differences_by_vcpu_whatever_the_guest_name() -> None:
    diffs = config_differences([RunContext("RAW", RAW), RunContext("BIND", BIND)])
    names = [d.name for d in diffs]
    assert names == [
        "cmdline.isolcpus",
        "vm.vcpu0.affinity",
        "vm.vcpu0.policy",
        "vm.vcpu0.isolated",
        "vm.vcpu0.irqs",
    ]
    assert diffs[2].values == ("SCHED_OTHER", "SCHED_FIFO 95")
    assert config_differences([RunContext("RAW", RAW), RunContext("X")]) == []  # one audit only


def test_vcpu_summary() -> None:
    assert vcpu_summary(BIND) == "vCPU threads SCHED_FIFO 95 on CPUs 2, isolated"
    assert vcpu_summary(RAW) == "vCPU threads SCHED_OTHER on CPUs 0-3, not isolated"


def test_hints() -> None:
    hint = hint_for(finding("EXTERNAL_INTERRUPT"), BIND)
    assert hint is not None and "device IRQs" in hint and "1: 24 eth0" in hint
    assert "200000" in (hint_for(finding("HLT", "mean_us"), BIND) or "")
    assert hint_for(finding("HLT", "share"), BIND) is None  # only a longer mean points there
    assert "ple_gap" in (hint_for(finding("pause"), ()) or "")
    assert "timer mode" in (hint_for(finding("PREEMPTION_TIMER"), ()) or "")
    assert hint_for(finding("EXTERNAL_INTERRUPT", direction="down"), BIND) is None
    assert hint_for(finding("MSR_WRITE"), BIND) is None


def test_latency_line() -> None:
    s = LatencySummary((ThreadSummary(0, cycles=10, avg_us=3.25, max_us=90),), p999_us=40,
                       p999_source="histogram")  # fmt: skip
    assert latency_line(s) == "max 90 µs, avg 3.2 µs, p99.9 40 µs (histogram), 0 spikes"
    assert latency_line(None) == "no cyclictest latency recorded"


def test_compare_shows_them_above_the_findings(tmp_path: Path) -> None:
    paths = []
    runs = (("RAW", RAW, "gp-rt-raw", 900), ("BIND", BIND, "gp-rt-bind", 60))
    for label, audit, seed, mx in runs:
        lat = LatencySummary((ThreadSummary(0, cycles=1000, avg_us=5.0, max_us=mx),))
        paths.append(
            save_run(tmp_path / f"{label}.json", RunInfo(label=label),
                     {EventKind.VMEXIT: seed_runs.load(seed)}, latency=lat, audit=audit)
        )  # fmt: skip
    argv = [sys.executable, "-m", "vmexit_tui", "compare", *map(str, paths)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out.index("Host configuration (RT audit):") < out.index("Findings:")
    assert "  BIND: vCPU threads SCHED_FIFO 95 on CPUs 2, isolated" in out
    assert "    vm.vcpu0.policy: RAW SCHED_OTHER; BIND SCHED_FIFO 95" in out
    assert "  RAW: max 900 µs, avg 5.0 µs" in out
    assert out.index("Latency (cyclictest):") < out.index("Findings:")
    assert out.index("Hints (usual configuration causes") > out.index("Findings:")
    doc = json.loads(subprocess.run([*argv, "--format", "json"], capture_output=True, text=True,
                                    check=True).stdout)  # fmt: skip
    ctx = doc["run_context"]
    assert [r["latency_max_us"] for r in ctx["runs"]] == [900, 60]
    assert {"name": "vm.vcpu0.policy", "values": ["SCHED_OTHER", "SCHED_FIFO 95"]} in ctx[
        "config_differences"
    ]
