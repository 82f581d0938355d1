"""Discovery of running KVM guests with psutil: who they are, their vCPU threads and pinning.

A guest is a QEMU process (`qemu-system-*`, `qemu-kvm`, also when started by libvirt) or any
other process holding a KVM VM file descriptor (`anon_inode:kvm-vm` in `/proc/PID/fd`):
Firecracker, Cloud Hypervisor, crosvm. It is a *KVM* guest only if it holds that descriptor:
a QEMU that emulates its CPUs (`-accel tcg`, or no `-enable-kvm`) never exits to KVM, so perf
kvm stat sees nothing of it. Such guests are listed only when asked (`include_non_kvm`),
marked `kvm=False`, and are never recorded. vCPU threads are recognised by their thread names:
QEMU `CPU n/KVM` (only with `-name ...,debug-threads=on`), Firecracker `fc_vcpu n`,
Cloud Hypervisor `vcpuN`, crosvm `crosvm_vcpuN`.

Pinning of a guest: `bind` when every vCPU thread may run on exactly one host CPU, `raw` when
none is restricted to one, `partial` otherwise, and `unknown` when no vCPU thread could be
identified (a QEMU started without `debug-threads=on` leaves all its threads unnamed).

Processes that exit or deny access while being read are skipped. Nothing here shells out.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import psutil

from vmexit_tui.host.proc_start import same_process
from vmexit_tui.host.proc_start import started as proc_started

__all__ = [
    "Pinning",
    "VCpu",
    "VmInfo",
    "VmNotFound",
    "VmScanner",
    "cpu_ranges",
    "is_alive",
    "pinning_of",
    "qemu_guest_name",
]

# QEMU names vCPU threads "CPU <n>/<accel>" (KVM, or TCG when it falls back to emulation).
_VCPU_THREAD = re.compile(
    r"^(?:CPU (?P<qemu>\d+)/\w+"
    r"|fc_vcpu (?P<fc>\d+)"
    r"|crosvm_vcpu(?P<crosvm>\d+)"
    r"|vcpu(?P<ch>\d+))$"
)
_KVM_VM_LINK = "anon_inode:kvm-vm"
_KNOWN_VMMS = ("firecracker", "cloud-hypervisor", "crosvm")


class Pinning(StrEnum):
    """How a guest's vCPU threads are tied to host CPUs."""

    BIND = "bind"  # every vCPU thread allowed exactly one host CPU
    RAW = "raw"  # no vCPU thread restricted to a single CPU
    PARTIAL = "partial"  # some are, some are not
    UNKNOWN = "unknown"  # no vCPU thread identified (QEMU without debug-threads=on)


@dataclass(frozen=True, slots=True)
class VCpu:
    """One vCPU thread: its index in the guest, host thread id and allowed host CPUs."""

    index: int
    tid: int
    cpus: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VmInfo:
    """An immutable snapshot of one running guest."""

    pid: int
    name: str
    vmm: str  # "qemu" | "firecracker" | "cloud-hypervisor" | "crosvm" | other command name
    started: float  # epoch seconds
    cpu_percent: float | None  # of one host CPU, like top; None on the first sighting
    rss_bytes: int
    vcpus: tuple[VCpu, ...]
    pinning: Pinning
    kvm: bool = True  # holds a KVM VM fd; False for an emulated guest (QEMU -accel tcg)

    def uptime(self, now: float | None = None) -> float:
        """Seconds since the guest process started."""
        return max(0.0, (time.time() if now is None else now) - self.started)

    def to_json(self) -> dict:
        """A plain dict for `json.dumps`."""
        return {
            "pid": self.pid,
            "name": self.name,
            "vmm": self.vmm,
            "started": self.started,
            "cpu_percent": self.cpu_percent,
            "rss_bytes": self.rss_bytes,
            "pinning": str(self.pinning),
            "kvm": self.kvm,
            "vcpus": [{"index": v.index, "tid": v.tid, "cpus": list(v.cpus)} for v in self.vcpus],
        }


class VmNotFound(LookupError):
    """No running guest matches (or more than one does); the message lists what is running."""


def not_kvm_reason(vm: VmInfo) -> str:
    """Why a guest that is not a KVM guest cannot be recorded (one line)."""
    return (
        f"{vm.name} (pid {vm.pid}) is not a KVM guest: its process holds no KVM VM file "
        f"descriptor (an emulated {vm.vmm} guest, e.g. QEMU -accel tcg), so perf kvm stat "
        "sees none of its exits; it cannot be recorded"
    )


def pinning_of(vcpus: Sequence[VCpu]) -> Pinning:
    """The pinning state of a set of vCPU threads (`UNKNOWN` when there are none)."""
    if not vcpus:
        return Pinning.UNKNOWN
    bound = sum(1 for v in vcpus if len(v.cpus) == 1)
    if bound == len(vcpus):
        return Pinning.BIND
    return Pinning.RAW if bound == 0 else Pinning.PARTIAL


def cpu_ranges(cpus: Iterable[int]) -> str:
    """Compact CPU list as in cpuset/taskset: `[0, 1, 2, 3, 6]` -> `"0-3,6"`."""
    parts: list[str] = []
    ordered = sorted(set(cpus))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def qemu_guest_name(cmdline: Sequence[str]) -> str | None:
    """The guest name from a QEMU command line (`-name guest=NAME,...` or `-name NAME`)."""
    for i, arg in enumerate(cmdline[:-1]):
        if arg not in ("-name", "--name"):
            continue
        # QEMU option syntax: comma-separated, ",," is a literal comma, a bare first
        # element is the implied "guest" key.
        items = cmdline[i + 1].replace(",,", "\0").split(",")
        for pos, item in enumerate(items):
            item = item.replace("\0", ",")
            if item.startswith("guest="):
                return item[len("guest=") :] or None
            if pos == 0 and "=" not in item:
                return item or None
    return None


def is_alive(pid: int, started: float) -> bool:
    """True while the process `pid` started at `started` still runs (safe against pid reuse)."""
    if not same_process(pid, started):
        return False
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return False
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _proc_path(*parts: object) -> str:
    return os.path.join(psutil.PROCFS_PATH, *map(str, parts))


def _read_comm(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().rstrip("\n")
    except OSError:
        return None


def _holds_kvm_vm(pid: int) -> bool:
    """Whether `pid` has a KVM VM file descriptor open (False when it cannot be read)."""
    try:
        with os.scandir(_proc_path(pid, "fd")) as entries:
            for entry in entries:
                try:
                    if os.readlink(entry.path) == _KVM_VM_LINK:
                        return True
                except OSError:
                    continue
    except OSError:
        return False
    return False


def _is_qemu(name: str) -> bool:
    return name.startswith("qemu-system-") or name == "qemu-kvm"


def _vmm_of(name: str, exe: str, cmdline: Sequence[str]) -> str:
    # The kernel cuts comm at 15 characters ("cloud-hyperviso"): prefer exe and argv[0].
    candidates = [os.path.basename(exe), os.path.basename(cmdline[0]) if cmdline else "", name]
    for cand in candidates:
        if _is_qemu(cand):
            return "qemu"
        if cand in _KNOWN_VMMS:
            return cand
    return name


def _vcpu_threads(pid: int) -> tuple[VCpu, ...]:
    """The vCPU threads of `pid` by thread name, with their allowed CPUs, sorted by index."""
    try:
        tids = os.listdir(_proc_path(pid, "task"))
    except OSError:
        return ()
    found = []
    for tid_s in tids:
        comm = _read_comm(_proc_path(pid, "task", tid_s, "comm"))
        m = _VCPU_THREAD.match(comm or "")
        if m is None:
            continue
        index = int(next(g for g in m.groups() if g is not None))
        tid = int(tid_s)
        try:
            cpus = tuple(sorted(os.sched_getaffinity(tid)))
        except OSError:  # the thread ended meanwhile, or we may not look
            continue
        found.append(VCpu(index=index, tid=tid, cpus=cpus))
    return tuple(sorted(found, key=lambda v: (v.index, v.tid)))


class VmScanner:
    """Finds running guests; keeps psutil.Process objects between scans for CPU%.

    CPU% of a guest is measured between two scans: the first scan that sees a guest reports
    `cpu_percent=None`, later ones the average since the previous scan.
    """

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}

    def scan(self, *, include_non_kvm: bool = False) -> list[VmInfo]:
        """All running KVM guests (and emulated ones when asked), sorted by name then pid."""
        found: list[VmInfo] = []
        kept: dict[int, psutil.Process] = {}
        for pid in psutil.pids():
            if not self._is_candidate(pid):
                continue
            proc, primed = self._process(pid)
            if proc is None:
                continue
            info = self._describe(proc, primed)
            if info is not None:
                kept[pid] = proc
                if info.kvm or include_non_kvm:
                    found.append(info)
        self._procs = kept
        return sorted(found, key=lambda v: (v.name, v.pid))

    def find(self, *, pid: int | None = None, name: str | None = None) -> VmInfo:
        """The one running guest with this pid and/or name; `VmNotFound` otherwise.

        An emulated (not KVM) guest is found too, with `kvm=False`: callers refuse it.
        """
        if pid is None and name is None:
            raise ValueError("find() needs pid=, name= or both")
        vms = self.scan(include_non_kvm=True)
        matches = [
            v for v in vms if (pid is None or v.pid == pid) and (name is None or v.name == name)
        ]
        if len(matches) == 1:
            return matches[0]
        parts = [f"pid {pid}"] if pid is not None else []
        parts += [f"name {name!r}"] if name is not None else []
        wanted = " and ".join(parts)
        running = (
            ", ".join(f"{v.name} (pid {v.pid}{'' if v.kvm else ', not KVM'})" for v in vms)
            or "none"
        )
        if matches:
            raise VmNotFound(
                f"{len(matches)} KVM guests match {wanted}: "
                + ", ".join(f"pid {v.pid}" for v in matches)
                + "; choose one by pid"
            )
        raise VmNotFound(
            f"no running KVM guest with {wanted}; running guests: {running}"
            + ("" if vms else " (see `vmexit-tui vms`; are you root?)")
        )

    @staticmethod
    def _is_candidate(pid: int) -> bool:
        comm = _read_comm(_proc_path(pid, "comm"))
        if comm is None:
            return False
        return _is_qemu(comm) or _holds_kvm_vm(pid)

    def _process(self, pid: int) -> tuple[psutil.Process | None, bool]:
        """The cached Process for `pid` if it is still the same process, else a new one."""
        cached = self._procs.get(pid)
        if cached is not None and cached.is_running():
            return cached, True
        try:
            return psutil.Process(pid), False
        except psutil.Error:
            return None, False

    @staticmethod
    def _describe(proc: psutil.Process, primed: bool) -> VmInfo | None:
        """A snapshot of one candidate; None when it vanished, is a zombie or denies access."""
        try:
            with proc.oneshot():
                if proc.status() == psutil.STATUS_ZOMBIE:
                    return None
                comm = proc.name()
                cmdline = proc.cmdline()
                started = proc_started(proc.pid)
                rss = proc.memory_info().rss
                cpu = proc.cpu_percent(interval=None)
                try:
                    exe = proc.exe()
                except psutil.AccessDenied:
                    exe = ""
        except psutil.Error:
            return None
        vmm = _vmm_of(comm, exe, cmdline)
        name = (qemu_guest_name(cmdline) if vmm == "qemu" else None) or comm
        vcpus = _vcpu_threads(proc.pid)
        return VmInfo(
            pid=proc.pid,
            name=name,
            vmm=vmm,
            started=started,
            cpu_percent=cpu if primed else None,
            rss_bytes=rss,
            vcpus=vcpus,
            pinning=pinning_of(vcpus),
            kvm=_holds_kvm_vm(proc.pid),
        )
