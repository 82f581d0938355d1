"""A comparison as text: a terminal table, Markdown (table + findings), CSV (long form), JSON.

Unknown values print as ``?`` (empty in CSV, null in JSON); a reason a run does not list
prints as ``–`` (no exits). Spreads cut off by a pager print as ``<x%``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from vmexit_tui.analysis.comparison import Comparison, RunCell, references
from vmexit_tui.formats import numbers

FORMATS = ("table", "markdown", "csv", "json")
ABSENT = numbers.ABSENT
UNKNOWN = numbers.UNKNOWN


def _mean(cell: RunCell) -> str:
    if cell.mean_us is None:
        return UNKNOWN
    spread = numbers.spread(cell.rel_stddev_pct, cell.rel_stddev_below)
    return numbers.us(cell.mean_us) + ("" if spread == UNKNOWN else f" {spread}")


def _share(value: float | None) -> str:
    shown = numbers.percent(value)
    return shown if shown == UNKNOWN else shown + "%"


def _columns(c: Comparison, *, with_rate: bool) -> tuple[list[str], list[list[str]]]:
    refs = references(len(c.runs), c.pairs)
    header = ["Exit reason"]
    for i, run in enumerate(c.runs):
        header += [f"{run.label} n", f"{run.label} share"]
        if with_rate:
            header.append(f"{run.label} /s")
        header.append(f"{run.label} mean µs")
        ref = refs[i]
        if ref is not None:
            header += [f"Δ share (pp) vs {c.runs[ref].label}", "Δ mean"]
    body = []
    for row in c.rows:
        line = [row.reason]
        for i, cell in enumerate(row.cells):
            if cell is None:
                line += [ABSENT, ABSENT] + ([ABSENT] if with_rate else []) + [ABSENT]
            else:
                line += [numbers.count(cell.samples), _share(cell.share_pct)]
                if with_rate:
                    line.append(numbers.rate(cell.rate))
                line.append(_mean(cell))
            if refs[i] is not None:
                line += [
                    numbers.pp(row.share_delta[i], unit=False),
                    numbers.change(row.mean_delta_pct[i]),
                ]
        body.append(line)
    return header, body


def _has_rates(c: Comparison) -> bool:
    return any(run.duration_s for run in c.runs)


def _method(c: Comparison) -> str:
    return (
        f"Changes are listed when significant at a family-wise α = {c.alpha:g} "
        f"(Bonferroni over {c.tests} tests: p < {c.alpha / max(c.tests, 1):.2g} each)."
    )


def _table_lines(c: Comparison, runs: Sequence[int], *, spread: bool, rate: bool) -> list[str]:
    """The aligned table of `runs` (run labels above their columns, deltas after each run
    that has a reference); `spread` shows perf's spread beside each mean."""
    refs = references(len(c.runs), c.pairs)
    cols: list[tuple[str, str, list[str]]] = [("", "Exit reason", [r.reason for r in c.rows])]
    for i in runs:
        label = c.runs[i].label
        cells = [row.cells[i] for row in c.rows]

        def col(
            head: str, fn: Callable[[RunCell], str], label: str = label, cells: list = cells
        ) -> None:
            cols.append((label, head, [ABSENT if x is None else fn(x) for x in cells]))

        col("n", lambda x: numbers.count(x.samples))
        col("share", lambda x: _share(x.share_pct))
        if rate:
            col("/s", lambda x: numbers.rate(x.rate))
        col("mean µs", _mean) if spread else col("µs", lambda x: numbers.us(x.mean_us))
        if refs[i] is not None:
            cols.append((label, "Δ pp", [numbers.pp(r.share_delta[i], unit=False) for r in c.rows]))
            cols.append((label, "Δ mean", [numbers.change(r.mean_delta_pct[i]) for r in c.rows]))
    widths = [max(len(x) for x in [head, *cells]) for _, head, cells in cols]
    groups: list[tuple[str, int]] = []
    for (owner, _, _), w in zip(cols[1:], widths[1:], strict=True):
        if groups and groups[-1][0] == owner:
            groups[-1] = (owner, groups[-1][1] + w + 2)
        else:
            groups.append((owner, w))
    top = " " * widths[0] + "".join("  " + label[:span].center(span) for label, span in groups)
    rows = [[head for _, head, _ in cols]] + [
        list(r) for r in zip(*(x[2] for x in cols), strict=True)
    ]
    lines = [
        "  ".join(
            cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j]) for j, cell in enumerate(r)
        ).rstrip()
        for r in rows
    ]
    return [top.rstrip(), lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def _fits(lines: list[str], width: int | None) -> bool:
    return width is None or max(map(len, lines)) <= width


def _blocks(c: Comparison, width: int | None, *, spread: bool, rate: bool) -> list[list[str]]:
    """The runs in the fewest blocks that fit `width`, of equal size where they fit (so the
    seed's RAW/BIND pairs stay together); each block has its own reason column."""
    n = len(c.runs)
    for k in range(1, n + 1):
        size = -(-n // k)
        groups = [list(range(start, min(start + size, n))) for start in range(0, n, size)]
        blocks = [_table_lines(c, g, spread=spread, rate=rate) for g in groups]
        if all(_fits(b, width) for b in blocks):
            return blocks
    return [_table_lines(c, [i], spread=spread, rate=rate) for i in range(n)]


def fit_table(c: Comparison, width: int | None = None) -> list[str]:
    """The table's lines, fitted to `width` (None: no limit), in this order:

    1. all runs side by side; 2. the same without the spread beside each mean; 3. stacked:
    the runs in the fewest blocks that fit (equal sizes, so RAW/BIND pairs stay together),
    each block with its own reason column, with spreads unless that takes more blocks;
    4. the rate column dropped; 5. last resort, lines cut at `width` and marked "…".
    A row is never wrapped.
    """
    rate = _has_rates(c)
    for spread in (True, False):
        lines = _table_lines(c, range(len(c.runs)), spread=spread, rate=rate)
        if _fits(lines, width):
            return lines
    options = [
        _blocks(c, width, spread=spread, rate=with_rate)
        for with_rate in dict.fromkeys((rate, False))
        for spread in (True, False)
    ]
    fitting = [b for b in options if all(_fits(x, width) for x in b)]
    blocks = min(fitting, key=len) if fitting else options[-1]  # min: the first of equals
    lines = [line for k, b in enumerate(blocks) for line in ([""] if k else []) + b]
    if _fits(lines, width):
        return lines
    assert width is not None
    return [ln if len(ln) <= width else ln[: max(width - 1, 0)] + "…" for ln in lines]


def _wrap(text: str, width: int | None, indent: str = "") -> list[str]:
    if width is None or len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False)


def to_table(c: Comparison, width: int | None = None) -> str:
    """A plain text table for the terminal, then the legend, the findings and the differences.

    With `width` the table is fitted as `fit_table` says; the prose is wrapped at `width`.
    """
    lines = [line for note in c.notes for line in _wrap(f"Note: {note}", width, "  ")]
    lines += fit_table(c, width)
    lines += ["", *_wrap(numbers.LEGEND, width)]
    lines += ["", "Findings:" if c.findings else "No significant changes."]
    for k, f in enumerate(c.findings, 1):
        lines += _wrap(f"{k}. {f.text}", width, " " * (len(str(k)) + 2))
    if c.differences:
        lines += ["", *_wrap(_DIFFERENCES + ":", width)]
        for d in c.differences:
            lines += _wrap(f"- {d.text}", width, "  ")
    lines += ["", *_wrap(_method(c), width)]
    return "\n".join(lines) + "\n"


_DIFFERENCES = "Differences (count changes of runs of unknown length: descriptive, not tested)"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(c: Comparison) -> str:
    """A Markdown table ready for a wiki or a ticket, with the findings under it."""
    header, body = _columns(c, with_rate=_has_rates(c))
    out = ["## VM-exit comparison: " + " vs ".join(_md_escape(r.label) for r in c.runs), ""]
    out += [f"> **Note:** {_md_escape(note)}\n" for note in c.notes]
    out += [
        "| " + " | ".join(_md_escape(h) for h in header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    out += ["| " + " | ".join(_md_escape(v) for v in line) + " |" for line in body]
    out += ["", "### Findings", ""]
    if c.findings:
        out += [f"{k}. {_md_escape(f.text)}" for k, f in enumerate(c.findings, 1)]
    else:
        out.append("No significant changes.")
    if c.differences:
        out += ["", f"### {_DIFFERENCES}", ""]
        out += [f"- {_md_escape(d.text)}" for d in c.differences]
    out += [
        "",
        f"_{_method(c)} `{UNKNOWN}` = not known, `{ABSENT}` = no exits of that reason in that "
        "run, `±<x%` = spread cut off by a pager (an upper bound)._",
    ]
    return "\n".join(out) + "\n"


CSV_COLUMNS = (
    "reason", "run", "label", "samples", "share_pct", "rate_per_s", "mean_us",
    "rel_stddev_pct", "rel_stddev_below", "reference", "share_delta_pp",
    "samples_delta_pct", "mean_delta_pct",
)  # fmt: skip


def to_csv(c: Comparison) -> str:
    """One line per reason and run (long form), empty cells for unknown values."""
    refs = references(len(c.runs), c.pairs)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def cell(v: Any) -> Any:
        return "" if v is None else v

    for row in c.rows:
        for i, rc in enumerate(row.cells):
            values = [None] * 6 if rc is None else [
                rc.samples, rc.share_pct, rc.rate, rc.mean_us, rc.rel_stddev_pct,
                rc.rel_stddev_below,
            ]  # fmt: skip
            ref = refs[i]
            writer.writerow(
                [
                    row.reason,
                    i,
                    c.runs[i].label,
                    *map(cell, values),
                    "" if ref is None else c.runs[ref].label,
                    cell(row.share_delta[i]),
                    cell(row.samples_delta_pct[i]),
                    cell(row.mean_delta_pct[i]),
                ]
            )
    return buf.getvalue()


def to_json_data(c: Comparison) -> dict[str, Any]:
    """The comparison as plain JSON data: runs, rows, findings (tested), differences (count
    changes of runs of unknown length, not tested), the runs with no exits, and the method."""
    refs = references(len(c.runs), c.pairs)
    return {
        "runs": [
            {
                "index": i,
                "label": run.label,
                "source": run.report.source,
                "event": run.report.event.value,
                "total_samples": run.report.sample_count,
                "duration_s": run.duration_s,
                "reference": refs[i],
                "info": dataclasses.asdict(run.info) if run.info is not None else None,
            }
            for i, run in enumerate(c.runs)
        ],
        "baseline": c.baseline,
        "pairs": [list(p) for p in c.pairs],
        "alpha": c.alpha,
        "tests": c.tests,
        "rows": [
            {
                "reason": row.reason,
                "cells": [None if x is None else dataclasses.asdict(x) for x in row.cells],
                "share_delta_pp": list(row.share_delta),
                "mean_delta_pct": list(row.mean_delta_pct),
                "samples_delta_pct": list(row.samples_delta_pct),
            }
            for row in c.rows
        ],
        "findings": [f.to_json() for f in c.findings],
        "differences": [d.to_json() for d in c.differences],
        "empty_runs": list(c.empty_runs),
        "notes": list(c.notes),
    }


def to_json(c: Comparison) -> str:
    return json.dumps(to_json_data(c), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render(c: Comparison, fmt: str, *, width: int | None = None) -> str:
    """The comparison in one of `FORMATS`; `width` fits the terminal table (see `fit_table`)."""
    renderers = {"markdown": to_markdown, "csv": to_csv, "json": to_json}
    if fmt == "table":
        return to_table(c, width)
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](c)
