"""The RT audit: a fake root of real-format files, an empty root, this machine, a real guest."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.qemu_guest import needs_qemu, qemu_guest, vcpu_tids
from vmexit_tui.host.audit import UNKNOWN, AuditCheck, audit, checks_by_name, parse_cpu_list
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo, VmScanner

# Real formats: /proc/cmdline of an RT host (Red Hat RT-KVM guide), proc(5) stat and status.
RT_CMDLINE = (
    "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.1.0-27-rt-amd64 root=UUID=1b2c ro quiet "
    "isolcpus=managed_irq,domain,2-3 nohz_full=2-3 rcu_nocbs=2-3 irqaffinity=0-1 "
    "idle=poll intel_pstate=disable skew_tick=1 tsc=reliable\n"
)
STAT_FIFO = (
    "4242 (CPU 0/KVM) S 4100 4100 4100 0 -1 4194624 3167 0 0 0 1203 880 0 0 -2 0 3 0 "
    "56202 3133440 414 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 -1 2 1 1 0 0 0 0 0 0 0 0 0\n"
)
STAT_OTHER = (
    "4243 (CPU 1/KVM) S 4100 4100 4100 0 -1 4194624 3167 0 0 0 1203 880 0 0 20 0 3 0 "
    "56202 3133440 414 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0\n"
)


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def _status(cpus: str) -> str:
    return f"Name:\tCPU 0/KVM\nState:\tS (sleeping)\nCpus_allowed:\t4\nCpus_allowed_list:\t{cpus}\n"


@pytest.fixture
def rt_root(tmp_path: Path) -> Path:
    """A tree laid out like / on a tuned RT host with one guest (pid 4100, vCPUs 4242, 4243)."""
    _write(tmp_path, "/proc/cmdline", RT_CMDLINE)
    _write(tmp_path, "/sys/devices/system/cpu/isolated", "2-3\n")
    _write(tmp_path, "/sys/devices/system/cpu/nohz_full", "2-3\n")
    params = {
        "kvm": {"halt_poll_ns": "0", "lapic_timer_advance_ns": "-1", "kvmclock_periodic_sync": "N"},
        "kvm_intel": {"ple_gap": "0", "ple_window": "4096", "enable_apicv": "Y"},
    }
    for module, values in params.items():
        for name, value in values.items():
            _write(tmp_path, f"/sys/module/{module}/parameters/{name}", value + "\n")
    _write(tmp_path, "/sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n")
    _write(tmp_path, "/sys/kernel/mm/ksm/run", "0\n")
    _write(tmp_path, "/etc/tuned/active_profile", "realtime-virtual-host\n")
    _write(tmp_path, "/proc/4100/task/4242/stat", STAT_FIFO)
    _write(tmp_path, "/proc/4100/task/4242/status", _status("2"))
    _write(tmp_path, "/proc/4100/task/4243/stat", STAT_OTHER)
    _write(tmp_path, "/proc/4100/task/4243/status", _status("1"))
    # IRQ 24 (a NIC queue) may land on CPU 1, IRQ 25 is steered to 0, IRQ 9 has no handler.
    for irq, handler, cpus in (
        ("24", "eth0-rx-0", "0-1"),
        ("25", "ttyS0", "0"),
        ("9", None, "0-3"),
    ):
        _write(tmp_path, f"/proc/irq/{irq}/smp_affinity_list", cpus + "\n")
        if handler:
            (tmp_path / f"proc/irq/{irq}/{handler}").mkdir()
    return tmp_path


GUEST = VmInfo(
    pid=4100,
    name="rt-guest",
    vmm="qemu",
    started=0.0,
    cpu_percent=None,
    rss_bytes=0,
    vcpus=(VCpu(0, 4242, (2,)), VCpu(1, 4243, (1,))),
    pinning=Pinning.BIND,
)


def test_rt_host_values(rt_root: Path) -> None:
    checks = checks_by_name(audit([GUEST], root=rt_root))
    assert checks["cmdline.isolcpus"].value == "managed_irq,domain,2-3"
    assert checks["cmdline.idle"].value == "poll"
    assert checks["cmdline.intel_pstate"].value == "disable"
    assert checks["cpu.isolated"].value == "2-3"
    assert checks["kvm.halt_poll_ns"].value == "0"
    assert checks["kvm.kvmclock_periodic_sync"].value == "N"
    assert checks["kvm_intel.ple_gap"].value == "0"
    assert checks["kvm_amd.avic"].value == UNKNOWN  # module not loaded on this "host"
    assert checks["mm.transparent_hugepage"].value == "never"
    assert checks["mm.ksm"].value == "0 (stopped)"
    assert checks["tuned.profile"].value == "realtime-virtual-host"
    assert checks["vm.rt-guest.vcpu0.affinity"].value == "2"
    assert checks["vm.rt-guest.vcpu0.policy"].value == "SCHED_FIFO 1"
    assert checks["vm.rt-guest.vcpu0.isolated"].value == "yes (2 isolated)"
    assert checks["vm.rt-guest.vcpu0.irqs"].value == "none"
    assert checks["vm.rt-guest.vcpu1.policy"].value == "SCHED_OTHER"
    assert checks["vm.rt-guest.vcpu1.isolated"].value == "no (1 not isolated)"
    assert checks["vm.rt-guest.vcpu1.irqs"].value == "1: 24 eth0-rx-0"
    assert checks["vm.rt-guest.vcpu1.irqs"].source == "/proc/irq/*/smp_affinity_list"


def test_missing_files_are_unknown(tmp_path: Path) -> None:
    checks = audit([GUEST], root=tmp_path)  # an empty tree: nothing readable
    assert all(isinstance(c, AuditCheck) for c in checks)
    by_name = checks_by_name(checks)
    for name in ("cmdline.isolcpus", "cpu.isolated", "kvm.halt_poll_ns", "mm.ksm", "tuned.profile"):
        assert by_name[name].value == UNKNOWN, name
    for suffix in ("affinity", "policy", "isolated", "irqs"):
        assert by_name[f"vm.rt-guest.vcpu0.{suffix}"].value == UNKNOWN


def test_truncated_stat_is_unknown(rt_root: Path) -> None:
    _write(rt_root, "/proc/4100/task/4242/stat", "4242 (CPU 0/KVM) S 4100\n")
    assert checks_by_name(audit([GUEST], root=rt_root))["vm.rt-guest.vcpu0.policy"].value == UNKNOWN


def test_cpu_list_forms() -> None:
    assert parse_cpu_list("managed_irq,domain,2-3,6") == {2, 3, 6}
    assert parse_cpu_list("0-7:2/4") == {0, 1, 4, 5}
    assert parse_cpu_list("") == frozenset()


def test_this_machine_matches_its_files() -> None:
    checks = checks_by_name(audit())
    cmdline = Path("/proc/cmdline").read_text().split()
    isol = [w.partition("=")[2] for w in cmdline if w.startswith("isolcpus=")]
    assert checks["cmdline.isolcpus"].value == (isol[0] if isol else "not set")
    halt = Path("/sys/module/kvm/parameters/halt_poll_ns")
    assert checks["kvm.halt_poll_ns"].value == (
        halt.read_text().strip() if halt.exists() else UNKNOWN
    )
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    assert f"[{checks['mm.transparent_hugepage'].value}]" in thp
    if not Path("/etc/tuned/active_profile").exists():
        assert checks["tuned.profile"].value == UNKNOWN


@needs_qemu[0]
@needs_qemu[1]
@pytest.mark.skipif(shutil.which("chrt") is None, reason="chrt (util-linux) missing")
def test_pinning_a_real_vcpu_changes_the_audit() -> None:
    cpu = max(os.sched_getaffinity(0))
    with qemu_guest(smp=1) as proc:
        tid = vcpu_tids(proc.pid)[0]
        vm = VmScanner().find(pid=proc.pid)
        before = checks_by_name(audit([vm]))
        prefix = f"vm.{vm.name}.vcpu0"
        assert before[f"{prefix}.policy"].value == "SCHED_OTHER"
        subprocess.run(["taskset", "-p", "-c", str(cpu), str(tid)], check=True, capture_output=True)
        subprocess.run(["chrt", "-f", "-p", "1", str(tid)], check=True, capture_output=True)
        try:
            after = checks_by_name(audit([vm]))
        finally:
            subprocess.run(["chrt", "-o", "-p", "0", str(tid)], check=True, capture_output=True)
        assert after[f"{prefix}.policy"].value == "SCHED_FIFO 1"
        assert after[f"{prefix}.affinity"].value == str(cpu)
        isolated = Path("/sys/devices/system/cpu/isolated").read_text().strip()
        if not isolated:
            assert after[f"{prefix}.isolated"].value == f"no ({cpu} not isolated)"
