"""Saved runs and comparisons: one JSON file each, versioned, written atomically, mode 0600.

A snapshot holds host data (VM names, pids, host name, kernel), so it is created 0600 in a
0700 folder. Writing goes through a temporary file in the same folder and `os.replace`, so a
crash or a value that cannot be encoded never leaves a half-written file nor touches the one
already there. Loading checks every field and raises `SnapshotError` naming the file and
what is wrong (truncated JSON, wrong type, a newer schema version) without changing anything.

This module owns the files (the envelope, atomic writes, reading, the folder listing); the
bodies are encoded by `run_snapshot_json` and `comparison_snapshot_json`.

Layout (schema version 3; version 2 files, whose reports had their own shape, and version 1
files, without latency and audit, still load)::

    {"format": "vmexit-tui-snapshot", "schema_version": 3, "kind": "run" | "comparison",
     "saved": <unix time>, ...}
    run:        "run": {...} (`vmexit_tui.formats.run_snapshot_json`)
    comparison: "baseline", "pairs", "alpha", "tests", "runs", "rows", "findings"
                (`vmexit_tui.formats.comparison_snapshot_json`; a run's optional "latency"
                and "audit" keys are additions within version 3)
    report:     the shape of `report --json` (`vmexit_tui.formats.report_json`, since
                version 3)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmexit_tui.analysis.comparison import Comparison
from vmexit_tui.analysis.latency import LatencyInterval, LatencySummary
from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.run_context import RunContext
from vmexit_tui.analysis.running import Marker, RunAccumulator, RunInfo
from vmexit_tui.formats.comparison_snapshot_json import (
    comparison_from_json,
    comparison_to_json,
    contexts_from_json,
)
from vmexit_tui.formats.json_checks import DocumentError, get, obj
from vmexit_tui.formats.run_snapshot_json import SavedRun, Series, run_from_json, run_to_json
from vmexit_tui.host.audit import AuditCheck
from vmexit_tui.host.paths import home_folder, private_folder

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "SUFFIX",
    "SavedRun",
    "Series",
    "SnapshotEntry",
    "SnapshotError",
    "default_folder",
    "list_snapshots",
    "load_comparison",
    "load_comparison_contexts",
    "load_comparison_with_contexts",
    "load_run",
    "save_comparison",
    "save_run",
]

SCHEMA_VERSION = 3
FORMAT = "vmexit-tui-snapshot"
SUFFIX = ".json"


class SnapshotError(ValueError):
    """A snapshot that cannot be read or written: which file, and what is wrong."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """One file of a snapshot folder; `error` is set (and `kind` is None) when it is unreadable."""

    path: Path
    kind: str | None
    labels: tuple[str, ...]
    saved: float | None
    error: str | None = None

    @property
    def label(self) -> str:
        return " vs ".join(self.labels)


def default_folder() -> Path:
    """The snapshot folder, ``<home>/snapshots`` (see `vmexit_tui.host.paths`), created 0700."""
    private_folder(home_folder())  # an existing home is left as it is
    return private_folder(home_folder() / "snapshots")


def _header(kind: str) -> dict[str, Any]:
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "kind": kind, "saved": time.time()}


def save_run(
    path: Path | str,
    info: RunInfo,
    totals: Mapping[EventKind, Report],
    series: RunAccumulator | None = None,
    markers: Iterable[Marker] | None = None,
    *,
    duration_s: float | None = None,
    latency: LatencySummary | None = None,
    latency_intervals: Iterable[LatencyInterval] = (),
    audit: Iterable[AuditCheck] = (),
) -> Path:
    """Save one run; markers default to the accumulator's, the duration to start..stop.
    With cyclictest latency (summary and intervals) and the RT audit when given."""
    doc = _header("run")
    doc["run"] = run_to_json(
        info,
        totals,
        series,
        markers,
        duration_s=duration_s,
        latency=latency,
        latency_intervals=latency_intervals,
        audit=audit,
    )
    return _write_atomic(path, doc)


def save_comparison(
    path: Path | str, comparison: Comparison, contexts: Sequence[RunContext] = ()
) -> Path:
    """Save a comparison: its runs in full (with each run's latency and audit, when
    `contexts` has them), its rows and its findings."""
    doc = _header("comparison")
    doc.update(comparison_to_json(comparison, contexts))
    return _write_atomic(path, doc)


def _write_atomic(path: Path | str, doc: dict[str, Any]) -> Path:
    path = Path(path)
    try:
        text = json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise SnapshotError(path, f"cannot be saved, a value is not representable: {exc}") from None
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not possible everywhere
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def _read(path: Path | str, kind: str) -> dict:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(path, "no such file") from None
    except OSError as exc:
        raise SnapshotError(path, f"cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise SnapshotError(path, "the file is empty; it is not a snapshot")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SnapshotError(path, "not UTF-8 text; it is not a snapshot") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            path,
            f"not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); "
            "the file is truncated or corrupt",
        ) from None
    try:
        doc = obj(doc, "the top level")
        if doc.get("format") != FORMAT:
            raise DocumentError(f'not a vmexit-tui snapshot (expected "format": "{FORMAT}")')
        version = get(doc, "schema_version", int, "the top level")
        if version > SCHEMA_VERSION:
            raise DocumentError(
                f"written by a newer vmexit-tui (schema version {version}; this one reads up "
                f"to {SCHEMA_VERSION}): upgrade vmexit-tui to open it"
            )
        if version < 1:
            raise DocumentError(f"invalid schema version {version}")
        found = get(doc, "kind", str, "the top level")
        if found != kind:
            raise DocumentError(f"a {found} snapshot, expected a {kind} snapshot")
        get(doc, "saved", float, "the top level", optional=True)
    except DocumentError as exc:
        raise SnapshotError(path, str(exc)) from None
    return doc


def load_run(path: Path | str) -> SavedRun:
    """A run snapshot; `SnapshotError` names the file and the problem."""
    doc = _read(path, "run")
    try:
        return run_from_json(doc.get("run"), saved=doc.get("saved"))
    except DocumentError as exc:
        raise SnapshotError(path, str(exc)) from None


def load_comparison(path: Path | str) -> Comparison:
    """A comparison snapshot, rows and findings as saved (not recomputed)."""
    doc = _read(path, "comparison")
    try:
        return comparison_from_json(doc)
    except DocumentError as exc:
        raise SnapshotError(path, str(exc)) from None


def load_comparison_contexts(path: Path | str) -> tuple[RunContext, ...]:
    """The latency and audit of each run of a comparison snapshot (empty where none)."""
    doc = _read(path, "comparison")
    try:
        return contexts_from_json(doc)
    except DocumentError as exc:
        raise SnapshotError(path, str(exc)) from None


def load_comparison_with_contexts(
    path: Path | str,
) -> tuple[Comparison, tuple[RunContext, ...]]:
    """Both of the above from one read of the file (the compare pane shows both)."""
    doc = _read(path, "comparison")
    try:
        return comparison_from_json(doc), contexts_from_json(doc)
    except DocumentError as exc:
        raise SnapshotError(path, str(exc)) from None


def list_snapshots(folder: Path | str | None = None) -> list[SnapshotEntry]:
    """Every ``*.json`` in `folder` (default: `default_folder()`), newest first.

    Unreadable files are listed with their error instead of raising.
    """
    folder = Path(folder) if folder is not None else default_folder()
    entries: list[SnapshotEntry] = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue  # a temporary file of a save in progress
        try:
            kind = _peek_kind(path)
            if kind == "comparison":
                c = load_comparison(path)
                labels = tuple(r.label for r in c.runs)
                saved = _saved(path)
            else:
                r = load_run(path)
                labels, saved = (r.info.label,), r.saved
            entries.append(SnapshotEntry(path, kind, labels, saved))
        except SnapshotError as exc:
            entries.append(SnapshotEntry(path, None, (), None, exc.problem))
    entries.sort(key=lambda e: (e.error is not None, -(e.saved or 0.0), e.path.name))
    return entries


def _peek_kind(path: Path) -> str:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return "run"  # let load_run report the precise problem
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return "comparison" if kind == "comparison" else "run"


def _saved(path: Path) -> float | None:
    doc = json.loads(path.read_text("utf-8"))
    saved = doc.get("saved")
    return float(saved) if isinstance(saved, (int, float)) else None
