"""A comparison as text: a terminal table, Markdown (table + findings), CSV (long form), JSON.

Unknown values print as ``?`` (empty in CSV, null in JSON); a reason a run does not list
prints as ``–`` (no exits). Spreads cut off by a pager print as ``<x%``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
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
        header.append(f"{run.label} mean us")
        if refs[i] is not None:
            header += [f"Δ share (pp) vs {c.runs[refs[i]].label}", "Δ mean"]
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


def to_table(c: Comparison) -> str:
    """A plain text table for the terminal (run labels above their columns), findings below."""
    header, body = _columns(c, with_rate=_has_rates(c))
    short = [header[0]] + [
        h.split(" vs ")[0].removeprefix(_owner(h, c)).strip() for h in header[1:]
    ]
    widths = [max(len(r[j]) for r in [short, *body]) for j in range(len(short))]
    groups: list[tuple[str, int]] = []
    for h, w in zip(header[1:], widths[1:], strict=True):
        owner = _owner(h, c) or (groups[-1][0] if groups else "")
        if groups and groups[-1][0] == owner:
            groups[-1] = (owner, groups[-1][1] + w + 2)
        else:
            groups.append((owner, w))
    top = " " * widths[0] + "".join("  " + label[:span].center(span) for label, span in groups)
    lines = [top.rstrip()] + [
        "  ".join(
            cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j]) for j, cell in enumerate(r)
        ).rstrip()
        for r in [short, *body]
    ]
    lines.insert(2, "  ".join("-" * w for w in widths))
    lines += ["", "Findings:" if c.findings else "No significant changes."]
    lines += [f"{k}. {f.text}" for k, f in enumerate(c.findings, 1)]
    lines += ["", _method(c)]
    return "\n".join(lines) + "\n"


def _owner(header: str, c: Comparison) -> str:
    """The run label a column header starts with ("" for the delta columns)."""
    for run in sorted(c.runs, key=lambda r: -len(r.label)):
        if header.startswith(run.label + " "):
            return run.label
    return ""


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(c: Comparison) -> str:
    """A Markdown table ready for a wiki or a ticket, with the findings under it."""
    header, body = _columns(c, with_rate=_has_rates(c))
    out = [
        "## VM-exit comparison: " + " vs ".join(_md_escape(r.label) for r in c.runs),
        "",
        "| " + " | ".join(_md_escape(h) for h in header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    out += ["| " + " | ".join(_md_escape(v) for v in line) + " |" for line in body]
    out += ["", "### Findings", ""]
    if c.findings:
        out += [f"{k}. {_md_escape(f.text)}" for k, f in enumerate(c.findings, 1)]
    else:
        out.append("No significant changes.")
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
    """The comparison as plain JSON data: runs, rows, findings and the method."""
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
    }


def to_json(c: Comparison) -> str:
    return json.dumps(to_json_data(c), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render(c: Comparison, fmt: str) -> str:
    """The comparison in one of `FORMATS`."""
    renderers = {"table": to_table, "markdown": to_markdown, "csv": to_csv, "json": to_json}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](c)
