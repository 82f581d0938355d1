"""Discovery of KVM guests: pure helpers, a real QEMU guest, a real kvm-vm fd holder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.qemu_guest import guest_fixture, kvm_usable, needs_qemu, qemu_guest, vcpu_tids
from vmexit_tui.host.discovery import (
    Pinning,
    VCpu,
    VmInfo,
    VmNotFound,
    VmScanner,
    cpu_ranges,
    is_alive,
    not_kvm_reason,
    pinning_of,
    qemu_guest_name,
)

ALL_CPUS = set(os.sched_getaffinity(0))
GUEST = f"vmexit-test-vms-{os.getpid()}"
guest = guest_fixture(GUEST, accel="kvm")


def _only(vms: list[VmInfo], pid: int) -> VmInfo:
    mine = [v for v in vms if v.pid == pid]
    assert len(mine) == 1, f"pid {pid} found {len(mine)} times in {vms}"
    return mine[0]


# --- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpus", "expected"),
    [
        ([], Pinning.UNKNOWN),
        ([(3,), (5,)], Pinning.BIND),
        ([(0, 1), (0, 1, 2)], Pinning.RAW),
        ([(0,), (0, 1)], Pinning.PARTIAL),
        ([(2,)], Pinning.BIND),
    ],
)
def test_pinning_of(cpus: list[tuple[int, ...]], expected: Pinning) -> None:
    vcpus = [VCpu(index=i, tid=100 + i, cpus=c) for i, c in enumerate(cpus)]
    assert pinning_of(vcpus) is expected


@pytest.mark.parametrize(
    ("cpus", "expected"),
    [([0, 1, 2, 3, 6], "0-3,6"), ([5], "5"), ([], ""), ([7, 1, 2, 2, 9, 8], "1-2,7-9")],
)
def test_cpu_ranges(cpus: list[int], expected: str) -> None:
    assert cpu_ranges(cpus) == expected


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (["qemu-system-x86_64", "-name", "guest=web,debug-threads=on"], "web"),
        (["qemu-kvm", "-m", "64", "-name", "db"], "db"),
        (["qemu-kvm", "-name", "db,process=qemu-db"], "db"),
        (["qemu-kvm", "-name", "debug-threads=on,guest=late"], "late"),
        (["qemu-kvm", "-name", "guest=a,,b,debug-threads=on"], "a,b"),
        (["qemu-kvm", "--name", "dash"], "dash"),
        (["qemu-kvm", "-m", "64"], None),
        (["qemu-kvm", "-name"], None),
    ],
)
def test_qemu_guest_name(cmdline: list[str], expected: str | None) -> None:
    assert qemu_guest_name(cmdline) == expected


def test_to_json_has_documented_keys_and_round_trips() -> None:
    vm = VmInfo(
        pid=42,
        name="web",
        vmm="qemu",
        started=1700000000.5,
        cpu_percent=None,
        rss_bytes=1 << 20,
        vcpus=(VCpu(0, 43, (0,)), VCpu(1, 44, (1, 2))),
        pinning=Pinning.PARTIAL,
    )
    data = json.loads(json.dumps(vm.to_json()))
    assert data == {
        "pid": 42,
        "name": "web",
        "vmm": "qemu",
        "started": 1700000000.5,
        "cpu_percent": None,
        "rss_bytes": 1048576,
        "pinning": "partial",
        "kvm": True,
        "vcpus": [{"index": 0, "tid": 43, "cpus": [0]}, {"index": 1, "tid": 44, "cpus": [1, 2]}],
    }


def test_find_without_criteria_is_an_error() -> None:
    with pytest.raises(ValueError, match="pid=, name="):
        VmScanner().find()


# --- a real QEMU guest ----------------------------------------------------------------------


class TestRealGuest:
    pytestmark = needs_qemu

    def test_scan_finds_guest_with_name_and_vcpus(self, guest: psutil.Process) -> None:
        scanner = VmScanner()
        vm = _only(scanner.scan(), guest.pid)
        assert vm.name == GUEST
        assert vm.vmm == "qemu"
        assert abs(vm.started - guest.create_time()) < 0.01
        assert vm.rss_bytes > 1 << 20
        assert vm.cpu_percent is None  # one sample only
        tids = vcpu_tids(guest.pid)
        assert [(v.index, v.tid) for v in vm.vcpus] == sorted(tids.items())
        assert all(set(v.cpus) == os.sched_getaffinity(v.tid) for v in vm.vcpus)
        time.sleep(0.3)
        again = _only(scanner.scan(), guest.pid)
        # the firmware spins on its vCPU: the second sample sees real CPU time
        assert again.cpu_percent is not None and again.cpu_percent > 0

    @pytest.mark.skipif(len(ALL_CPUS) < 2, reason="needs two host CPUs")
    def test_pinning_follows_thread_affinity(self, guest: psutil.Process) -> None:
        scanner = VmScanner()
        tids = vcpu_tids(guest.pid)
        first, second = sorted(ALL_CPUS)[:2]
        for tid in tids.values():
            os.sched_setaffinity(tid, ALL_CPUS)
        assert _only(scanner.scan(), guest.pid).pinning is Pinning.RAW

        os.sched_setaffinity(tids[0], {first})
        vm = _only(scanner.scan(), guest.pid)
        assert vm.pinning is Pinning.PARTIAL
        assert vm.vcpus[0].cpus == (first,)

        os.sched_setaffinity(tids[1], {second})
        vm = _only(scanner.scan(), guest.pid)
        assert vm.pinning is Pinning.BIND
        assert [v.cpus for v in vm.vcpus] == [(first,), (second,)]

    def test_find_by_pid_and_name(self, guest: psutil.Process) -> None:
        scanner = VmScanner()
        vm = scanner.find(pid=guest.pid)
        assert scanner.find(name=vm.name).pid == guest.pid
        assert scanner.find(pid=guest.pid, name=vm.name).pid == guest.pid
        with pytest.raises(VmNotFound, match=rf"name 'no-such-guest'.*{vm.name} \(pid {vm.pid}\)"):
            scanner.find(name="no-such-guest")
        with pytest.raises(VmNotFound):
            scanner.find(pid=guest.pid, name="no-such-guest")

    def test_killed_guest_leaves_the_next_scan(self) -> None:
        scanner = VmScanner()
        with qemu_guest(smp=1) as proc:
            vm = _only(scanner.scan(), proc.pid)
            assert is_alive(vm.pid, vm.started)
            assert not is_alive(vm.pid, vm.started - 5)  # same pid, other process
            proc.kill()
            proc.wait(10)
            assert all(v.pid != proc.pid for v in scanner.scan())
            assert not is_alive(vm.pid, vm.started)
            with pytest.raises(VmNotFound):
                scanner.find(pid=proc.pid)

    def test_qemu_without_debug_threads_has_unknown_pinning(self) -> None:
        with qemu_guest(smp=1, debug_threads=False) as proc:
            vm = _only(VmScanner().scan(), proc.pid)
        assert vm.vcpus == ()
        assert vm.pinning is Pinning.UNKNOWN


# --- KVM or not: a real QEMU under TCG beside a real QEMU with -enable-kvm -------------------


class TestKvmOrEmulated:
    pytestmark = needs_qemu

    def test_only_a_guest_holding_a_kvm_vm_fd_is_a_kvm_guest(self, guest: psutil.Process) -> None:
        with qemu_guest(smp=1, accel="tcg") as tcg:
            scanner = VmScanner()
            assert all(v.pid != tcg.pid for v in scanner.scan())  # not a KVM guest
            assert _only(scanner.scan(), guest.pid).kvm
            every = scanner.scan(include_non_kvm=True)
            emulated = _only(every, tcg.pid)
            assert not emulated.kvm and emulated.vmm == "qemu"
            assert _only(every, guest.pid).kvm
            # found by pid all the same, marked, so that callers can refuse it by name
            found = scanner.find(pid=tcg.pid)
            assert found.pid == tcg.pid and not found.kvm
            assert "is not a KVM guest" in not_kvm_reason(found)


# --- other VMMs: a real process holding a KVM VM fd, with firecracker-style threads -----------

_FAKE_VMM = textwrap.dedent(
    """
    import ctypes, fcntl, os, sys, threading
    if sys.argv[1] == "vm":
        kvm = os.open("/dev/kvm", os.O_RDWR)
        vm = fcntl.ioctl(kvm, 0xAE01, 0)  # KVM_CREATE_VM
    libc = ctypes.CDLL(None)
    started = threading.Barrier(3)
    def vcpu(i):
        libc.prctl(15, f"fc_vcpu {i}".encode())  # PR_SET_NAME
        started.wait()
        sys.stdin.read()
    for i in range(2):
        threading.Thread(target=vcpu, args=(i,), daemon=True).start()
    started.wait()
    print("ready", flush=True)
    sys.stdin.read()
    """
)


@pytest.fixture
def fake_vmm(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[psutil.Process]:
    """A python process called `firecracker`; with param "vm" it holds a real kvm-vm fd."""
    exe = tmp_path / "firecracker"
    exe.symlink_to(sys.executable)
    child = subprocess.Popen(
        [str(exe), "-c", _FAKE_VMM, request.param],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        yield psutil.Process(child.pid)
    finally:
        child.kill()
        child.wait(10)


@pytest.mark.skipif(not kvm_usable(), reason="/dev/kvm is not usable")
@pytest.mark.parametrize("fake_vmm", ["vm"], indirect=True)
def test_kvm_vm_fd_holder_is_found_with_named_vcpu_threads(fake_vmm: psutil.Process) -> None:
    vm = _only(VmScanner().scan(), fake_vmm.pid)
    assert (vm.name, vm.vmm) == ("firecracker", "firecracker")
    assert [v.index for v in vm.vcpus] == [0, 1]
    assert {v.tid for v in vm.vcpus} <= {t.id for t in fake_vmm.threads()}
    os.sched_setaffinity(vm.vcpus[0].tid, {min(ALL_CPUS)})
    os.sched_setaffinity(vm.vcpus[1].tid, {min(ALL_CPUS)})
    assert _only(VmScanner().scan(), fake_vmm.pid).pinning is Pinning.BIND


@pytest.mark.parametrize("fake_vmm", ["novm"], indirect=True)
def test_vmm_named_process_without_kvm_vm_fd_is_not_a_guest(fake_vmm: psutil.Process) -> None:
    assert all(v.pid != fake_vmm.pid for v in VmScanner().scan())


# --- processes that vanish --------------------------------------------------------------------


def _fake_qemu(tmp_path: Path, seconds: str = "60", wait: bool = True) -> subprocess.Popen[bytes]:
    """`sleep` copied under a QEMU name: discovered as a QEMU by its name alone (not KVM)."""
    exe = tmp_path / "qemu-system-x86_64"
    if not exe.exists():
        shutil.copy("/bin/sleep", exe)
    child = subprocess.Popen([str(exe), seconds])
    deadline = time.monotonic() + 5
    while wait and psutil.Process(child.pid).name() != exe.name:  # until exec has happened
        assert time.monotonic() < deadline, "the fake qemu never started"
        time.sleep(0.005)
    return child


def test_exited_and_zombie_processes_are_skipped(tmp_path: Path) -> None:
    scanner = VmScanner()
    child = _fake_qemu(tmp_path)
    try:
        vm = _only(scanner.scan(include_non_kvm=True), child.pid)
        assert vm.vmm == "qemu" and vm.pinning is Pinning.UNKNOWN
        # the scanner now holds a Process object for it; make it a zombie (not reaped)
        os.kill(child.pid, 9)
        deadline = time.monotonic() + 5
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "child never became a zombie"
            time.sleep(0.01)
        assert all(v.pid != child.pid for v in scanner.scan(include_non_kvm=True))
    finally:
        child.kill()
        child.wait()
    assert all(v.pid != child.pid for v in scanner.scan(include_non_kvm=True))


def test_scan_survives_processes_exiting_during_it(tmp_path: Path) -> None:
    scanner = VmScanner()
    children: list[subprocess.Popen[bytes]] = []
    spawned: set[int] = set()
    seen: set[int] = set()
    try:
        for _ in range(30):
            for c in children:
                c.poll()  # reap the finished ones so they vanish for good
            batch = [_fake_qemu(tmp_path, "0.01", wait=False) for _ in range(3)]
            children += batch
            spawned.update(c.pid for c in batch)
            seen.update(vm.pid for vm in scanner.scan(include_non_kvm=True) if vm.pid in spawned)
    finally:
        for c in children:
            c.kill()
            c.wait()
    assert seen, "the short-lived fake guests were never seen: the test raced nothing"
    assert all(v.pid not in spawned for v in scanner.scan(include_non_kvm=True))
