"""`report.json` of a recording folder: the `report --json` shape, extended.

Extensions to `formats.report_output.report_to_json` (all keys always present)::

    "mode": "kernel"|"count"|"perf"|null, "mode_why": str|null,
    "rows": [{..., "histogram": {"<bucket upper bound µs>": count}|null,
                   "p50_us": float|null, "p99_us": float|null, "p999_us": float|null,
                   "max_bound_us": float|null, "bounds": true|false}],
    "vcpus": {"<vCPU index>": {the same report shape, without "vcpus"}}

`p50_us`, `p99_us`, `p999_us` and `max_bound_us` read from the log2 histogram are bucket
*upper bounds* (`"bounds": true`): the true value is at most that. null where unknown (perf
record keeps no histogram; the counting source no timings at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import ExitStat, Report
from vmexit_tui.formats.report_output import report_to_json

PERCENTILES = (("p50_us", 0.5), ("p99_us", 0.99), ("p999_us", 0.999))


def row_extension(row: ExitStat) -> dict[str, Any]:
    h = row.histogram
    data: dict[str, Any] = {"histogram": None if h is None else h.to_json()}
    for key, q in PERCENTILES:
        data[key] = None if h is None else h.percentile_bound(q)
    data["max_bound_us"] = row.max_bound
    data["bounds"] = h is not None
    return data


def extended_report_json(report: Report) -> dict[str, Any]:
    data = report_to_json(report)
    for row_json, row in zip(data["rows"], report.rows, strict=True):
        row_json.update(row_extension(row))
    return data


def recording_report_json(
    total: Report,
    vcpus: Mapping[int, Report] | None = None,
    *,
    mode: str | None = None,
    mode_why: str | None = None,
) -> dict[str, Any]:
    """The object written as `report.json` into a recording folder."""
    data = extended_report_json(total)
    data["mode"] = mode
    data["mode_why"] = mode_why
    data["vcpus"] = {str(i): extended_report_json(r) for i, r in sorted((vcpus or {}).items())}
    return data


def histogram_of_json(row: Mapping[str, Any]) -> Log2Histogram | None:
    """The histogram of one row of `report.json` (None when null)."""
    h = row.get("histogram")
    return None if h is None else Log2Histogram.from_json(h)
