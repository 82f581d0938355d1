"""Saved runs and comparisons: one JSON file each, versioned, written atomically, mode 0600.

A snapshot holds host data (VM names, pids, host name, kernel), so it is created 0600 in a
0700 folder. Writing goes through a temporary file in the same folder and `os.replace`, so a
crash or a value that cannot be encoded never leaves a half-written file nor touches the one
already there. Loading checks every field and raises `SnapshotError` naming the file and
what is wrong (truncated JSON, wrong type, a newer schema version) without changing anything.

Layout (schema version 3; version 2 files, whose reports had their own shape, and version 1
files, without latency and audit, still load)::

    {"format": "vmexit-tui-snapshot", "schema_version": 3, "kind": "run" | "comparison",
     "saved": <unix time>, ...}
    run:        "run": {"info": {...RunInfo}, "duration_s", "totals": {kind: report},
                        "series": {kind: {reason: [[start, end, count, mean_us], ...]}},
                        "markers": [{"time", "label"}],
                        "latency": null | {...} and "audit": [...] (since version 2, see
                        `vmexit_tui.formats.run_context_json`)}
    comparison: "baseline", "pairs", "alpha", "tests",
                "runs": [{"label", "duration_s", "info", "report"}], "rows", "findings"
    report:     the shape of `report --json` (`vmexit_tui.formats.report_json`, since
                version 3)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmexit_tui.analysis.comparison import ComparedRun, Comparison, ComparisonRow, RunCell
from vmexit_tui.analysis.findings import METRICS, Finding, find_differences
from vmexit_tui.analysis.latency import LatencyInterval, LatencySummary
from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import Marker, RunAccumulator, RunInfo, SeriesPoint
from vmexit_tui.formats import report_json, run_context_json
from vmexit_tui.host.audit import AuditCheck
from vmexit_tui.host.paths import home_folder, private_folder

SCHEMA_VERSION = 3
FORMAT = "vmexit-tui-snapshot"
SUFFIX = ".json"

Series = dict[EventKind, dict[str, tuple[SeriesPoint, ...]]]


class SnapshotError(ValueError):
    """A snapshot that cannot be read or written: which file, and what is wrong."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class _Bad(Exception):
    """Internal: a problem inside the document, before the file name is attached."""


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A run as loaded from a snapshot."""

    info: RunInfo
    totals: dict[EventKind, Report]
    series: Series
    markers: tuple[Marker, ...]
    duration_s: float | None
    saved: float | None = None
    latency: LatencySummary | None = None
    latency_intervals: tuple[LatencyInterval, ...] = ()
    audit: tuple[AuditCheck, ...] = ()

    def compared(self, kind: EventKind = EventKind.VMEXIT) -> ComparedRun:
        """This run as a `ComparedRun` of one event kind."""
        if kind not in self.totals:
            have = ", ".join(k.value for k in self.totals) or "none"
            raise KeyError(f"run {self.info.label!r} has no {kind.value} totals (has: {have})")
        return ComparedRun(self.info.label, self.totals[kind], self.duration_s, self.info)


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


# --- encoding ----------------------------------------------------------------------------


def _report_json(report: Report) -> dict[str, Any]:
    return report_json.report_to_json(report)


def _header(kind: str) -> dict[str, Any]:
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "kind": kind, "saved": time.time()}


def _duration(info: RunInfo, acc: RunAccumulator | None) -> float | None:
    if info.started is not None and info.stopped is not None:
        return max(info.stopped - info.started, 0.0)
    if acc is not None and acc.first_start is not None and acc.last is not None:
        return max(acc.last.end - acc.first_start, 0.0)
    return None


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
    if markers is None:
        markers = series.markers if series is not None else ()
    points = (
        {
            kind.value: {
                reason: [[p.start, p.end, p.count, p.mean_us] for p in s.points]
                for reason, s in by_reason.items()
            }
            for kind, by_reason in series.series.items()
        }
        if series is not None
        else {}
    )
    doc = _header("run")
    doc["run"] = {
        "info": dataclasses.asdict(info),
        "duration_s": duration_s if duration_s is not None else _duration(info, series),
        "totals": {EventKind(k).value: _report_json(r) for k, r in totals.items()},
        "series": points,
        "markers": [{"time": m.time, "label": m.label} for m in markers],
        "latency": run_context_json.latency_to_json(latency, latency_intervals)
        if latency is not None
        else None,
        "audit": run_context_json.audit_to_json(audit),
    }
    return _write_atomic(path, doc)


def _run_json(run: ComparedRun) -> dict[str, Any]:
    return {
        "label": run.label,
        "duration_s": run.duration_s,
        "info": dataclasses.asdict(run.info) if run.info is not None else None,
        "report": _report_json(run.report),
    }


def save_comparison(path: Path | str, comparison: Comparison) -> Path:
    """Save a comparison: its runs in full, its rows and its findings."""
    doc = _header("comparison")
    doc.update(
        baseline=comparison.baseline,
        pairs=[list(p) for p in comparison.pairs],
        alpha=comparison.alpha,
        tests=comparison.tests,
        runs=[_run_json(r) for r in comparison.runs],
        rows=[
            {
                "reason": row.reason,
                "cells": [dataclasses.asdict(c) if c is not None else None for c in row.cells],
                "share_delta": list(row.share_delta),
                "mean_delta_pct": list(row.mean_delta_pct),
                "samples_delta_pct": list(row.samples_delta_pct),
            }
            for row in comparison.rows
        ],
        findings=[f.to_json() for f in comparison.findings],
    )
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


# --- decoding ----------------------------------------------------------------------------

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _check(value: Any, kind: type, where: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    ok = (
        isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is float
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, kind)
    )
    if not ok:
        shown = json.dumps(value)[:40]
        expected = _TYPE_NAMES.get(kind, kind.__name__) + (" or null" if optional else "")
        raise _Bad(f"{where}: expected {expected}, found {shown}")
    return float(value) if kind is float else value


def _get(data: dict, key: str, kind: type, where: str, *, optional: bool = False) -> Any:
    if key not in data:
        raise _Bad(f"{where}: missing key {key!r}")
    return _check(data[key], kind, f"{where}.{key}", optional=optional)


def _obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object, found {json.dumps(value)[:40]}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise _Bad(f"{where}: expected a list, found {json.dumps(value)[:40]}")
    return value


def _scalar_fields(cls: type, data: Any, where: str) -> dict[str, Any]:
    """The fields of a dataclass of scalars (`str`, `int`, `float`, `bool`, `X | None`)."""
    data = _obj(data, where)
    out = {}
    for f in dataclasses.fields(cls):
        spec = str(f.type)
        base = spec.split("|")[0].strip()
        kind = {"str": str, "int": int, "float": float, "bool": bool}.get(base)
        if kind is None:
            continue  # not a scalar: the caller reads it
        optional = "None" in spec
        has_default = f.default is not dataclasses.MISSING
        if f.name not in data and has_default:
            continue  # written before the field existed
        out[f.name] = _get(data, f.name, kind, where, optional=optional)
    return out


def _event(value: Any, where: str) -> EventKind:
    try:
        return EventKind(value)
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise _Bad(f"{where}: unknown event kind {value!r}; expected one of {known}") from None


def _report(data: Any, where: str) -> Report:
    try:
        return report_json.report_from_json(data, where)
    except report_json.ReportJsonError as e:
        raise _Bad(str(e)) from None


def _info(data: Any, where: str) -> RunInfo:
    return RunInfo(**_scalar_fields(RunInfo, data, where))


def _series(data: Any, where: str) -> Series:
    out: Series = {}
    for kind, by_reason in _obj(data, where).items():
        w = f"{where}.{kind}"
        reasons: dict[str, tuple[SeriesPoint, ...]] = {}
        for reason, points in _obj(by_reason, w).items():
            pts = []
            for i, p in enumerate(_list(points, f"{w}.{reason}")):
                pw = f"{w}.{reason}[{i}]"
                if not isinstance(p, list) or len(p) != 4:
                    raise _Bad(f"{pw}: expected [start, end, count, mean_us]")
                pts.append(
                    SeriesPoint(
                        _check(p[0], float, pw + "[0]"),
                        _check(p[1], float, pw + "[1]"),
                        _check(p[2], int, pw + "[2]"),
                        _check(p[3], float, pw + "[3]", optional=True),
                    )
                )
            reasons[reason] = tuple(pts)
        out[_event(kind, w)] = reasons
    return out


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
        doc = _obj(doc, "the top level")
        if doc.get("format") != FORMAT:
            raise _Bad(f'not a vmexit-tui snapshot (expected "format": "{FORMAT}")')
        version = _get(doc, "schema_version", int, "the top level")
        if version > SCHEMA_VERSION:
            raise _Bad(
                f"written by a newer vmexit-tui (schema version {version}; this one reads up "
                f"to {SCHEMA_VERSION}): upgrade vmexit-tui to open it"
            )
        if version < 1:
            raise _Bad(f"invalid schema version {version}")
        found = _get(doc, "kind", str, "the top level")
        if found != kind:
            raise _Bad(f"a {found} snapshot, expected a {kind} snapshot")
        _get(doc, "saved", float, "the top level", optional=True)
    except _Bad as exc:
        raise SnapshotError(path, str(exc)) from None
    return doc


def load_run(path: Path | str) -> SavedRun:
    """A run snapshot; `SnapshotError` names the file and the problem."""
    doc = _read(path, "run")
    try:
        run = _obj(doc.get("run"), "run")
        totals = {
            _event(k, f"run.totals.{k}"): _report(v, f"run.totals.{k}")
            for k, v in _obj(run.get("totals"), "run.totals").items()
        }
        markers = tuple(
            Marker(
                _get(_obj(m, f"run.markers[{i}]"), "time", float, f"run.markers[{i}]"),
                _get(m, "label", str, f"run.markers[{i}]"),
            )
            for i, m in enumerate(_list(run.get("markers"), "run.markers"))
        )
        try:  # both absent from version 1 files
            latency, intervals = (
                run_context_json.latency_from_json(run["latency"], "run.latency")
                if run.get("latency") is not None
                else (None, ())
            )
            audit = run_context_json.audit_from_json(run.get("audit", []), "run.audit")
        except ValueError as exc:
            raise _Bad(str(exc)) from None
        return SavedRun(
            info=_info(run.get("info"), "run.info"),
            totals=totals,
            series=_series(run.get("series"), "run.series"),
            markers=markers,
            duration_s=_get(run, "duration_s", float, "run", optional=True),
            saved=doc.get("saved"),
            latency=latency,
            latency_intervals=intervals,
            audit=audit,
        )
    except _Bad as exc:
        raise SnapshotError(path, str(exc)) from None


def _pair(value: Any, kind: type, where: str) -> tuple:
    items = _list(value, where)
    if len(items) != 2:
        raise _Bad(f"{where}: expected two items, found {len(items)}")
    return tuple(_check(v, kind, f"{where}[{i}]") for i, v in enumerate(items))


def _floats(value: Any, count: int, where: str) -> tuple[float | None, ...]:
    items = _list(value, where)
    if len(items) != count:
        raise _Bad(f"{where}: expected {count} values (one per run), found {len(items)}")
    return tuple(_check(v, float, f"{where}[{i}]", optional=True) for i, v in enumerate(items))


def _finding(data: Any, where: str) -> Finding:
    data = _obj(data, where)
    for key in ("reason", "metric", "direction", "text"):
        _get(data, key, str, where)
    for key in ("baseline_value", "value", "p_value"):
        _get(data, key, float, where)
    _get(data, "conservative", bool, where)
    if data["metric"] not in METRICS:
        raise _Bad(f"{where}.metric: expected one of {', '.join(METRICS)}")
    if data["direction"] not in ("up", "down"):
        raise _Bad(f"{where}.direction: expected up or down")
    _pair(data.get("pair"), int, f"{where}.pair")
    _pair(data.get("labels"), str, f"{where}.labels")
    return Finding.from_json(data)


def load_comparison(path: Path | str) -> Comparison:
    """A comparison snapshot, rows and findings as saved (not recomputed)."""
    doc = _read(path, "comparison")
    try:
        runs = []
        for i, r in enumerate(_list(doc.get("runs"), "runs")):
            w = f"runs[{i}]"
            r = _obj(r, w)
            info = r.get("info")
            runs.append(
                ComparedRun(
                    label=_get(r, "label", str, w),
                    report=_report(r.get("report"), f"{w}.report"),
                    duration_s=_get(r, "duration_s", float, w, optional=True),
                    info=None if info is None else _info(info, f"{w}.info"),
                )
            )
        n = len(runs)
        if not 2 <= n <= 4:
            raise _Bad(f"runs: expected 2 to 4 runs, found {n}")
        rows = []
        for i, row in enumerate(_list(doc.get("rows"), "rows")):
            w = f"rows[{i}]"
            row = _obj(row, w)
            cells = _list(row.get("cells"), f"{w}.cells")
            if len(cells) != n:
                raise _Bad(f"{w}.cells: expected {n} cells (one per run), found {len(cells)}")
            rows.append(
                ComparisonRow(
                    reason=_get(row, "reason", str, w),
                    cells=tuple(
                        None
                        if c is None
                        else RunCell(**_scalar_fields(RunCell, c, f"{w}.cells[{j}]"))
                        for j, c in enumerate(cells)
                    ),
                    share_delta=_floats(row.get("share_delta"), n, f"{w}.share_delta"),
                    mean_delta_pct=_floats(row.get("mean_delta_pct"), n, f"{w}.mean_delta_pct"),
                    samples_delta_pct=_floats(
                        row.get("samples_delta_pct"), n, f"{w}.samples_delta_pct"
                    ),
                )
            )
        baseline = _get(doc, "baseline", int, "the top level")
        pairs = tuple(
            _pair(p, int, f"pairs[{i}]") for i, p in enumerate(_list(doc.get("pairs"), "pairs"))
        )
        for index in (baseline, *(i for p in pairs for i in p)):
            if not 0 <= index < n:
                raise _Bad(f"run index {index} out of range for {n} runs")
        return Comparison(
            runs=tuple(runs),
            baseline=baseline,
            rows=tuple(rows),
            findings=tuple(
                _finding(f, f"findings[{i}]")
                for i, f in enumerate(_list(doc.get("findings"), "findings"))
            ),
            pairs=pairs,  # type: ignore[arg-type]
            alpha=_get(doc, "alpha", float, "the top level"),
            tests=_get(doc, "tests", int, "the top level"),
            differences=find_differences(runs, pairs),  # descriptive: derived, not saved
        )
    except _Bad as exc:
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
