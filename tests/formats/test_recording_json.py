"""report.json: the report --json shape with histograms, percentile bounds, mode and vCPUs."""

from __future__ import annotations

import json
from pathlib import Path

from vmexit_tui.analysis.exit_hist import reason_namer, to_reports
from vmexit_tui.analysis.model import EventKind, ExitStat, Report, with_shares
from vmexit_tui.formats.recording_json import histogram_of_json, recording_report_json
from vmexit_tui.formats.report_output import report_to_json
from vmexit_tui.formats.tracefs_hist import exit_counts, exit_reason_tables

FIX = Path(__file__).parents[1] / "fixtures" / "tracefs"


def test_kernel_report_json_from_the_lab_table():
    names = exit_reason_tables((FIX / "kvm_exit_format_lab_6.1.txt").read_text()).svm
    counts = exit_counts((FIX / "hist_synthetic_lab_6.1.txt").read_text())
    total, vcpus = to_reports(counts, reason_namer(names))
    data = json.loads(json.dumps(recording_report_json(total, vcpus, mode="kernel", mode_why="x")))
    base = report_to_json(total)
    assert {k: v for k, v in data.items() if k in base} == json.loads(json.dumps(base)) | {
        "rows": data["rows"]
    }
    assert data["mode"] == "kernel" and data["mode_why"] == "x"
    assert sorted(data["vcpus"]) == ["0", "1"]
    for row in data["rows"]:
        stat = total.row(row["reason"])
        assert histogram_of_json(row) == stat.histogram
        assert sum(row["histogram"].values()) == row["samples"]
        assert row["p50_us"] == stat.histogram.percentile_bound(0.5)
        assert row["p99_us"] == stat.histogram.percentile_bound(0.99)
        assert row["p999_us"] == stat.histogram.percentile_bound(0.999)
        assert row["max_bound_us"] == stat.histogram.max_bound
        assert row["bounds"] is True and row["min_us"] is None
    assert sum(v["total_samples"] for v in data["vcpus"].values()) == data["total_samples"]


def test_perf_rows_have_nulls_where_no_histogram_is_kept():
    report = with_shares(
        Report(EventKind.VMEXIT, (ExitStat("HLT", 3, min_us=1, max_us=9, mean_us=4),))
    )
    data = recording_report_json(report, None, mode="perf")
    row = data["rows"][0]
    assert row["histogram"] is None and row["p50_us"] is None and row["p999_us"] is None
    assert row["max_bound_us"] == 9 and row["bounds"] is False
    assert data["vcpus"] == {}
