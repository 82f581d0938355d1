"""The body of a comparison snapshot: a `Comparison` to JSON and back, no file I/O::

    "baseline", "pairs", "alpha", "tests",
    "runs": [{"label", "duration_s", "info", "report", "latency"?, "audit"?}], "rows", "findings"

Rows and findings are stored as computed and read back as saved (not recomputed); the
descriptive differences are derived again on load. A run's cyclictest latency summary and
RT audit (`run_context_json`'s encoding) are there when the comparison was saved with them;
older files have neither and still load.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from vmexit_tui.analysis.comparison import ComparedRun, Comparison, ComparisonRow, RunCell
from vmexit_tui.analysis.findings import METRICS, Finding, find_differences
from vmexit_tui.analysis.run_context import RunContext
from vmexit_tui.formats import report_json, run_context_json
from vmexit_tui.formats.json_checks import DocumentError, check, get, items, obj
from vmexit_tui.formats.snapshot_fields import run_info, scalar_fields


def _run_json(run: ComparedRun, context: RunContext | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "label": run.label,
        "duration_s": run.duration_s,
        "info": dataclasses.asdict(run.info) if run.info is not None else None,
        "report": report_json.report_to_json(run.report),
    }
    if context is not None and context.latency is not None:
        doc["latency"] = run_context_json.latency_to_json(context.latency)
    if context is not None and context.audit:
        doc["audit"] = run_context_json.audit_to_json(context.audit)
    return doc


def comparison_to_json(
    comparison: Comparison, contexts: Sequence[RunContext] = ()
) -> dict[str, Any]:
    """The comparison's keys of the snapshot document: its runs in full (with their latency
    and audit from `contexts`, one per run, when given), rows and findings."""
    if contexts and len(contexts) != len(comparison.runs):
        raise ValueError(f"{len(contexts)} run contexts for {len(comparison.runs)} runs")
    per_run: list[RunContext | None] = list(contexts) or [None] * len(comparison.runs)
    return {
        "baseline": comparison.baseline,
        "pairs": [list(p) for p in comparison.pairs],
        "alpha": comparison.alpha,
        "tests": comparison.tests,
        "runs": [_run_json(r, c) for r, c in zip(comparison.runs, per_run, strict=True)],
        "rows": [
            {
                "reason": row.reason,
                "cells": [dataclasses.asdict(c) if c is not None else None for c in row.cells],
                "share_delta": list(row.share_delta),
                "mean_delta_pct": list(row.mean_delta_pct),
                "samples_delta_pct": list(row.samples_delta_pct),
            }
            for row in comparison.rows
        ],
        "findings": [f.to_json() for f in comparison.findings],
    }


def _pair(value: Any, kind: type, where: str) -> tuple:
    values = items(value, where)
    if len(values) != 2:
        raise DocumentError(f"{where}: expected two items, found {len(values)}")
    return tuple(check(v, kind, f"{where}[{i}]") for i, v in enumerate(values))


def _floats(value: Any, count: int, where: str) -> tuple[float | None, ...]:
    values = items(value, where)
    if len(values) != count:
        raise DocumentError(f"{where}: expected {count} values (one per run), found {len(values)}")
    return tuple(check(v, float, f"{where}[{i}]", optional=True) for i, v in enumerate(values))


def _finding(data: Any, where: str) -> Finding:
    data = obj(data, where)
    for key in ("reason", "metric", "direction", "text"):
        get(data, key, str, where)
    for key in ("baseline_value", "value", "p_value"):
        get(data, key, float, where)
    get(data, "conservative", bool, where)
    if data["metric"] not in METRICS:
        raise DocumentError(f"{where}.metric: expected one of {', '.join(METRICS)}")
    if data["direction"] not in ("up", "down"):
        raise DocumentError(f"{where}.direction: expected up or down")
    _pair(data.get("pair"), int, f"{where}.pair")
    _pair(data.get("labels"), str, f"{where}.labels")
    return Finding.from_json(data)


def _runs(doc: dict) -> list[ComparedRun]:
    runs = []
    for i, r in enumerate(items(doc.get("runs"), "runs")):
        w = f"runs[{i}]"
        r = obj(r, w)
        info = r.get("info")
        runs.append(
            ComparedRun(
                label=get(r, "label", str, w),
                report=report_json.report_from_json(r.get("report"), f"{w}.report"),
                duration_s=get(r, "duration_s", float, w, optional=True),
                info=None if info is None else run_info(info, f"{w}.info"),
            )
        )
    return runs


def _rows(doc: dict, n: int) -> list[ComparisonRow]:
    rows = []
    for i, row in enumerate(items(doc.get("rows"), "rows")):
        w = f"rows[{i}]"
        row = obj(row, w)
        cells = items(row.get("cells"), f"{w}.cells")
        if len(cells) != n:
            raise DocumentError(f"{w}.cells: expected {n} cells (one per run), found {len(cells)}")
        rows.append(
            ComparisonRow(
                reason=get(row, "reason", str, w),
                cells=tuple(
                    None if c is None else RunCell(**scalar_fields(RunCell, c, f"{w}.cells[{j}]"))
                    for j, c in enumerate(cells)
                ),
                share_delta=_floats(row.get("share_delta"), n, f"{w}.share_delta"),
                mean_delta_pct=_floats(row.get("mean_delta_pct"), n, f"{w}.mean_delta_pct"),
                samples_delta_pct=_floats(
                    row.get("samples_delta_pct"), n, f"{w}.samples_delta_pct"
                ),
            )
        )
    return rows


def comparison_from_json(doc: dict) -> Comparison:
    """The `Comparison` of a document's keys; `DocumentError` names the key path."""
    runs = _runs(doc)
    n = len(runs)
    if not 2 <= n <= 4:
        raise DocumentError(f"runs: expected 2 to 4 runs, found {n}")
    rows = _rows(doc, n)
    baseline = get(doc, "baseline", int, "the top level")
    pairs = tuple(
        _pair(p, int, f"pairs[{i}]") for i, p in enumerate(items(doc.get("pairs"), "pairs"))
    )
    for index in (baseline, *(i for p in pairs for i in p)):
        if not 0 <= index < n:
            raise DocumentError(f"run index {index} out of range for {n} runs")
    return Comparison(
        runs=tuple(runs),
        baseline=baseline,
        rows=tuple(rows),
        findings=tuple(
            _finding(f, f"findings[{i}]")
            for i, f in enumerate(items(doc.get("findings"), "findings"))
        ),
        pairs=pairs,  # type: ignore[arg-type]
        alpha=get(doc, "alpha", float, "the top level"),
        tests=get(doc, "tests", int, "the top level"),
        differences=find_differences(runs, pairs),  # descriptive: derived, not saved
    )


def contexts_from_json(doc: dict) -> tuple[RunContext, ...]:
    """Each run's latency summary and audit (empty when the file has none), by run label."""
    contexts = []
    for i, r in enumerate(items(doc.get("runs"), "runs")):
        w = f"runs[{i}]"
        r = obj(r, w)
        try:
            latency = (
                run_context_json.latency_from_json(r["latency"], f"{w}.latency")[0]
                if r.get("latency") is not None
                else None
            )
            audit = run_context_json.audit_from_json(r.get("audit", []), f"{w}.audit")
        except ValueError as exc:
            raise DocumentError(str(exc)) from None
        contexts.append(RunContext(get(r, "label", str, w), audit, latency))
    return tuple(contexts)
