"""The compare pane's runs as the App fills them: the picker, snapshots, automatic pairs.

`CompareRuns` is mixed into the App: it turns typed run keys into runs (the live
recording, an earlier one, a built-in reference run, a snapshot file) and hands them to
the pane's `CompareSession`; the pane draws them.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from vmexit_tui.analysis.compare_session import (
    LIVE,
    BuiltinRun,
    CompareSession,
    LoadedRun,
    RecordedRun,
    RunKey,
    SnapshotRun,
    builtin_run,
)
from vmexit_tui.analysis.comparison import ComparedRun
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.app import format as fmt
from vmexit_tui.app.app_sources import AppSources
from vmexit_tui.app.messages import SnapshotFailed, SnapshotLoaded, SnapshotSaved, SnapshotsListed
from vmexit_tui.app.screens.run_picker import PickerEntry, RunPicker
from vmexit_tui.app.snapshot_io import SnapshotIO
from vmexit_tui.app.widgets.compare_pane import ComparePane
from vmexit_tui.formats.numbers import run_label
from vmexit_tui.recording.session import RecordingSession


class CompareRuns(App[int]):
    """Compare-pane and snapshot actions of the App (o, x, b, w)."""

    sources: AppSources
    sessions: list[RecordingSession]
    current: RecordingSession | None
    compare_pane: ComparePane
    snapshots: SnapshotIO

    @property
    def compare(self) -> CompareSession:
        return self.compare_pane.session

    @property
    def recording(self) -> bool:
        return self.current is not None and self.current.running

    @property
    def tab(self) -> str:
        raise NotImplementedError

    def action_show_tab(self, tab: str) -> None:
        raise NotImplementedError

    def _compared(self, session: RecordingSession) -> ComparedRun:
        acc = session.acc
        return ComparedRun(
            session.label, acc.total(EventKind.VMEXIT), session.duration_s, session.info
        )

    def _auto_pair(self, session: RecordingSession) -> None:
        """Bind versus raw of the same VM: compare them as soon as both were recorded."""
        if not session.acc.intervals:
            return
        for other in reversed(self.sessions[:-1]):
            if (
                other is not session
                and other.info.vm_name == session.info.vm_name
                and other.acc.intervals
                and other.info.pinning != session.info.pinning
            ):
                pair = sorted((other, session), key=lambda s: s.info.pinning != "raw")
                self.compare.set(
                    [(RecordedRun(self.sessions.index(s)), self._compared(s)) for s in pair]
                )
                self.compare_pane.changed()
                self.notify(f"Comparing {pair[0].label} with {pair[1].label}")
                return

    def run_for(self, key: RunKey) -> ComparedRun | None:
        """The figures of a run named by `key` (None: the live run, or a file to load)."""
        if isinstance(key, RecordedRun):
            return self._compared(self.sessions[key.index])
        if isinstance(key, BuiltinRun):
            return builtin_run(key.name, self.sources.reference_runs()[key.name])
        return None

    def add_run(self, key: RunKey, run: ComparedRun | None = None) -> None:
        """Put a run into the compare pane and show it; snapshot files are loaded first."""
        if isinstance(key, SnapshotRun) and run is None:
            self.snapshots.load(key)
            return
        self.compare.add(key, run if run is not None else self.run_for(key))
        self.compare_pane.changed()
        self.action_show_tab("compare")

    def action_open_run(self) -> None:
        self.snapshots.list()

    def on_snapshots_listed(self, message: SnapshotsListed) -> None:
        choices: list[tuple[RunKey, str, str]] = []
        if self.recording and self.current is not None:
            choices.append((LIVE, f"{self.current.label} (recording now)", "This recording"))
        for i, s in enumerate(self.sessions):
            if not s.running and s.acc.intervals:
                sim = " (simulated)" if s.info.simulated else ""
                choices.append((RecordedRun(i), f"{s.label}{sim}", "Earlier recordings"))
        for name in self.sources.reference_runs():
            choices.append((BuiltinRun(name), run_label(name), "Built-in reference runs"))
        choices.extend((key, label, "Snapshots") for key, label, _ in message.snapshots)
        errors: dict[RunKey, str | None] = {k: error for k, _, error in message.snapshots}
        keys = {picker_id(key): key for key, _, _ in choices}
        entries = [
            PickerEntry(picker_id(k), label, group, error=errors.get(k))
            for k, label, group in choices
        ]
        full = " (full: replaces the last)" if self.compare.full else ""
        self.push_screen(
            RunPicker(entries, title=f"Add a run to the compare pane{full}"),
            lambda picked: self.add_run(keys[picked]) if picked is not None else None,
        )

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        if message.comparison is not None:
            self.compare.show_loaded(message.comparison)
            self.compare_pane.changed()
            self.action_show_tab("compare")
        elif message.run is not None:
            self.add_run(message.key, message.run)

    def action_remove_run(self) -> None:
        self.compare.remove_last()
        self.compare_pane.changed()

    def action_cycle_baseline(self) -> None:
        self.compare.cycle_baseline()
        self.compare_pane.changed()

    def on_compare_pane_failed(self, message: ComparePane.Failed) -> None:
        self.notify(message.error, severity="error")

    # ----------------------------------------------------------------- snapshots
    def action_save_snapshot(self) -> None:
        if self.tab == "compare":
            if self.compare_pane.comparison is None:
                self.notify("Nothing to save: the pane needs two runs.", severity="warning")
            else:
                comparison = self.compare_pane.comparison
                self.snapshots.save_comparison(comparison, self._rt_contexts(comparison))
        elif self.current is None or not self.current.acc.intervals:
            self.notify("Nothing to save yet: record a VM first.", severity="warning")
        else:
            self.snapshots.save_run(self.current, **self._rt_snapshot_args(self.current))

    def _rt_snapshot_args(self, rec: Any) -> dict[str, Any]:
        """What a run snapshot carries besides the run (the latency mixin adds its part)."""
        return {}

    def _rt_contexts(self, comparison: Any) -> list[Any]:
        """Each compared run's latency and audit (the latency mixin knows them)."""
        return []

    def on_snapshot_saved(self, message: SnapshotSaved) -> None:
        self.notify(fmt.saved_message(message.what, message.path, self.size.width))

    def on_snapshot_failed(self, message: SnapshotFailed) -> None:
        self.notify(message.error, severity="error", timeout=10)


def picker_id(key: RunKey) -> str:
    """A run key as an option id of the picker (looked up, never parsed back)."""
    if isinstance(key, RecordedRun):
        return f"rec:{key.index}"
    if isinstance(key, BuiltinRun):
        return f"builtin:{key.name}"
    if isinstance(key, SnapshotRun):
        return f"snap:{key.kind}:{key.path}"
    if isinstance(key, LoadedRun):
        return f"loaded:{key.label}"
    return "live"
