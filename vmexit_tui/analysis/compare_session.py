"""What the compare pane compares, without Textual: its runs (by typed key), the baseline,
and the comparison made of them.

A run is named by a `RunKey`: the recording going on now (`LIVE`), an earlier recording of
this session, a built-in reference run, a snapshot file, or one run of a loaded comparison.
The live run has no fixed figures: `comparison(live=...)` is handed the current ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vmexit_tui.analysis.comparison import (
    MAX_RUNS,
    ComparedRun,
    Comparison,
    compare,
    pair_layout,
)
from vmexit_tui.analysis.model import Report
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats.numbers import run_label

DEFAULT_COMPARE = ("gp-rt-raw", "gp-rt-bind")


@dataclass(frozen=True, slots=True)
class LiveRun:
    """The recording going on now."""


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """An earlier recording of this session (its index in the app's list)."""

    index: int


@dataclass(frozen=True, slots=True)
class BuiltinRun:
    """A built-in reference run of the seed."""

    name: str


@dataclass(frozen=True, slots=True)
class SnapshotRun:
    """A saved snapshot: a run (`kind="run"`) or a whole comparison."""

    kind: str
    path: Path


@dataclass(frozen=True, slots=True)
class LoadedRun:
    """One run of a loaded comparison snapshot."""

    label: str


RunKey = LiveRun | RecordedRun | BuiltinRun | SnapshotRun | LoadedRun
LIVE = LiveRun()


def builtin_run(name: str, report: Report) -> ComparedRun:
    """A reference run as a compared run (pinning read from its name)."""
    pinning = "bind" if name.endswith("bind") else "raw"
    label = run_label(name)  # "GP-RT-RAW", as the CLI names it
    info = RunInfo(label=label, pinning=pinning, notes="built-in reference run of the seed")
    return ComparedRun(label=label, report=report, info=info)


@dataclass(frozen=True, slots=True)
class CompareResult:
    """What to show: the comparison (None with fewer than two runs), a note, or an error."""

    comparison: Comparison | None
    note: str = ""
    alone: str | None = None  # the label of a single run waiting for a second one
    error: str | None = None


class CompareSession:
    """The runs of the compare pane, in order, at most `MAX_RUNS`; one is the baseline."""

    def __init__(self) -> None:
        self.runs: list[tuple[RunKey, ComparedRun | None]] = []  # None: the live run
        self.baseline = 0
        self.loaded: Comparison | None = None  # a comparison snapshot shown as saved
        self.comparison: Comparison | None = None
        self.dirty = True

    @property
    def full(self) -> bool:
        return len(self.runs) >= MAX_RUNS

    @property
    def has_live(self) -> bool:
        return any(key == LIVE for key, _ in self.runs)

    def run_keys(self) -> list[RunKey]:
        return [key for key, _ in self.runs]

    def set(self, runs: list[tuple[RunKey, ComparedRun | None]], baseline: int = 0) -> None:
        self.runs = runs[:MAX_RUNS]
        self.baseline = baseline
        self.loaded = None
        self.dirty = True

    def add(self, key: RunKey, run: ComparedRun | None) -> None:
        """Add a run (again: it moves to the end); when full it replaces the last one."""
        runs = [] if self.loaded is not None else [(k, r) for k, r in self.runs if k != key]
        self.set([*runs[: MAX_RUNS - 1], (key, run)], self.baseline)

    def remove_last(self) -> None:
        if self.runs:
            self.set(self.runs[:-1], self.baseline)

    def cycle_baseline(self) -> None:
        if self.runs:
            self.set(self.runs, (self.baseline + 1) % len(self.runs))

    def show_loaded(self, comparison: Comparison) -> None:
        """Show a saved comparison as it was saved (its runs cannot be recomputed)."""
        self.runs = [(LoadedRun(r.label), r) for r in comparison.runs]
        self.loaded = self.comparison = comparison
        self.dirty = True

    def freeze_live(self, key: RunKey, run: ComparedRun) -> None:
        """The live recording ended: its entry becomes that finished run."""
        if self.has_live:
            self.set([(key, run) if k == LIVE else (k, r) for k, r in self.runs], self.baseline)

    def compared_runs(self, live: ComparedRun | None) -> list[ComparedRun]:
        out = []
        for key, run in self.runs:
            if run is None and key == LIVE:
                if live is not None:
                    out.append(live)
            elif run is not None:
                out.append(run)
        return out

    def recompute(self, live: ComparedRun | None = None) -> CompareResult:
        """The comparison of the runs now (with `live` for the live entry)."""
        self.dirty = False
        if self.loaded is not None:
            self.comparison = self.loaded
            return CompareResult(self.loaded, note="loaded snapshot")
        runs = self.compared_runs(live)
        if len(runs) < 2:
            self.comparison = None
            return CompareResult(None, alone=runs[0].label if runs else None)
        baseline = min(self.baseline, len(runs) - 1)
        pairs = pair_layout(runs) if len(runs) > 2 else None
        try:
            self.comparison = compare(runs, baseline, pairs=pairs)
        except ValueError as exc:
            self.comparison = None
            return CompareResult(None, error=str(exc))
        return CompareResult(self.comparison, note="RAW/BIND pairs" if pairs else "")
