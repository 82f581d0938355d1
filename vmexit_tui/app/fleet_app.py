"""`vmexit-tui --fleet URL...`: the fleet screen as an app of its own."""

from __future__ import annotations

import argparse
import sys

from textual.app import App

from vmexit_tui.app.screens.fleet_screen import FleetScreen
from vmexit_tui.exporter.fleet import FleetInputError, FleetTracker, read_targets


class FleetApp(App[None]):
    """Hosts × guests from several `vmexit-tui serve` exporters."""

    TITLE = "vmexit-tui fleet"

    def __init__(self, tracker: FleetTracker, interval_s: float = 5.0) -> None:
        super().__init__()
        self.tracker = tracker
        self.interval_s = interval_s

    def on_mount(self) -> None:
        self.push_screen(FleetScreen(self.tracker, self.interval_s))


def run_fleet(args: argparse.Namespace) -> int:
    """Check the URLs (one-line errors), then run the fleet app."""
    try:
        urls = read_targets(args.fleet or [], [args.fleet_file] if args.fleet_file else [])
        if args.fleet_interval <= 0:
            raise FleetInputError("--fleet-interval must be > 0 seconds")
    except FleetInputError as exc:
        print(f"vmexit-tui: {exc}", file=sys.stderr)
        return 2
    FleetApp(FleetTracker(urls), args.fleet_interval).run()
    return 0
