"""perf argument lists: -i before stat, --stdio only from perf 6.4, whole-second intervals."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.host import preflight
from vmexit_tui.recording.perf_argv import (
    PerfNotUsable,
    PerfVersion,
    live_argv,
    parse_perf_version,
    parse_sample_count,
    record_argv,
    report_argv,
    stats_argv,
    whole_seconds,
)

V61 = PerfVersion(6, 1, "6.1.187")
V63 = PerfVersion(6, 3)
V64 = PerfVersion(6, 4)


@pytest.mark.parametrize(
    ("text", "major", "minor", "shown"),
    [
        ("perf version 6.1.187\n", 6, 1, "6.1.187"),
        ("perf version 6.10.rc3.g1234", 6, 10, "6.10.rc3.g1234"),
        ("5.15.0", 5, 15, "5.15.0"),
    ],
)
def test_parse_perf_version(text, major, minor, shown):
    v = parse_perf_version(text)
    assert (v.major, v.minor, str(v)) == (major, minor, shown)


def test_parse_perf_version_rejects_other_output():
    with pytest.raises(PerfNotUsable, match=r"expected 'perf version X\.Y"):
        parse_perf_version("bash: perf: command not found")


def test_stdio_only_from_6_4():
    assert not V61.accepts_stdio and not V63.accepts_stdio
    assert V64.accepts_stdio and PerfVersion(7, 0).accepts_stdio
    assert "--stdio" not in report_argv("c", version=V63)
    assert report_argv("c", version=V64)[-1] == "--stdio"


def test_report_argv_puts_input_before_stat():
    argv = report_argv("/d/perf.data.2026", EventKind.MMIO, vcpu=1, version=V61)
    assert argv == [
        "perf", "kvm", "-i", "/d/perf.data.2026", "stat", "report", "--event=mmio", "--vcpu=1",
    ]  # fmt: skip


def test_record_argv_rotates_in_whole_seconds():
    argv = record_argv(4242, "/d/perf.data", interval_s=2.0, perf="/usr/bin/perf")
    assert argv == [
        "/usr/bin/perf", "kvm", "stat", "record", "-p", "4242", "-o", "/d/perf.data",
        "--switch-output=signal",
    ]  # fmt: skip


@pytest.mark.parametrize("bad", [0, 0.5, 1.5, -1])
def test_fractional_or_small_intervals_are_refused(bad):
    with pytest.raises(ValueError, match="whole number of seconds"):
        whole_seconds(bad)
    with pytest.raises(ValueError):
        record_argv(1, "x", interval_s=bad)
    with pytest.raises(ValueError):
        live_argv(1, interval_s=bad)


def test_live_argv():
    argv = live_argv(99, EventKind.IOPORT, interval_s=3, vcpu=0)
    assert argv == [
        "perf", "kvm", "stat", "live", "-d", "3", "-p", "99", "--event=ioport", "--vcpu=0",
    ]  # fmt: skip


def test_no_builder_runs_bare_perf_kvm_stat():
    for argv in (record_argv(1, "o"), report_argv("c"), live_argv(1)):
        after = argv[argv.index("stat") + 1 :]
        assert after and after[0] in {"record", "report", "live"}


def test_sample_count_of_perf_report_stats():
    text = (
        "Aggregated stats:\n           TOTAL events:        286\n"
        "          SAMPLE events:        222  (77.6%)\n"
        "kvm:kvm_pio stats:\n          SAMPLE events:        222\n"
    )
    assert parse_sample_count(text) == 222
    assert parse_sample_count("nothing here") is None


@pytest.mark.perf
@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
def test_installed_perf_accepts_the_report_argv(tmp_path):
    """The real perf parses our options: it fails on the missing file, not on an option."""
    version = parse_perf_version(preflight.perf_version() or "")
    argv = report_argv(tmp_path / "missing", vcpu=0, version=version)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    text = done.stdout + done.stderr
    assert "unknown option" not in text and "unknown switch" not in text, text
    assert "missing" in text or "No such file" in text, text
    stats = subprocess.run(
        stats_argv(tmp_path / "missing"), capture_output=True, text=True, timeout=30
    )
    assert "unknown" not in stats.stdout + stats.stderr
