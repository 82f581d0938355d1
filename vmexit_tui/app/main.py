"""`vmexit-tui` without a subcommand: wire the real (or the demo) sources into the app."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from vmexit_tui.app.sources import AppSources, demo_sources
from vmexit_tui.vms import VmInfo

RECORDINGS_SUBDIR = "recordings"


def snapshot_folder() -> Path:
    """Where snapshots go: `snapshots.default_folder()`, or ~/.local/share/vmexit-tui."""
    try:
        from vmexit_tui import snapshots

        return Path(snapshots.default_folder())
    except (ImportError, AttributeError):
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "vmexit-tui"


def real_sources(folder: Path) -> AppSources:
    """psutil VM discovery, preflight problems and perf recordings under `folder`."""
    from vmexit_tui.perf.session import PerfRecorder
    from vmexit_tui.preflight import run_checks
    from vmexit_tui.vms import VmScanner

    scanner = VmScanner()

    def make(vm: VmInfo) -> PerfRecorder:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in vm.name)
        return PerfRecorder(vm, folder / RECORDINGS_SUBDIR / f"{safe}-{vm.pid}-{stamp}")

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
    app = build_app(args)
    result = app.run()
    return int(result or 0)
