"""`vmexit-tui record` as a process: lines per interval, final report, clean stop on signals."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.qemu_guest import guest_fixture, needs_qemu, qemu_guest
from vmexit_tui.formats.perf_parser import parse_reports
from vmexit_tui.recording.perf_argv import report_argv
from vmexit_tui.recording.perf_chunks import read_manifest

pytestmark = [*needs_qemu, pytest.mark.perf]
ROOT = Path(__file__).resolve().parents[2]


guest = guest_fixture(smp=2, accel="kvm")


def record(*args: str) -> subprocess.Popen:
    if "--source" not in args and "--live" not in args:
        args = (*args, "--source", "perf")  # these tests are about perf record's chunks
    return subprocess.Popen(
        [sys.executable, "-m", "vmexit_tui", "record", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def running(*args: str):
    proc = record(*args)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def wait_first_line(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # a readline() with nothing to read would block past the deadline
        if not select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))[0]:
            break
        line = proc.stdout.readline()
        if line.startswith("#"):
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"record exited early: {proc.stderr.read()}")
    raise AssertionError("no interval line in time")


def check_folder(out: Path, reason: str = "stopped", detail: str = "stopped on request") -> None:
    m = read_manifest(out)
    assert m["end_reason"] == reason
    assert m["end_detail"].startswith(detail), m["end_detail"]
    chunks = sorted(out.glob("perf.data.*"))
    assert chunks and [c["file"] for c in m["chunks"]] == [c.name for c in chunks]
    for chunk in chunks:
        done = subprocess.run(report_argv(chunk), capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and parse_reports(done.stderr)


def test_record_for_a_duration(guest, tmp_path, no_new_perf):
    out = tmp_path / "run"
    with running("--pid", str(guest.pid), "--duration", "2.5", "--out", str(out)) as proc:
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    interval_lines = [ln for ln in lines if ln.startswith("#")]
    assert len(interval_lines) >= 2 and interval_lines[0].startswith("#1 ")
    assert all(" vmexit " in ln for ln in interval_lines)
    report_text = (out / "report.txt").read_text()
    assert stat.S_IMODE((out / "report.txt").stat().st_mode) == 0o600
    assert report_text.rstrip("\n") in stdout
    (total,) = parse_reports(report_text)
    assert total.scope.pids == (guest.pid,)
    check_folder(out, reason="duration-reached", detail="duration reached (2.5 s)")
    assert "duration reached (2.5 s)" in stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_stop_cleanly(guest, tmp_path, no_new_perf, sig):
    out = tmp_path / "run"
    with running("--pid", str(guest.pid), "--out", str(out)) as proc:
        wait_first_line(proc)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    check_folder(out)
    assert not list(tmp_path.glob(".vmexit-tui-*.lock"))


def test_cannot_record_a_process_that_is_not_a_vm(tmp_path, no_new_perf):
    with running("--pid", str(os.getpid()), "--out", str(tmp_path / "x")) as proc:
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode != 0 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and "no running KVM guest" in stderr


def test_second_recording_is_refused(guest, tmp_path, no_new_perf):
    with running("--pid", str(guest.pid), "--out", str(tmp_path / "a")) as first:
        wait_first_line(first)
        with running("--pid", str(guest.pid), "--out", str(tmp_path / "b")) as second:
            _, stderr = second.communicate(timeout=30)
        assert second.returncode == 1
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert stderr.strip().endswith("stop that recording first")
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0


def test_live_mode(guest, no_new_perf):
    with running("--pid", str(guest.pid), "--duration", "2.5", "--live") as proc:
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert len([ln for ln in stdout.splitlines() if ln.startswith("#")]) >= 2
    assert "Total Samples:" in stdout


def test_auto_on_this_host_counts_writes_report_json_and_no_perf_data(guest, tmp_path, no_new_perf):
    """This kernel has no hist triggers: auto falls back to counting, and says so."""
    out = tmp_path / "auto"
    with running(
        "--pid", str(guest.pid), "--duration", "2.5", "--out", str(out), "--source", "auto"
    ) as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (
        "source: perf counting (no timings) (this kernel has no hist triggers: counting only, "
        "no timings)" in err
    )
    assert not list(out.glob("perf.data*"))
    data = json.loads((out / "report.json").read_text())
    assert data["mode"] == "count" and data["vcpus"] == {}
    assert (
        {"histogram", "p50_us", "p99_us", "p999_us"} <= set(data["rows"][0])
        if data["rows"]
        else data["rows"] == []
    )
    assert (out / "report.json").stat().st_mode & 0o777 == 0o600
    # no chunks, but a manifest all the same: how it was recorded and how it ended
    m = read_manifest(out)
    assert m["source"] == "count" and m["vm_pid"] == guest.pid
    assert m["end_reason"] == "duration-reached" and m["ok"] is True
    assert 2.0 < m["stopped"] - m["started"] < 30
    assert m["argv"][:3] == ["perf", "stat", "-x,"] and m["chunks"] == []
    assert m["pinning_at_start"] == "raw" and m["pinning_at_end"] == "raw"
    assert (out / "manifest.json").stat().st_mode & 0o777 == 0o600


def test_kernel_source_on_this_host_is_refused_with_the_reason(guest, tmp_path):
    with running(
        "--pid", str(guest.pid), "--out", str(tmp_path / "k"), "--source", "kernel"
    ) as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == (
        "vmexit-tui record: --source kernel: this kernel has no hist triggers; try --source auto"
    )


def test_an_emulated_guest_is_refused_in_one_line_and_nothing_runs(tmp_path, no_new_perf):
    with qemu_guest(smp=1, accel="tcg") as tcg:
        out = tmp_path / "x"
        with running("--pid", str(tcg.pid), "--out", str(out)) as proc:
            stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert f"(pid {tcg.pid}) is not a KVM guest" in stderr and "cannot be recorded" in stderr
    assert not out.exists()


def test_interval_line_uses_the_one_number_format():
    """Rates and times as `formats.numbers` writes them (issue 9 item 4): µs, not "us"."""
    from vmexit_tui.analysis.model import EventKind, ExitStat, Report
    from vmexit_tui.analysis.running import Interval
    from vmexit_tui.commands.record import interval_line

    report = Report(
        EventKind.VMEXIT,
        (ExitStat("HLT", 8, mean_us=2839.34), ExitStat("MSR_READ", 2, mean_us=0.514)),
    )
    line = interval_line(Interval(0, 0.0, 50.0, {EventKind.VMEXIT: report}), (EventKind.VMEXIT,))
    assert "vmexit 10 (0.20/s) HLT 80% 2839µs, MSR_READ 20% 0.51µs" in line


SIGNAL_WHILE_SAVING = """
import os, signal, sys, time
from vmexit_tui.commands import record
real = record.final_text
def final_text(*args, **kwargs):  # the user's Ctrl+C lands just as the results are saved
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)
    return real(*args, **kwargs)
record.final_text = final_text
from vmexit_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_signal_while_saving_does_not_cut_the_save_short(guest, tmp_path, no_new_perf):
    out = tmp_path / "run"
    args = ["record", "--pid", str(guest.pid), "--duration", "2", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_WHILE_SAVING, *args, "--source", "perf"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stopping already; saving what was recorded" in done.stderr
    assert f"saved in {out}" in done.stderr
    (total,) = parse_reports((out / "report.txt").read_text())
    assert total.scope.pids == (guest.pid,)
    check_folder(out, reason="duration-reached", detail="duration reached (2 s)")
