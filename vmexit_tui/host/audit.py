"""The host's real-time configuration, read from /proc and /sys: what an RT-KVM guide checks.

`audit(vms)` returns one `AuditCheck` per setting: what was found, what a real-time host usually
wants, and why. It never claims a setting is wrong (the goal of the host is unknown), and a file
that is missing or unreadable gives the value "unknown", never an exception.

Checked: the kernel command line (isolcpus, nohz_full, rcu_nocbs, irqaffinity, idle=,
intel_pstate), the CPUs the kernel isolated, kvm / kvm_intel / kvm_amd module parameters,
transparent huge pages, KSM, the tuned profile and, per guest given, each vCPU thread's allowed
CPUs, scheduling policy and priority, whether those CPUs are isolated, and which device IRQs
may be delivered to them (`/proc/irq/N/smp_affinity_list`).

`root` points the reader at another tree laid out like `/` (tests use a folder of real-format
files). Nothing here writes or shells out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vmexit_tui.host.discovery import VmInfo, cpu_ranges

__all__ = ["UNKNOWN", "AuditCheck", "audit", "parse_cpu_list", "vcpu_checks"]

UNKNOWN = "unknown"

_POLICIES = {0: "SCHED_OTHER", 1: "SCHED_FIFO", 2: "SCHED_RR", 3: "SCHED_BATCH", 5: "SCHED_IDLE",
             6: "SCHED_DEADLINE"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """One setting: its value as found, what an RT host usually has, why it matters, where read."""

    name: str
    value: str
    usual_for_rt: str
    why: str
    source: str

    def to_json(self) -> dict[str, str]:
        """A plain dict for `json.dumps` (the keys of `vmexit-tui audit --json`)."""
        return {
            "name": self.name,
            "value": self.value,
            "usual_for_rt": self.usual_for_rt,
            "why": self.why,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict) -> AuditCheck:
        """The inverse of `to_json`; missing keys become "unknown"/""."""
        return cls(
            name=str(data.get("name", "")),
            value=str(data.get("value", UNKNOWN)),
            usual_for_rt=str(data.get("usual_for_rt", "")),
            why=str(data.get("why", "")),
            source=str(data.get("source", "")),
        )


def parse_cpu_list(text: str) -> frozenset[int]:
    """CPUs of a kernel CPU list (`0-3,6`, `2-7:2/4`); isolcpus flags (`managed_irq,domain,`)
    and anything unparsable are ignored."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part or not part[0].isdigit():
            continue
        rng, _, stride = part.partition(":")
        lo_s, _, hi_s = rng.partition("-")
        try:
            lo, hi = int(lo_s), int(hi_s or lo_s)
            step = 1
            if stride:
                used, _, group = stride.partition("/")
                step, used_n = int(group), int(used)
                cpus.update(
                    c
                    for base in range(lo, hi + 1, step)
                    for c in range(base, min(base + used_n, hi + 1))
                )
                continue
        except ValueError:
            continue
        cpus.update(range(lo, hi + 1, step))
    return frozenset(cpus)


class _Reader:
    """Reads small text files below `root`; None when missing or unreadable."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def read(self, absolute: str) -> str | None:
        try:
            return self.path(absolute).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None

    def listdir(self, absolute: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(absolute)))
        except OSError:
            return []

    def is_dir(self, absolute: str) -> bool:
        return self.path(absolute).is_dir()


def _cmdline_params(text: str) -> dict[str, str]:
    """`key=value` and bare `flag` parameters of a kernel command line (before a lone `--`)."""
    params: dict[str, str] = {}
    for word in text.split():
        if word == "--":
            break
        key, eq, value = word.partition("=")
        params[key] = value if eq else ""
    return params


# name on the command line -> (usual for RT, why)
_CMDLINE = {
    "isolcpus": (
        "the vCPU host CPUs, e.g. managed_irq,domain,2-3",
        "keeps scheduler load balancing and unbound kernel work off the CPUs the vCPUs run on",
    ),
    "nohz_full": (
        "the vCPU host CPUs",
        "stops the periodic scheduler tick on a CPU that runs a single task (a tick is an exit)",
    ),
    "rcu_nocbs": (
        "the vCPU host CPUs",
        "moves RCU callback processing off those CPUs into kthreads that can run elsewhere",
    ),
    "irqaffinity": (
        "the housekeeping CPUs (those not isolated)",
        "the default CPUs for device interrupts; an IRQ on a vCPU's CPU preempts the guest",
    ),
    "idle": (
        "poll, or unset with deep C-states limited",
        "waking a CPU from a deep C-state adds tens of microseconds to a wake-up",
    ),
    "intel_pstate": (
        "disable (or a fixed frequency) on Intel hosts",
        "frequency changes make timer and exit handling times vary",
    ),
}

# (module, parameter) -> (usual for RT, why)
_MODULE_PARAMS = {
    ("kvm", "halt_poll_ns"): (
        "tuned to the workload; often 0 when the guest polls itself (idle=poll, haltpoll)",
        "how long a halted vCPU spins on the host before sleeping: lower wake-up latency vs. "
        "host CPU time; long HLT exits are the sign",
    ),
    ("kvm", "lapic_timer_advance_ns"): (
        "set (or -1, adaptive) so guest timers fire on time",
        "programs the host timer early to hide the exit/entry cost of a guest's TSC-deadline timer",
    ),
    ("kvm", "lapic_timer_advance"): (
        "Y",
        "programs the host timer early to hide the exit/entry cost of a guest's TSC-deadline timer",
    ),
    ("kvm", "kvmclock_periodic_sync"): (
        "N (0), as tuned's realtime-virtual-host sets it",
        "Y makes KVM update every guest's kvmclock periodically, which interrupts running vCPUs",
    ),
    ("kvm_intel", "ple_gap"): (
        "0 (pause-loop exiting off), as tuned's realtime-virtual-host sets it",
        "pause-loop exiting makes spinning vCPUs exit (PAUSE_INSTRUCTION); with dedicated CPUs "
        "the spin is better left in the guest",
    ),
    ("kvm_intel", "ple_window"): (
        "irrelevant when ple_gap is 0",
        "how many cycles of PAUSE spinning trigger an exit",
    ),
    ("kvm_intel", "enable_apicv"): (
        "Y",
        "posted interrupts and virtual APIC avoid exits for interrupt delivery and EOI",
    ),
    ("kvm_intel", "preemption_timer"): (
        "Y (hosts that trust the VMX preemption timer)",
        "KVM emulates the guest's TSC-deadline timer with it; PREEMPTION_TIMER exits follow",
    ),
    ("kvm_amd", "avic"): (
        "1/Y where the CPU supports it",
        "AVIC delivers interrupts to a running vCPU without an exit",
    ),
    ("kvm_amd", "pause_filter_count"): (
        "0 (pause filtering off) with dedicated CPUs",
        "pause filtering makes spinning vCPUs exit (pause); the AMD counterpart of ple_gap",
    ),
}


def _cmdline_checks(reader: _Reader) -> tuple[list[AuditCheck], dict[str, str] | None]:
    text = reader.read("/proc/cmdline")
    params = _cmdline_params(text) if text is not None else None
    checks = []
    for key, (usual, why) in _CMDLINE.items():
        if params is None:
            value = UNKNOWN
        elif key not in params:
            value = "not set"
        else:
            value = params[key] or "set"
        checks.append(AuditCheck(f"cmdline.{key}", value, usual, why, "/proc/cmdline"))
    return checks, params


def _isolated_cpus(reader: _Reader, params: dict[str, str] | None) -> frozenset[int] | None:
    """CPUs isolated from the scheduler: the kernel's own list, else the command line's."""
    text = reader.read("/sys/devices/system/cpu/isolated")
    if text is not None:
        return parse_cpu_list(text)
    if params is None:
        return None
    return parse_cpu_list(params.get("isolcpus", ""))


def _cpu_checks(reader: _Reader) -> list[AuditCheck]:
    checks = []
    for name, why in (
        ("isolated", "CPUs the kernel took out of scheduler load balancing (from isolcpus)"),
        ("nohz_full", "CPUs that run without the periodic tick when they have one task"),
    ):
        source = f"/sys/devices/system/cpu/{name}"
        text = reader.read(source)
        value = UNKNOWN if text is None else (text or "none")
        checks.append(AuditCheck(f"cpu.{name}", value, "the vCPU host CPUs", why, source))
    return checks


def _module_checks(reader: _Reader) -> list[AuditCheck]:
    checks = []
    for (module, param), (usual, why) in _MODULE_PARAMS.items():
        source = f"/sys/module/{module}/parameters/{param}"
        if param == "lapic_timer_advance" and not reader.path(source).exists():
            continue  # only newer kernels have the boolean; the _ns one is checked as well
        if param == "lapic_timer_advance_ns" and (
            not reader.path(source).exists()
            and reader.path(f"/sys/module/{module}/parameters/lapic_timer_advance").exists()
        ):
            continue  # newer kernels replaced it with the boolean
        text = reader.read(source)
        value = UNKNOWN if text is None else text
        checks.append(AuditCheck(f"{module}.{param}", value, usual, why, source))
    return checks


def _bracketed(text: str) -> str:
    """The selected choice of a sysfs choice file: `always [madvise] never` -> `madvise`."""
    start, end = text.find("["), text.find("]")
    return text[start + 1 : end] if 0 <= start < end else text


def _memory_checks(reader: _Reader) -> list[AuditCheck]:
    thp_src = "/sys/kernel/mm/transparent_hugepage/enabled"
    thp = reader.read(thp_src)
    ksm_src = "/sys/kernel/mm/ksm/run"
    ksm = reader.read(ksm_src)
    ksm_names = {"0": "0 (stopped)", "1": "1 (merging)", "2": "2 (unmerging)"}
    return [
        AuditCheck(
            "mm.transparent_hugepage",
            UNKNOWN if thp is None else _bracketed(thp),
            "never (guest memory backed by static hugepages instead)",
            "khugepaged collapsing and compaction stall the faulting thread at unpredictable times",
            thp_src,
        ),
        AuditCheck(
            "mm.ksm",
            UNKNOWN if ksm is None else ksm_names.get(ksm, ksm),
            "0 (stopped)",
            "ksmd scans guest memory and merged pages take copy-on-write faults on first write",
            ksm_src,
        ),
    ]


def _tuned_check(reader: _Reader) -> AuditCheck:
    source = "/etc/tuned/active_profile"
    text = reader.read(source)
    return AuditCheck(
        "tuned.profile",
        UNKNOWN if text is None else (text or "none"),
        "realtime-virtual-host (or cpu-partitioning)",
        "these profiles apply most of the settings above together; tuned may not be installed",
        source,
    )


def _thread_sched(reader: _Reader, pid: int, tid: int) -> tuple[str, str]:
    """(allowed CPU list, "POLICY prio") of one thread; "unknown" for what cannot be read."""
    base = f"/proc/{pid}/task/{tid}"
    cpus = UNKNOWN
    status = reader.read(f"{base}/status")
    for line in (status or "").splitlines():
        if line.startswith("Cpus_allowed_list:"):
            cpus = cpu_ranges(parse_cpu_list(line.split(":", 1)[1])) or UNKNOWN
    sched = UNKNOWN
    stat = reader.read(f"{base}/stat")
    if stat is not None and ")" in stat:
        fields = stat[stat.rfind(")") + 1 :].split()
        try:  # fields 40 and 41 of proc(5) (rt_priority, policy); fields[0] is field 3
            prio, policy = int(fields[37]), int(fields[38])
        except (IndexError, ValueError):
            pass
        else:
            name = _POLICIES.get(policy, f"policy {policy}")
            sched = f"{name} {prio}" if policy in (1, 2) else name
    return cpus, sched


def _device_irqs(reader: _Reader) -> list[tuple[int, str, frozenset[int]]] | None:
    """(irq, handler names, allowed CPUs) of every IRQ with a handler; None without /proc/irq."""
    if not reader.is_dir("/proc/irq"):
        return None
    found = []
    for entry in reader.listdir("/proc/irq"):
        if not entry.isdigit():
            continue
        base = f"/proc/irq/{entry}"
        handlers = [n for n in reader.listdir(base) if reader.is_dir(f"{base}/{n}")]
        if not handlers:
            continue  # no driver registered: nothing can fire there
        text = reader.read(f"{base}/smp_affinity_list")
        if text is None:
            continue
        found.append((int(entry), ",".join(handlers), parse_cpu_list(text)))
    return sorted(found)


def vcpu_checks(
    vm: VmInfo,
    *,
    root: str | os.PathLike[str] = "/",
    isolated: frozenset[int] | None = None,
    irqs: list[tuple[int, str, frozenset[int]]] | None = None,
) -> list[AuditCheck]:
    """Per vCPU thread of `vm`: allowed CPUs, policy/priority, isolation, device IRQs on them."""
    reader = _Reader(root)
    prefix = f"vm.{vm.name}"
    if not vm.vcpus:
        return [
            AuditCheck(
                f"{prefix}.vcpus",
                UNKNOWN,
                "named vCPU threads (QEMU: -name ...,debug-threads=on)",
                "without thread names the vCPU threads cannot be told apart from QEMU's others",
                f"/proc/{vm.pid}/task",
            )
        ]
    checks = []
    for vcpu in vm.vcpus:
        name = f"{prefix}.vcpu{vcpu.index}"
        base = f"/proc/{vm.pid}/task/{vcpu.tid}"
        cpus_text, sched = _thread_sched(reader, vm.pid, vcpu.tid)
        cpus = parse_cpu_list(cpus_text) if cpus_text != UNKNOWN else frozenset()
        checks.append(
            AuditCheck(
                f"{name}.affinity",
                cpus_text,
                "one host CPU per vCPU, not shared with other vCPUs or housekeeping",
                "a vCPU that migrates or shares its CPU waits for the scheduler",
                f"{base}/status",
            )
        )
        checks.append(
            AuditCheck(
                f"{name}.policy",
                sched,
                "SCHED_FIFO (priority 1 in Red Hat's RT-KVM guide)",
                "a SCHED_OTHER vCPU can be preempted by any runnable host task on its CPU",
                f"{base}/stat",
            )
        )
        if isolated is None or not cpus:
            iso_value = UNKNOWN
        elif cpus <= isolated:
            iso_value = f"yes ({cpu_ranges(cpus)} isolated)"
        elif cpus & isolated:
            iso_value = f"partly ({cpu_ranges(cpus - isolated)} not isolated)"
        else:
            iso_value = f"no ({cpu_ranges(cpus)} not isolated)"
        checks.append(
            AuditCheck(
                f"{name}.isolated",
                iso_value,
                "yes",
                "an isolated CPU runs little besides the vCPU",
                "/sys/devices/system/cpu/isolated",
            )
        )
        if irqs is None or not cpus:
            irq_value = UNKNOWN
        else:
            landing = [f"{n} {h}" for n, h, allowed in irqs if allowed & cpus]
            irq_value = "none" if not landing else f"{len(landing)}: " + "; ".join(landing)
        checks.append(
            AuditCheck(
                f"{name}.irqs",
                irq_value,
                "none (device IRQs steered to housekeeping CPUs)",
                "a device interrupt on the vCPU's CPU forces an exit (EXTERNAL_INTERRUPT)",
                "/proc/irq/*/smp_affinity_list",
            )
        )
    return checks


def audit(vms: Iterable[VmInfo] = (), *, root: str | os.PathLike[str] = "/") -> list[AuditCheck]:
    """All checks for this host and the given guests, in a stable order."""
    reader = _Reader(root)
    cmdline, params = _cmdline_checks(reader)
    checks = [*cmdline, *_cpu_checks(reader), *_module_checks(reader), *_memory_checks(reader)]
    checks.append(_tuned_check(reader))
    vms = list(vms)
    if vms:
        isolated = _isolated_cpus(reader, params)
        irqs = _device_irqs(reader)
        for vm in vms:
            checks.extend(vcpu_checks(vm, root=root, isolated=isolated, irqs=irqs))
    return checks


def checks_by_name(checks: Sequence[AuditCheck]) -> dict[str, AuditCheck]:
    """The checks keyed by name (the last wins)."""
    return {c.name: c for c in checks}
