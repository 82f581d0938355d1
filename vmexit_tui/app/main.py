"""`vmexit-tui` without a subcommand: wire the real (or the demo) sources into the app."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmexit_tui.app.app_sources import AppSources, demo_sources
from vmexit_tui.formats import snapshots
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.host.paths import new_recording_folder


def snapshot_folder() -> Path:
    """Where snapshots go (`snapshots.default_folder()`, created 0700)."""
    return snapshots.default_folder()


def real_sources(folder: Path) -> AppSources:
    """psutil VM discovery, preflight problems, perf recordings in `<home>/recordings`."""
    from vmexit_tui.host.discovery import VmScanner
    from vmexit_tui.host.preflight import run_checks
    from vmexit_tui.recording.perf_record import PerfRecorder

    scanner = VmScanner()

    def make(vm: VmInfo) -> PerfRecorder:
        return PerfRecorder(vm, new_recording_folder(vm.name, vm.pid))

    return AppSources(
        scan_vms=scanner.scan,
        make_recorder=make,
        snapshot_folder=folder,
        problems=tuple(run_checks()),
        demo=lambda: demo_sources(folder),
    )


def build_app(args: argparse.Namespace):
    """The app for these command-line arguments (not yet running)."""
    from vmexit_tui.app.app import VmExitApp

    folder = snapshot_folder()
    sources = demo_sources(folder) if getattr(args, "demo", False) else real_sources(folder)
    return VmExitApp(sources)


def run_app(args: argparse.Namespace) -> int:
    """Run the TUI until the user quits; the exit status of the process."""
    if getattr(args, "fleet", None) or getattr(args, "fleet_file", None):
        from vmexit_tui.app.fleet_app import run_fleet

        return run_fleet(args)
    app = build_app(args)
    app.run()
    return app.return_code or 0
