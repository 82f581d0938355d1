"""The tracefs objects of the kernel source: a private instance, a synthetic event, hist triggers.

Checked on the lab's 6.1 kernel (`tests/fixtures/tracefs/README.md`)::

    synthetic_events:  vmexit_tui_<pid> u64 lat; unsigned int reason; unsigned int vcpu
    instances/vmexit-tui-<pid>/events/...
    kvm/kvm_exit/trigger:
        hist:keys=common_pid:ts0=common_timestamp.usecs,r=exit_reason if <tids>
    kvm/kvm_entry/trigger:
        hist:keys=common_pid:lat=common_timestamp.usecs-$ts0,v=vcpu_id:
        onmatch(kvm.kvm_exit).trace(vmexit_tui_<pid>,$lat,$r,$v) if <tids>
    synthetic/vmexit_tui_<pid>/trigger:
        hist:keys=vcpu,reason,lat.log2:vals=hitcount,lat:size=8192

`<tids>` is `common_pid==T1 || common_pid==T2 ...`: the VM's vCPU threads. Every exit of those
threads is paired with the next entry in the kernel and counted, summed and bucketed there;
reading the one table costs one `read()` per interval, whatever the exit rate.

Synthetic events are global (not per instance), so the name carries the owner's pid; the kernel
refuses to remove an instance whose triggers are set, or a synthetic event a trigger still uses,
so `TraceSetup.remove` goes: synthetic triggers, kvm_entry, kvm_exit, rmdir, then the event.
`remove_stale` does the same for the objects of owners that are no longer alive, and never
touches those of a live owner. An `atexit` hook removes whatever this process still has set up.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = [
    "INSTANCE_PREFIX",
    "SYNTH_PREFIX",
    "StaleRemoval",
    "TraceSetup",
    "TracingError",
    "owner_of",
    "remove_stale",
]

INSTANCE_PREFIX = "vmexit-tui-"
SYNTH_PREFIX = "vmexit_tui_"
SYNTH_FIELDS = "u64 lat; unsigned int reason; unsigned int vcpu"
HIST_SIZE = 8192  # entries: vCPUs x reasons x log2 buckets
_INSTANCE_NAME = re.compile(rf"^{INSTANCE_PREFIX}(?P<pid>\d+)(?:-(?P<n>\d+))?$")
_SYNTH_NAME = re.compile(rf"^{SYNTH_PREFIX}(?P<pid>\d+)(?:_(?P<n>\d+))?$")


class TracingError(RuntimeError):
    """tracefs refused a step; the message says which and what the kernel logged."""


def owner_of(name: str) -> int | None:
    """The owner pid in an instance or synthetic event name of ours, else None."""
    m = _INSTANCE_NAME.match(name) or _SYNTH_NAME.match(name)
    return int(m["pid"]) if m else None


def _alive(pid: int) -> bool:
    return pid == os.getpid() or psutil.pid_exists(pid)


def _error_log_tail(tracing: Path) -> str:
    try:
        lines = (tracing / "error_log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(ln.strip() for ln in lines[-3:])


def _append(path: Path, line: str) -> None:
    """Write one command to a tracefs control file (one write(), as `echo >>` does)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _triggers(path: Path) -> list[str]:
    """The triggers set in a trigger file, as the kernel prints them (without ` [active]`)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        out.append(re.sub(r" \[(?:active|paused)\]$", "", line.strip()))
    return out


def _clear_triggers(path: Path) -> list[str]:
    """Remove every trigger in `path`; the ones the kernel refused, with why."""
    failed = []
    for spec in _triggers(path):
        try:
            _append(path, "!" + spec)
        except OSError as e:
            if e.errno != errno.ENOENT:
                failed.append(f"{path}: {spec[:60]}: {e.strerror}")
    return failed


def _remove_instance(instance: Path) -> list[str]:
    """Clear an instance's triggers (synthetic first, then kvm_entry, kvm_exit) and rmdir it."""
    failed: list[str] = []
    synth = instance / "events" / "synthetic"
    with contextlib.suppress(OSError):
        for d in sorted(synth.iterdir()):
            failed += _clear_triggers(d / "trigger")
    for event in ("kvm_entry", "kvm_exit"):
        failed += _clear_triggers(instance / "events" / "kvm" / event / "trigger")
    try:
        instance.rmdir()
    except FileNotFoundError:
        pass
    except OSError as e:
        failed.append(f"rmdir {instance}: {e.strerror}")
    return failed


def _synthetic_names(tracing: Path) -> list[str]:
    try:
        text = (tracing / "synthetic_events").read_text(errors="replace")
    except OSError:
        return []
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def _remove_synthetic(tracing: Path, name: str) -> list[str]:
    if name not in _synthetic_names(tracing):
        return []
    try:
        _append(tracing / "synthetic_events", "!" + name)
    except OSError as e:
        return [f"synthetic event {name}: {e.strerror}"]
    return []


@dataclass(frozen=True, slots=True)
class StaleRemoval:
    """What `remove_stale` removed, and what the kernel would not let go."""

    instances: tuple[str, ...] = ()
    synthetic: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


def remove_stale(tracing: Path) -> StaleRemoval:
    """Remove instances and synthetic events of ours whose owner process is gone."""
    instances, synthetic, failed = [], [], []
    with contextlib.suppress(OSError):
        for inst in sorted((tracing / "instances").iterdir()):
            pid = owner_of(inst.name)
            if pid is None or not inst.name.startswith(INSTANCE_PREFIX) or _alive(pid):
                continue
            errors = _remove_instance(inst)
            failed += errors
            if not errors:
                instances.append(inst.name)
    for name in _synthetic_names(tracing):
        pid = owner_of(name)
        if pid is None or not name.startswith(SYNTH_PREFIX) or _alive(pid):
            continue
        errors = _remove_synthetic(tracing, name)
        failed += errors
        if not errors:
            synthetic.append(name)
    return StaleRemoval(tuple(instances), tuple(synthetic), tuple(failed))


_ACTIVE: set[TraceSetup] = set()
_LOCK = threading.Lock()
_SEQ = iter(range(1, 1 << 30))


def _remove_all_at_exit() -> None:
    for setup in list(_ACTIVE):
        with contextlib.suppress(Exception):
            setup.remove()


atexit.register(_remove_all_at_exit)


def pid_filter(tids: Iterable[int]) -> str:
    """`common_pid==1 || common_pid==2`; refuses an empty set (it would watch every thread)."""
    tids = sorted(set(tids))
    if not tids:
        raise ValueError("no thread ids to watch")
    return " || ".join(f"common_pid=={t}" for t in tids)


@dataclass(eq=False)
class TraceSetup:
    """The instance, synthetic event and triggers of one recording; `remove()` is idempotent."""

    tracing: Path
    tids: Sequence[int]
    owner: int = field(default_factory=os.getpid)
    name: str = ""
    synth: str = ""
    created: bool = False
    _synth_made: bool = False
    _instance_made: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            with _LOCK:
                n = next(_SEQ)
            suffix = "" if n == 1 else f"-{n}"
            self.name = f"{INSTANCE_PREFIX}{self.owner}{suffix}"
            self.synth = f"{SYNTH_PREFIX}{self.owner}{suffix.replace('-', '_')}"

    @property
    def instance(self) -> Path:
        return self.tracing / "instances" / self.name

    @property
    def hist_path(self) -> Path:
        return self.instance / "events" / "synthetic" / self.synth / "hist"

    def commands(self) -> list[tuple[Path, str]]:
        """The trigger lines, in the order they are written."""
        where = pid_filter(self.tids)
        events = self.instance / "events"
        return [
            (
                events / "kvm" / "kvm_exit" / "trigger",
                f"hist:keys=common_pid:ts0=common_timestamp.usecs,r=exit_reason if {where}",
            ),
            (
                events / "kvm" / "kvm_entry" / "trigger",
                "hist:keys=common_pid:lat=common_timestamp.usecs-$ts0,v=vcpu_id:"
                f"onmatch(kvm.kvm_exit).trace({self.synth},$lat,$r,$v) if {where}",
            ),
            (
                events / "synthetic" / self.synth / "trigger",
                f"hist:keys=vcpu,reason,lat.log2:vals=hitcount,lat:size={HIST_SIZE}",
            ),
        ]

    def create(self) -> None:
        """Set everything up; on failure removes what was made and raises `TracingError`."""
        with _LOCK:
            _ACTIVE.add(self)
        step = f"mkdir {self.instance}"
        try:
            self.instance.mkdir()
            self._instance_made = True
            step = f"synthetic event {self.synth}"
            _append(self.tracing / "synthetic_events", f"{self.synth} {SYNTH_FIELDS}")
            self._synth_made = True
            for path, line in self.commands():
                step = f"{path.relative_to(self.tracing)}: {line[:70]}"
                _append(path, line)
        except OSError as e:
            logged = _error_log_tail(self.tracing)
            self.remove()
            raise TracingError(
                f"tracefs refused {step}: {e.strerror}" + (f" (kernel: {logged})" if logged else "")
            ) from None
        self.created = True

    def read_hist(self) -> str:
        return self.hist_path.read_text(errors="replace")

    def remove(self) -> list[str]:
        """Remove the triggers, the instance and the synthetic event; what could not go."""
        failed: list[str] = []
        if self._instance_made:
            failed += _remove_instance(self.instance)
            if not self.instance.exists():
                self._instance_made = False
        if self._synth_made:
            errors = _remove_synthetic(self.tracing, self.synth)
            failed += errors
            if not errors:
                self._synth_made = False
        if not self._instance_made and not self._synth_made:
            with _LOCK:
                _ACTIVE.discard(self)
        return failed
