"""Checks before recording: is perf there, may we trace, is tracefs mounted, does KVM trace.

Each check returns a `Problem` (what is wrong, how to fix it, whether recording is then
impossible) or nothing. The filesystem root and the PATH searched for perf are parameters, so
every failure can be reproduced on a fake tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Problem",
    "ensure_tracefs",
    "mode_problem",
    "perf_version",
    "run_checks",
    "tracing_dir",
]

CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
_TRACING_DIRS = ("sys/kernel/tracing", "sys/kernel/debug/tracing")
_PERF_VERSION = re.compile(r"perf version (\S+)")


@dataclass(frozen=True)
class Problem:
    """Something in the way of recording. `blocking`: recording is impossible until fixed."""

    key: str
    summary: str
    fix: str
    blocking: bool


def perf_version(perf: str = "perf") -> str | None:
    """perf's version ("6.1.187" from `perf --version`), None if it does not run."""
    try:
        done = subprocess.run(
            [perf, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = _PERF_VERSION.search(done.stdout)
    return m.group(1) if done.returncode == 0 and m else None


def tracing_dir(root: Path = Path("/")) -> Path | None:
    """The mounted tracefs (a directory holding `events/`), or None."""
    for rel in _TRACING_DIRS:
        cand = root / rel
        try:
            if (cand / "events").is_dir():
                return cand
        except OSError:
            continue
    return None


def ensure_tracefs(*, root: Path = Path("/")) -> Path | None:
    """The tracing directory; mounts tracefs at `sys/kernel/tracing` first if needed and root."""
    found = tracing_dir(root)
    if found is not None or os.geteuid() != 0:
        return found
    target = root / _TRACING_DIRS[0]
    if not target.is_dir():
        return None
    try:
        subprocess.run(
            ["mount", "-t", "tracefs", "nodev", str(target)],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return tracing_dir(root)


def _os_ids(root: Path) -> set[str]:
    """ID and ID_LIKE from etc/os-release, lower case."""
    ids: set[str] = set()
    try:
        text = (root / "etc/os-release").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ids
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip("\"'").lower().split())
    return ids


def _perf_install_hint(root: Path) -> str:
    release = os.uname().release
    ids = _os_ids(root)
    if "ubuntu" in ids:
        return f"install it: apt install linux-tools-{release} linux-tools-common"
    if "debian" in ids:
        return "install it: apt install linux-perf"
    if ids & {"fedora", "rhel", "centos", "rocky", "almalinux"}:
        return "install it: dnf install perf"
    return (
        "install perf: Debian `apt install linux-perf`, Ubuntu "
        f"`apt install linux-tools-{release}`, RHEL/Fedora `dnf install perf`"
    )


def _check_perf(root: Path, path: str | None, perf: str) -> Problem | None:
    found = shutil.which(perf, path=path)
    if found is None:
        return Problem(
            "perf-missing",
            f"`{perf}` is not on PATH: nothing can be recorded",
            _perf_install_hint(root),
            blocking=True,
        )
    if perf_version(found) is None:
        return Problem(
            "perf-broken",
            f"{found} is there but `{found} --version` fails (on Ubuntu the wrapper does "
            "this when the tools for the running kernel are missing)",
            _perf_install_hint(root),
            blocking=True,
        )
    return None


def _status_fields(root: Path) -> dict[str, str]:
    try:
        text = (root / "proc/self/status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def _check_permissions(root: Path) -> Problem | None:
    status = _status_fields(root)
    try:
        cap_eff = int(status["CapEff"], 16)
        euid = int(status["Uid"].split()[1])
    except (KeyError, ValueError, IndexError):
        return None  # cannot tell; perf will say so itself
    if cap_eff & (1 << CAP_PERFMON | 1 << CAP_SYS_ADMIN):
        return None
    paranoid_file = root / "proc/sys/kernel/perf_event_paranoid"
    try:
        paranoid = paranoid_file.read_text().strip()
    except OSError:
        paranoid = "unknown"
    who = "running as root but without" if euid == 0 else f"not root (uid {euid}) and without"
    return Problem(
        "permissions",
        f"{who} CAP_PERFMON or CAP_SYS_ADMIN (kernel.perf_event_paranoid = {paranoid}): "
        "perf cannot open the kvm tracepoints",
        "run vmexit-tui as root (sudo vmexit-tui), or in a container grant CAP_PERFMON "
        "(or CAP_SYS_ADMIN) and make tracefs readable",
        blocking=True,
    )


def _check_tracefs(root: Path) -> tuple[Path | None, Problem | None]:
    found = tracing_dir(root)
    if found is not None:
        return found, None
    unreadable = []
    for rel in _TRACING_DIRS:
        try:
            os.listdir(root / rel)
        except PermissionError:
            unreadable.append(f"/{rel}")
        except OSError:
            continue
    if unreadable:
        return None, Problem(
            "tracefs",
            f"tracefs at {' and '.join(unreadable)} is not readable by this user",
            "run vmexit-tui as root (sudo vmexit-tui)",
            blocking=True,
        )
    return None, Problem(
        "tracefs",
        "tracefs is not mounted (no events/ in /sys/kernel/tracing or "
        "/sys/kernel/debug/tracing): perf cannot find the kvm tracepoints",
        "mount it: mount -t tracefs nodev /sys/kernel/tracing",
        blocking=True,
    )


def _check_kvm_events(root: Path, tracing: Path) -> Problem | None:
    kvm = tracing / "events" / "kvm"
    if not kvm.is_dir():
        if not (root / "dev/kvm").exists():
            return None  # the /dev/kvm check explains it
        return Problem(
            "kvm-events",
            f"{kvm} is missing: this kernel has no kvm tracepoints",
            "load the kvm module (modprobe kvm_intel or kvm_amd) and retry",
            blocking=True,
        )
    if not (kvm / "kvm_exit").is_dir():
        return Problem(
            "kvm-exit-tracepoint",
            "this kernel has no kvm:kvm_exit tracepoint (as on nested or paravirtual hosts): "
            "VM-exit tables will stay empty; MMIO and I/O port events may still work",
            "record on the bare-metal host (L0) to see VM exits",
            blocking=False,
        )
    return None


def _check_dev_kvm(root: Path) -> Problem | None:
    if (root / "dev/kvm").exists():
        return None
    return Problem(
        "dev-kvm",
        "/dev/kvm does not exist: KVM is not available, so no KVM guests can run here",
        "enable VT-x/AMD-V in the firmware (or nested virtualisation on the outer host), "
        "then modprobe kvm_intel or kvm_amd",
        blocking=True,
    )


def mode_problem(choice) -> Problem | None:
    """A note when the kernel allows less than in-kernel histograms (`recording.modes`)."""
    if str(choice.mode) == "kernel":
        return None
    return Problem(
        "mode",
        choice.why,
        "a kernel with CONFIG_HIST_TRIGGERS=y and CONFIG_SYNTH_EVENTS=y keeps exit times and "
        "histograms in the kernel; `--source perf` records timings with perf (on disk)",
        blocking=False,
    )


def run_checks(
    *, root: Path = Path("/"), path: str | None = None, perf: str = "perf"
) -> list[Problem]:
    """Every problem found, blocking ones first. `path` is the PATH to search (None: $PATH)."""
    problems = [_check_perf(root, path, perf), _check_permissions(root)]
    tracing, problem = _check_tracefs(root)
    problems.append(problem)
    if tracing is not None:
        problems.append(_check_kvm_events(root, tracing))
    problems.append(_check_dev_kvm(root))
    found = [p for p in problems if p is not None]
    return sorted(found, key=lambda p: not p.blocking)
