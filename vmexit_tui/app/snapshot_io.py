"""Snapshot files off the app's loop: save a run or a comparison, list them, load one.

Thread workers on the App do the I/O; results come back as messages (`SnapshotSaved`,
`SnapshotsListed`, `SnapshotLoaded`, `SnapshotFailed`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual.app import App

from vmexit_tui.analysis.compare_session import SnapshotRun
from vmexit_tui.analysis.comparison import Comparison
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.run_context import RunContext
from vmexit_tui.app.messages import SnapshotFailed, SnapshotLoaded, SnapshotSaved, SnapshotsListed
from vmexit_tui.formats import snapshots
from vmexit_tui.host.paths import safe_name
from vmexit_tui.recording.session import RecordingSession


class SnapshotIO:
    """The snapshot folder as the app uses it; every call returns at once."""

    def __init__(self, app: App, folder: Path, clock: Callable[[], float]) -> None:
        self.app = app
        self.folder = folder
        self.clock = clock

    def _stamp(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))

    def save_comparison(self, comparison: Comparison, contexts: Sequence[RunContext] = ()) -> None:
        """`contexts`: each run's latency and audit, saved with it (or none)."""
        path = self.folder / f"comparison-{self._stamp()}{snapshots.SUFFIX}"
        self._save(
            path, "comparison", lambda: snapshots.save_comparison(path, comparison, contexts)
        )

    def save_run(self, session: RecordingSession, **extra: Any) -> None:
        """`extra`: more keyword arguments of `snapshots.save_run` (latency, audit)."""
        name = safe_name(session.info.vm_name or "", "run")
        path = self.folder / f"run-{name}-{self._stamp()}{snapshots.SUFFIX}"
        # The worker writes a copy: the recording keeps growing on the app's loop meanwhile.
        info, acc, duration_s = session.info, copy.deepcopy(session.acc), session.duration_s
        self._save(
            path,
            "run",
            lambda: snapshots.save_run(path, info, acc.totals, acc, duration_s=duration_s, **extra),
        )

    def _save(self, path: Path, what: str, save: Callable[[], Path]) -> None:
        def work() -> None:
            try:
                written = save()
                self.app.post_message(SnapshotSaved(Path(written), what))
            except (OSError, ValueError) as exc:
                self.app.post_message(SnapshotFailed(f"could not save {path}: {exc}"))

        self.app.run_worker(work, thread=True, group="snapshots", exit_on_error=False)

    def list(self) -> None:
        """List the readable snapshots (`SnapshotsListed`, also when listing failed)."""

        def work() -> None:
            found: list[tuple[SnapshotRun, str, str | None]] = []
            try:
                for entry in snapshots.list_snapshots(self.folder):
                    if entry.error is not None or entry.kind is None:  # listed, marked
                        error = entry.error or "not a snapshot of a run or a comparison"
                        found.append((SnapshotRun("bad", entry.path), entry.path.name, error))
                        continue
                    label = f"{entry.kind}: {entry.label} ({entry.path.name})"
                    found.append((SnapshotRun(entry.kind, entry.path), label, None))
            except OSError as exc:
                self.app.post_message(SnapshotFailed(f"Snapshots not listed: {exc}"))
            self.app.post_message(SnapshotsListed(tuple(found)))

        self.app.run_worker(work, thread=True, group="snapshots", exit_on_error=False)

    def load(self, key: SnapshotRun) -> None:
        def work() -> None:
            try:
                if key.kind == "comparison":
                    comparison, contexts = snapshots.load_comparison_with_contexts(key.path)
                    loaded = SnapshotLoaded(key, comparison=comparison, contexts=contexts)
                else:
                    saved = snapshots.load_run(key.path)
                    loaded = SnapshotLoaded(key, run=saved.compared(EventKind.VMEXIT))
            except KeyError as exc:
                self.app.post_message(SnapshotFailed(f"{key.path.name}: {exc.args[0]}"))
                return
            except (OSError, ValueError) as exc:
                self.app.post_message(SnapshotFailed(f"could not load {key.path}: {exc}"))
                return
            self.app.post_message(loaded)

        self.app.run_worker(work, thread=True, group="snapshots", exit_on_error=False)
