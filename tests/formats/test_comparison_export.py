"""Markdown, CSV, JSON and the terminal table of a comparison."""

from __future__ import annotations

import csv
import io
import json

import pytest

from vmexit_tui.analysis.comparison import ComparedRun, compare, pair_layout
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.formats.comparison_export import (
    CSV_COLUMNS,
    render,
    to_csv,
    to_json_data,
    to_markdown,
    to_table,
)
from vmexit_tui.reference import seed_runs


@pytest.fixture(scope="module")
def seed():
    runs = [ComparedRun(n.upper(), seed_runs.load(n)) for n in seed_runs.NAMES]
    return compare(runs, pairs=pair_layout(runs))


def test_markdown_table_then_findings(seed):
    md = to_markdown(seed)
    lines = md.splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 2 + len(seed.rows)
    assert all(ln.count("|") == table[0].count("|") for ln in table)
    assert "| PAUSE_INSTRUCTION | 290 | 0.54% | ? |" in md  # unknown mean shown as ?, not 0
    assert md.index("### Findings") > md.index("| MSR_WRITE")
    assert f"1. {seed.findings[0].text}" in md
    assert "Bonferroni over 41 tests" in md
    assert md.index("### Differences") > md.index("### Findings")


def test_csv_long_form_with_empty_unknowns(seed):
    rows = list(csv.DictReader(io.StringIO(to_csv(seed))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 4 * len(seed.rows)
    pause = next(r for r in rows if r["reason"] == "PAUSE_INSTRUCTION" and r["run"] == "0")
    assert pause["mean_us"] == "" and pause["samples"] == "290"
    io_bind = next(
        r for r in rows if r["reason"] == "IO_INSTRUCTION" and r["label"] == "GP-GP-BIND"
    )
    assert io_bind["reference"] == "GP-GP-RAW"
    assert float(io_bind["samples_delta_pct"]) == pytest.approx(100 * (608 / 1047 - 1))
    assert io_bind["rel_stddev_below"] == "5.1"


def test_json_has_runs_rows_and_findings_with_pairs(seed):
    data = json.loads(render(seed, "json"))
    assert [r["label"] for r in data["runs"]] == [
        "GP-GP-RAW",
        "GP-GP-BIND",
        "GP-RT-RAW",
        "GP-RT-BIND",
    ]
    assert data["pairs"] == [[0, 1], [2, 3]]
    assert len(data["rows"]) == len(seed.rows)
    f = data["findings"][0]
    assert {"reason", "metric", "direction", "baseline_value", "value", "p_value", "conservative",
            "text", "pair"} <= set(f)  # fmt: skip
    assert data == to_json_data(seed)


def test_json_lists_count_changes_under_differences_not_findings(seed):
    """Issue 14.14: without durations a count change is a difference, not a finding."""
    data = to_json_data(seed)
    assert not [f for f in data["findings"] if f["metric"] in ("samples", "rate")]
    io = [d for d in data["differences"] if d["reason"] == "IO_INSTRUCTION"]
    assert {(d["baseline_value"], d["value"]) for d in io} == {(1047, 608), (740, 1484)}
    assert data["empty_runs"] == [] and data["notes"] == []


def test_empty_run_is_named_at_the_top_of_every_format():
    empty = ComparedRun("idle", Report(EventKind.VMEXIT, ()), duration_s=5.0)
    c = compare([empty, ComparedRun("GP-RT-RAW", seed_runs.load("gp-rt-raw"))])
    assert to_table(c).startswith("Note: idle has no exits at all")
    assert "No significant changes." in to_table(c)
    assert "> **Note:** idle has no exits at all" in to_markdown(c)
    data = to_json_data(c)
    assert data["empty_runs"] == [0] and data["findings"] == [] and data["differences"] == []


def test_table_shows_labels_absent_reasons_and_no_findings():
    a = Report(
        EventKind.VMEXIT, (ExitStat("X", 5, mean_us=1.0, rel_stddev_pct=3.0), ExitStat("Y", 1))
    )
    b = Report(EventKind.VMEXIT, (ExitStat("X", 6, mean_us=1.0, rel_stddev_pct=3.0),))
    c = compare([ComparedRun("before", a), ComparedRun("after", b)])
    text = to_table(c)
    assert "before" in text.splitlines()[0] and "after" in text.splitlines()[0]
    y = next(ln for ln in text.splitlines() if ln.startswith("Y "))
    assert "–" in y
    assert "No significant changes." in text
    assert "? = not known · – = no exits of that reason in that run" in text  # the legend


def test_unknown_format_is_rejected(seed):
    with pytest.raises(ValueError, match="unknown format"):
        render(seed, "html")
