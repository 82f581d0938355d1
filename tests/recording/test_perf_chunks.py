"""Finished --switch-output chunks, handed out once; the manifest; merging chunk reports."""

from __future__ import annotations

import random
import stat
from datetime import datetime

import pytest

from tests.fixtures.make_reports import draw, table
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval, RunAccumulator
from vmexit_tui.formats.perf_parser import parse_report
from vmexit_tui.recording.perf_chunks import (
    ChunkTracker,
    Manifest,
    chunk_time,
    dump_path,
    make_private_dir,
    read_manifest,
    write_manifest,
)
from vmexit_tui.recording.perf_record import parse_chunk_report


def test_chunk_time_reads_perfs_suffix():
    t = chunk_time("perf.data.2026112617103416")
    assert t == pytest.approx(datetime(2026, 11, 26, 17, 10, 34).timestamp() + 0.16)
    for name in (
        "perf.data",
        "perf.data.old",
        "perf.data.123",
        "x.2026112617103416",
        "perf.data.20261326171034160",
    ):
        assert chunk_time(name) is None, name


def test_dump_path():
    assert dump_path("[ perf record: Dump /r/perf.data.2026112617103416 ]") == (
        "/r/perf.data.2026112617103416"
    )
    assert (
        dump_path("[ perf record: Captured and wrote 0.011 MB /r/perf.data.<timestamp> ]") is None
    )


def _touch(path, size=10):
    path.write_bytes(b"x" * size)
    return path


def test_each_chunk_is_handed_out_once_in_order(tmp_path):
    start = datetime(2026, 1, 2, 3, 4, 4).timestamp()
    tracker = ChunkTracker(tmp_path, start)
    _touch(tmp_path / "perf.data", 7)  # being written: never a chunk
    a = _touch(tmp_path / "perf.data.2026010203040500", 100)
    b = _touch(tmp_path / "perf.data.2026010203040650", 200)
    first = tracker.announce(a)
    assert first is not None and first.index == 0 and first.size == 100
    assert first.start == start and first.end == pytest.approx(start + 1.0)
    assert tracker.announce(a) is None  # already handed out
    assert tracker.announce(tmp_path / "elsewhere" / a.name) is None  # not this folder
    scanned = tracker.scan()  # b was never announced
    assert [c.name for c in scanned] == [b.name]
    assert scanned[0].index == 1 and scanned[0].start == first.end
    assert tracker.scan() == []
    assert tracker.bytes_on_disk == 307
    assert tracker.unfinished() == tmp_path / "perf.data"


def test_manifest_and_folder_are_private(tmp_path):
    folder = make_private_dir(tmp_path / "rec" / "run")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    tracker = ChunkTracker(folder, 0.0)
    tracker.announce(_touch(folder / "perf.data.2026010203040500"))
    m = Manifest(
        vm_name="g1", vm_pid=5, vm_started=1.0, pinning_at_start="raw", perf_version="6.1",
        argv=["perf", "kvm"], report_argv=["perf"], interval_s=1.0, events=["vmexit"],
        vcpu=None, started=2.0,
    )  # fmt: skip
    m.set_chunks(tracker.chunks)
    path = write_manifest(folder, m)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = read_manifest(folder)
    assert data["vm_name"] == "g1" and data["chunks"][0]["file"] == "perf.data.2026010203040500"
    assert data["started_iso"].startswith("1970-01-01") and data["stopped_iso"] is None
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "perf.data.2026010203040500",
    ]


def test_read_manifest_says_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no manifest\.json"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_manifest(tmp_path)


def _seventy_reasons(rng: random.Random, scale: int) -> dict[str, list[int]]:
    return {
        f"REASON_{i:02d}": draw(rng, max(1, (70 - i) * scale), 400 + 37 * i, 0.3, tail=i % 3)
        for i in range(70)
    }


def test_merged_chunk_reports_equal_one_report_over_all_data():
    """Chunks reported one by one and merged == one perf report over every sample."""
    rng = random.Random(7)
    chunks = [_seventy_reasons(rng, s) for s in (3, 1, 2, 5)]
    acc = RunAccumulator()
    for i, events in enumerate(chunks):
        text = table(events, title="VM-EXIT", who="pid(s) 4242, ")
        report = parse_chunk_report(text, EventKind.VMEXIT, source=f"chunk{i}")
        acc.add(Interval(i, float(i), float(i + 1), {EventKind.VMEXIT: report}))
    whole_events = {k: [x for c in chunks for x in c[k]] for k in chunks[0]}
    whole = parse_report(table(whole_events, title="VM-EXIT", who="pid(s) 4242, "))
    merged = acc.total(EventKind.VMEXIT)
    assert merged.total_samples == whole.total_samples
    assert merged.total_time_us == pytest.approx(whole.total_time_us, rel=1e-6)
    assert len(merged.rows) == len(whole.rows) == 70
    for row in whole.rows:
        got = merged.row(row.reason)
        assert got is not None, row.reason
        assert got.samples == row.samples
        assert (got.min_us, got.max_us) == (row.min_us, row.max_us)
        # perf prints 2 decimals (each input and the whole off by <= 0.005)
        assert got.mean_us == pytest.approx(row.mean_us, abs=0.0101)
        assert got.rel_stddev_pct == pytest.approx(
            row.rel_stddev_pct, abs=0.02 + 0.01 * row.rel_stddev_pct
        )
        assert got.samples_pct == pytest.approx(row.samples_pct, abs=0.006)
    series = acc.reason_series(EventKind.VMEXIT, "REASON_00")
    assert series is not None and [p.count for p in series.points] == [210, 70, 140, 350]


def test_chunk_report_of_the_wrong_kind_is_an_error():
    text = table({"0x3f8:POUT": [1000, 2000]}, title="IO Port Access")
    with pytest.raises(ValueError, match="a vmexit report"):
        parse_chunk_report(text, EventKind.VMEXIT, source="c")
