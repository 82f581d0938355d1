"""Which recording mode this kernel allows, and why: kernel hist triggers, counting, perf record.

- ``kernel``: tracefs hist triggers and synthetic events keep per-thread, per-reason counts,
  the exit-to-entry time and its log2 histogram in the kernel; nothing is written to disk
  and nothing is done per exit in user space (`recording.kernel_hist`).
- ``count``: `perf stat -e kvm:kvm_exit` with one in-kernel filter per exit reason, like
  kvm_stat: counts only, no timings (`recording.perf_count`).
- ``perf``: `perf kvm stat record` in chunks: full timings, about 90 bytes on disk per exit
  (`recording.perf_record`).

`detect()` picks the best one the running kernel offers; `make_recorder` builds its source.
Everything reads a filesystem root given as a parameter, so each answer can be reproduced on
a fake tree.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.host.preflight import tracing_dir
from vmexit_tui.recording.protocol import Recorder

__all__ = [
    "SOURCES",
    "KernelFeatures",
    "Mode",
    "ModeChoice",
    "ModeUnavailable",
    "choose",
    "detect",
    "kernel_features",
    "make_recorder",
    "mode_note",
]


class Mode(StrEnum):
    KERNEL = "kernel"
    COUNT = "count"
    PERF = "perf"

    @property
    def title(self) -> str:  # type: ignore[override]
        """A short label for the status line."""
        return _TITLES[self]

    @property
    def has_timings(self) -> bool:
        return self is not Mode.COUNT


_TITLES = {
    Mode.KERNEL: "in-kernel hist triggers",
    Mode.COUNT: "perf counting (no timings)",
    Mode.PERF: "perf record",
}

SOURCES = ("auto", *(m.value for m in Mode))  # the values of `record --source`


class ModeUnavailable(RuntimeError):
    """The mode asked for cannot run on this kernel; the message says why."""


@dataclass(frozen=True, slots=True)
class ModeChoice:
    """The mode to record in and a human reason, e.g. for the status line."""

    mode: Mode
    why: str

    def __str__(self) -> str:
        return f"{self.mode}: {self.why}"


@dataclass(frozen=True, slots=True)
class KernelFeatures:
    """What the running kernel's tracefs offers for VM exits."""

    tracing: Path | None
    kvm_exit: bool  # the kvm:kvm_exit tracepoint
    kvm_entry: bool
    exit_reason_field: bool  # kvm_exit has an `exit_reason` field (per-reason perf filters)
    hist_triggers: bool  # CONFIG_HIST_TRIGGERS: events/*/*/hist files
    synthetic_events: bool  # CONFIG_SYNTH_EVENTS: tracing/synthetic_events
    instances: bool  # tracing/instances (private trace arrays)


def kernel_features(root: Path = Path("/")) -> KernelFeatures:
    """Read what tracefs under `root` offers (nothing is mounted or written)."""
    tracing = tracing_dir(root)
    if tracing is None:
        return KernelFeatures(None, False, False, False, False, False, False)
    kvm = tracing / "events" / "kvm"
    exit_dir = kvm / "kvm_exit"
    try:
        fmt = (exit_dir / "format").read_text(errors="replace")
    except OSError:
        fmt = ""
    return KernelFeatures(
        tracing=tracing,
        kvm_exit=exit_dir.is_dir(),
        kvm_entry=(kvm / "kvm_entry").is_dir(),
        exit_reason_field=" exit_reason;" in fmt,
        hist_triggers=(exit_dir / "hist").exists(),
        synthetic_events=(tracing / "synthetic_events").exists(),
        instances=(tracing / "instances").is_dir(),
    )


def _kernel_missing(f: KernelFeatures) -> str | None:
    """Why the kernel source cannot run here, or None."""
    if f.tracing is None:
        return "tracefs is not mounted"
    if not f.kvm_exit or not f.kvm_entry:
        return "this kernel has no kvm:kvm_exit/kvm_entry tracepoints"
    if not f.hist_triggers:
        return "this kernel has no hist triggers"
    if not f.synthetic_events:
        return "this kernel has hist triggers but no synthetic events"
    if not f.instances:
        return "this kernel's tracefs has no instances"
    return None


def _count_missing(f: KernelFeatures, perf: str, path: str | None) -> str | None:
    """Why the counting source cannot run here, or None."""
    if f.tracing is None:
        return "tracefs is not mounted"
    if not f.kvm_exit:
        return "this kernel has no kvm:kvm_exit tracepoint"
    if not f.exit_reason_field:
        return "kvm:kvm_exit has no exit_reason field to filter on"
    if shutil.which(perf, path=path) is None:
        return f"`{perf}` is not on PATH"
    return None


def detect(*, root: Path = Path("/"), perf: str = "perf", path: str | None = None) -> ModeChoice:
    """The best mode this kernel offers: hist triggers, else counting, else perf record."""
    f = kernel_features(root)
    no_kernel = _kernel_missing(f)
    if no_kernel is None:
        return ModeChoice(
            Mode.KERNEL,
            "hist triggers: counts and latency histograms kept in the kernel, nothing on disk",
        )
    no_count = _count_missing(f, perf, path)
    if no_count is None:
        return ModeChoice(Mode.COUNT, f"{no_kernel}: counting only, no timings")
    return ModeChoice(Mode.PERF, f"{no_kernel} and {no_count}: perf record")


def choose(
    source: str, *, root: Path = Path("/"), perf: str = "perf", path: str | None = None
) -> ModeChoice:
    """The mode for `record --source SOURCE` ("auto" or a `Mode`); `ModeUnavailable` if not here."""
    if source == "auto":
        return detect(root=root, perf=perf, path=path)
    try:
        mode = Mode(source)
    except ValueError:
        raise ModeUnavailable(
            f"unknown source {source!r}; expected one of {', '.join(SOURCES)}"
        ) from None
    f = kernel_features(root)
    if mode is Mode.KERNEL and (why := _kernel_missing(f)) is not None:
        raise ModeUnavailable(f"--source kernel: {why}; try --source auto")
    if mode is Mode.COUNT and (why := _count_missing(f, perf, path)) is not None:
        raise ModeUnavailable(f"--source count: {why}; try --source auto")
    return ModeChoice(mode, "chosen with --source")


def mode_note(choice: ModeChoice) -> str:
    """`perf counting (no timings): this kernel has no hist triggers: ...` for status lines."""
    return f"{choice.mode.title}: {choice.why}"


def make_recorder(
    mode: Mode | str,
    vm: VmInfo,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    interval_s: float = 1.0,
    events: Sequence[EventKind] = (EventKind.VMEXIT,),
    perf: str = "perf",
    **extra: Any,
) -> Recorder:
    """The recording source of `mode` for `vm`.

    `out_dir` is where perf record writes its chunks (required for ``perf``; the kernel and
    counting sources write nothing there). `extra` goes to the source's constructor.
    """
    if not vm.kvm:  # an emulated guest (QEMU -accel tcg): no KVM exits to record
        from vmexit_tui.host.discovery import not_kvm_reason

        raise ValueError(not_kvm_reason(vm))
    mode = Mode(mode)
    if mode is Mode.PERF:
        from dataclasses import replace

        from vmexit_tui.recording.perf_record import PerfRecorder

        if out_dir is None:
            from vmexit_tui.host.paths import new_recording_folder

            out_dir = new_recording_folder(vm.name, vm.pid)
        why = extra.pop("why", None)
        rec = PerfRecorder(vm, out_dir, interval_s=interval_s, events=events, perf=perf, **extra)
        rec.info = replace(rec.info, source_mode=str(mode), source_why=why)
        return rec
    if mode is Mode.KERNEL:
        from vmexit_tui.recording.kernel_hist import KernelHistRecorder

        return KernelHistRecorder(vm, interval_s=interval_s, **extra)
    from vmexit_tui.recording.perf_count import PerfCountRecorder

    return PerfCountRecorder(vm, interval_s=interval_s, perf=perf, **extra)
