"""Snapshot round trips, file modes, atomic writes and clear errors for bad files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from vmexit_tui.analysis.comparison import ComparedRun, compare, pair_layout
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.analysis.running import Interval, RunAccumulator, RunInfo
from vmexit_tui.formats.perf_parser import parse_report
from vmexit_tui.formats.snapshots import (
    SCHEMA_VERSION,
    SnapshotError,
    default_folder,
    list_snapshots,
    load_comparison,
    load_run,
    save_comparison,
    save_run,
)
from vmexit_tui.reference import seed_runs

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"

INFO = RunInfo(
    label="GP-RT",
    vm_name="rt-guest",
    pid=3062,
    pinning="0-1",
    pinning_at_end="0-1",
    host="rt-base",
    kernel="6.1.0-rt",
    perf_version="perf version 6.1.76",
    started=1000.0,
    stopped=1002.5,
    notes="cyclictest -t1 -p 99, 中文 notes",
    simulated=False,
)


def accumulator() -> RunAccumulator:
    acc = RunAccumulator(capacity=4)
    for i, name in enumerate(["chunk_a.txt", "chunk_b.txt"] * 3):
        text = (FIXTURES / name).read_text()
        report = parse_report(text, source=name)
        acc.add(Interval(i, 1000.0 + i * 0.5, 1000.5 + i * 0.5, {report.event: report}))
    acc.mark(1001.2, "cyclictest started")
    return acc


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_round_trip_with_series_markers_and_unknowns(tmp_path):
    acc = accumulator()
    totals = dict(acc.totals)
    totals[EventKind.MSR] = Report(
        EventKind.MSR, (ExitStat("0x6e0:W", 3, mean_us=None, rel_stddev_below=0.5),)
    )
    path = save_run(tmp_path / "run.json", INFO, totals, acc)
    assert mode(path) == 0o600
    saved = load_run(path)
    assert saved.info == INFO
    assert saved.totals == totals
    assert saved.markers == tuple(acc.markers)
    assert saved.duration_s == 2.5
    expected = {k: {r: s.points for r, s in v.items()} for k, v in acc.series.items()}
    assert saved.series == expected
    assert len(next(iter(saved.series[EventKind.VMEXIT].values()))) <= 4  # bounded, merged
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == SCHEMA_VERSION and raw["kind"] == "run"
    row = raw["run"]["totals"]["msr"]["rows"][0]
    assert row["mean_us"] is None and row["rel_stddev_pct"] is None  # unknown is null, not 0


def test_reference_run_with_unknown_cells_round_trips(tmp_path):
    report = seed_runs.load("gp-gp-raw")  # PAUSE_INSTRUCTION has unknown cells
    info = RunInfo(label="GP-GP-RAW", simulated=True)
    saved = load_run(save_run(tmp_path / "r.json", info, {EventKind.VMEXIT: report}))
    assert saved.totals[EventKind.VMEXIT] == report
    assert saved.duration_s is None and saved.series == {} and saved.markers == ()
    assert saved.compared().report == report


def test_comparison_round_trip(tmp_path):
    runs = [ComparedRun(n.upper(), seed_runs.load(n)) for n in seed_runs.NAMES]
    runs[0] = ComparedRun(runs[0].label, runs[0].report, 10.0, INFO)
    comparison = compare(runs, pairs=pair_layout(runs))
    path = save_comparison(tmp_path / "cmp.json", comparison)
    assert mode(path) == 0o600
    assert load_comparison(path) == comparison


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def valid_run_doc(tmp_path) -> dict:
    path = save_run(tmp_path / "valid.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-raw")})
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "newer vmexit-tui"),
        (lambda d: d.update(format="something-else"), "not a vmexit-tui snapshot"),
        (lambda d: d.update(kind="comparison"), "a comparison snapshot, expected a run"),
        (lambda d: d["run"]["totals"]["vmexit"]["rows"][0].update(samples="12"),
         r"run\.totals\.vmexit\.rows\[0\]\.samples: expected an integer"),
        (lambda d: d["run"]["info"].update(pid=1.5), r"info\.pid: expected an integer or null"),
        (lambda d: d["run"]["info"].pop("label"), r"run\.info: missing key 'label'"),
        (lambda d: d["run"]["totals"].update(bogus={}), "unknown event kind 'bogus'"),
        (lambda d: d["run"].update(markers={}), r"run\.markers: expected a list"),
    ],
)  # fmt: skip
def test_wrong_content_gives_a_clear_error(tmp_path, mutate, message):
    doc = valid_run_doc(tmp_path)
    mutate(doc)
    path = write(tmp_path / "bad.json", json.dumps(doc))
    before = path.read_bytes()
    with pytest.raises(SnapshotError, match=message) as err:
        load_run(path)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before


def test_truncated_empty_and_binary_files(tmp_path):
    good = save_run(tmp_path / "g.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-raw")})
    text = good.read_text()
    truncated = write(tmp_path / "t.json", text[: len(text) // 2])
    with pytest.raises(SnapshotError, match="truncated or corrupt") as err:
        load_run(truncated)
    assert "t.json" in str(err.value) and "line" in str(err.value)
    with pytest.raises(SnapshotError, match="empty"):
        load_run(write(tmp_path / "e.json", ""))
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SnapshotError, match="not UTF-8"):
        load_run(tmp_path / "b.json")
    with pytest.raises(SnapshotError, match="no such file"):
        load_run(tmp_path / "missing.json")


def test_failed_save_leaves_existing_file_and_no_temp(tmp_path):
    path = save_run(tmp_path / "run.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-raw")})
    before = path.read_bytes()
    bad = Report(EventKind.VMEXIT, (ExitStat("X", 3, mean_us=float("nan")),))
    with pytest.raises(SnapshotError, match="not representable"):
        save_run(path, INFO, {EventKind.VMEXIT: bad})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_overwrite_replaces_and_keeps_0600_even_with_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        path = save_run(
            tmp_path / "run.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-raw")}
        )
        path.chmod(0o644)
        save_run(path, INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-bind")})
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert load_run(path).totals[EventKind.VMEXIT] == seed_runs.load("gp-rt-bind")


def test_default_folder_from_env_is_created_0700(tmp_path, monkeypatch):
    home = tmp_path / "home" / "vmexit"
    monkeypatch.setenv("VMEXIT_TUI_HOME", str(home))
    old = os.umask(0)
    try:
        assert default_folder() == home / "snapshots"
    finally:
        os.umask(old)
    assert mode(home / "snapshots") == 0o700 and mode(home) == 0o700


def test_listing_shows_runs_comparisons_and_broken_files(tmp_path):
    save_run(tmp_path / "a.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-raw")})
    runs = [ComparedRun(n.upper(), seed_runs.load(n)) for n in ("gp-rt-raw", "gp-rt-bind")]
    save_comparison(tmp_path / "c.json", compare(runs))
    write(tmp_path / "broken.json", '{"format": "vmexit-tui-snapshot", "schema_')
    write(tmp_path / "notes.txt", "ignored")
    entries = {e.path.name: e for e in list_snapshots(tmp_path)}
    assert set(entries) == {"a.json", "c.json", "broken.json"}
    assert (entries["a.json"].kind, entries["a.json"].labels) == ("run", ("GP-RT",))
    assert entries["c.json"].kind == "comparison"
    assert entries["c.json"].label == "GP-RT-RAW vs GP-RT-BIND"
    assert entries["a.json"].saved is not None and entries["a.json"].error is None
    assert entries["broken.json"].kind is None and "truncated" in entries["broken.json"].error
    assert list_snapshots(tmp_path)[-1].path.name == "broken.json"


def test_rows_with_a_histogram_round_trip(tmp_path):
    from vmexit_tui.analysis.histogram import Log2Histogram
    from vmexit_tui.analysis.model import EventKind, ExitStat, Report
    from vmexit_tui.formats.report_json import report_from_json, report_to_json

    h = Log2Histogram.from_counts({1: 3, 64: 2})
    report = Report(
        EventKind.VMEXIT, (ExitStat("hlt", 5, mean_us=20.0, histogram=h), ExitStat("msr", 1))
    )
    data = report_to_json(report)
    assert data["rows"][0]["histogram"] == {"1": 3, "64": 2}
    back = report_from_json(data, "report")
    assert back.rows == report.rows
