"""`vmexit-tui` without a subcommand: wire the real (or the demo) sources into the app."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmexit_tui.app.app_sources import AppSources, demo_sources
from vmexit_tui.formats import snapshots
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.host.paths import new_recording_folder
from vmexit_tui.recording.protocol import Recorder


def snapshot_folder() -> Path:
    """Where snapshots go (`snapshots.default_folder()`, created 0700)."""
    return snapshots.default_folder()


def real_sources(folder: Path, source: str = "auto") -> AppSources:
    """psutil VM discovery, preflight problems, recordings in the best mode the kernel offers
    (or `source`: kernel, count, perf); perf's chunks go to `<home>/recordings`."""
    from vmexit_tui.host.discovery import VmScanner
    from vmexit_tui.host.preflight import mode_problem, run_checks
    from vmexit_tui.recording import modes

    scanner = VmScanner()
    try:
        choice = modes.choose(source)
    except modes.ModeUnavailable as e:
        raise SystemExit(f"vmexit-tui: {e}") from None

    def make(vm: VmInfo) -> Recorder:
        out = new_recording_folder(vm.name, vm.pid) if choice.mode is modes.Mode.PERF else None
        return modes.make_recorder(choice.mode, vm, out_dir=out, why=choice.why)

    note = mode_problem(choice)
    return AppSources(
        scan_vms=lambda: scanner.scan(include_non_kvm=True),
        make_recorder=make,
        snapshot_folder=folder,
        problems=tuple(run_checks()) + ((note,) if note else ()),
        demo=lambda: demo_sources(folder),
    )


def build_app(args: argparse.Namespace):
    """The app for these command-line arguments (not yet running)."""
    from vmexit_tui.app.app import VmExitApp

    folder = snapshot_folder()
    if getattr(args, "demo", False):
        sources = demo_sources(folder)
    else:
        sources = real_sources(folder, getattr(args, "source", None) or "auto")
    with_latency(sources, args)
    return VmExitApp(sources)


def with_latency(sources: AppSources, args: argparse.Namespace) -> AppSources:
    """Add the cyclictest source (--latency-cmd / --latency-file, --spike-us) and, for real
    guests, the RT audit."""
    from vmexit_tui.host.audit import audit
    from vmexit_tui.recording.latency_feed import LatencySpec

    spec = LatencySpec(
        command=getattr(args, "latency_cmd", None),
        file=getattr(args, "latency_file", None),
        spike_us=getattr(args, "spike_us", None),
        nsecs=bool(getattr(args, "latency_ns", False)),
    )
    if spec.command or spec.file:
        sources.latency_chunks = spec.chunks
        sources.latency_label = spec.describe()
        sources.latency_nsecs = spec.in_ns
        sources.spike_us = spec.spike_us
    if not sources.simulated:
        sources.audit = lambda vm: audit([vm])
    return sources


def run_app(args: argparse.Namespace) -> int:
    """Run the TUI until the user quits; the exit status of the process."""
    if getattr(args, "fleet", None) or getattr(args, "fleet_file", None):
        from vmexit_tui.app.fleet_app import run_fleet

        return run_fleet(args)
    app = build_app(args)
    app.run()
    return app.return_code or 0
