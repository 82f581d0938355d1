"""The one Report JSON codec: round trips, the shape snapshots stored before, clear errors."""

from __future__ import annotations

import json

import pytest

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats import report_output, snapshots
from vmexit_tui.formats.report_json import ReportJsonError, report_from_json, report_to_json
from vmexit_tui.reference import seed_runs


def test_every_seed_run_round_trips_through_json_text():
    for name, report in seed_runs.load_all().items():
        text = json.dumps(report_to_json(report))
        assert report_from_json(json.loads(text)) == report, name


def test_a_histogram_is_written_only_when_measured_and_read_back():
    h = Log2Histogram.from_counts({1: 3, 64: 2})
    report = Report(
        EventKind.VMEXIT,
        (ExitStat("HLT", 5, mean_us=20.0, histogram=h), ExitStat("MSR_READ", 1)),
        scope=Scope(pids=(7,), vcpu=1),
        name_width=40,
    )
    data = report_to_json(report)
    assert data["rows"][0]["histogram"] == {"1": 3, "64": 2}
    assert "histogram" not in data["rows"][1]  # `report --json` of perf text is unchanged
    assert report_from_json(data) == report


def test_the_cli_and_the_snapshots_use_this_codec(tmp_path):
    report = seed_runs.load("gp-rt-raw")
    assert report_output.report_to_json(report) == report_to_json(report)
    path = snapshots.save_run(tmp_path / "r.json", RunInfo(label="r"), {EventKind.VMEXIT: report})
    saved = json.loads(path.read_text("utf-8"))
    assert saved["run"]["totals"]["vmexit"] == json.loads(json.dumps(report_to_json(report)))


def test_the_shape_schema_2_snapshots_stored_still_reads():
    old = {
        "event": "vmexit",
        "rows": [
            {"reason": "HLT", "samples": 3, "samples_pct": 75.0, "time_pct": 90.0,
             "min_us": 1.0, "max_us": 9.0, "mean_us": 4.0, "rel_stddev_pct": None,
             "rel_stddev_below": 5.0, "histogram": None},
        ],
        "total_samples": 4, "total_time_us": 16.0, "scope": {"pids": [], "vcpu": None},
        "lost_events": None, "name_width": 40, "timestamp": None, "unknown_codes": [],
        "source": None,
    }  # fmt: skip
    report = report_from_json(old)
    assert report.name_width == 40 and report.rows[0].rel_stddev_below == 5.0
    assert report.total_samples == 4


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["rows"][0].update(samples="12"),
         r"report\.rows\[0\]\.samples: expected an integer"),
        (lambda d: d.update(event="disk"), r"report\.event: expected one of vmexit"),
        (lambda d: d.update(rows={}), r"report\.rows: expected a list"),
        (lambda d: d["rows"][0].pop("reason"), r"report\.rows\[0\]: missing key 'reason'"),
    ],
)  # fmt: skip
def test_a_wrong_shape_says_where(mutate, message):
    data = report_to_json(seed_runs.load("gp-rt-raw"))
    mutate(data)
    with pytest.raises(ReportJsonError, match=message):
        report_from_json(data)
