"""`vmexit-tui compare` run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from vmexit_tui.analysis.comparison import ComparedRun, compare
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats.snapshots import save_comparison, save_run
from vmexit_tui.reference import seed_runs

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


def cli(*args: str, columns: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(
        [sys.executable, "-m", "vmexit_tui", "compare", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_four_builtin_runs_default_to_raw_bind_pairs_in_json():
    p = cli("gp-gp-raw", "gp-gp-bind", "gp-rt-raw", "gp-rt-bind", "--format", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["pairs"] == [[0, 1], [2, 3]]
    pairs = {tuple(f["pair"]) for f in data["findings"]}
    assert pairs == {(0, 1), (2, 3)}
    assert not [f for f in data["findings"] if f["metric"] == "samples"]  # not tested
    gp_io = [d for d in data["differences"] if d["pair"] == [0, 1]
             and d["reason"] == "IO_INSTRUCTION"]  # fmt: skip
    assert [(d["baseline_value"], d["value"]) for d in gp_io] == [(1047, 608)]


def test_baseline_by_label_compares_everything_with_it():
    p = cli("gp-gp-raw", "gp-gp-bind", "gp-rt-raw", "--baseline", "GP-RT-RAW", "--format", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["baseline"] == 2 and data["pairs"] == [[2, 0], [2, 1]]


def test_snapshot_and_perf_text_file_arguments(tmp_path):
    snap = save_run(tmp_path / "rt.json", RunInfo(label="rt-run"),
                    {EventKind.VMEXIT: seed_runs.load("gp-rt-raw")})  # fmt: skip
    p = cli(str(snap), str(FIXTURES / "vmx_perf61_pid.txt"), "--format", "csv")
    assert p.returncode == 0, p.stderr
    labels = {line.split(",")[2] for line in p.stdout.splitlines()[1:]}
    assert labels == {"rt-run", "vmx_perf61_pid"}
    runs = [ComparedRun(n, seed_runs.load(n)) for n in ("gp-rt-raw", "gp-rt-bind")]
    cmp_path = save_comparison(tmp_path / "c.json", compare(runs))
    p = cli(str(cmp_path), "--format", "markdown")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("## VM-exit comparison: gp-rt-raw vs gp-rt-bind")


def test_table_is_the_default():
    p = cli("gp-rt-raw", "gp-rt-bind")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1].startswith("Exit reason")
    assert "EXTERNAL_INTERRUPT: share of exits falls from 4.11% to 0.35%" in p.stdout


def test_errors_go_to_stderr_with_nonzero_exit(tmp_path):
    p = cli("gp-rt-raw", "no-such-run")
    assert p.returncode != 0 and p.stdout == ""
    assert "'no-such-run' is neither a file nor a built-in run" in p.stderr
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "vmexit-tui-snapshot", "sch')
    p = cli("gp-rt-raw", str(bad))
    assert p.returncode != 0 and str(bad) in p.stderr and "truncated" in p.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    p = cli("gp-rt-raw", str(junk))
    assert p.returncode != 0 and "junk.txt:1" in p.stderr
    p = cli("gp-rt-raw")
    assert p.returncode != 0 and "2 to 4 runs" in p.stderr
    p = cli("gp-rt-raw", "gp-rt-bind", "--baseline", "7")
    assert p.returncode != 0 and "only 2 runs" in p.stderr


FOUR = ("gp-gp-raw", "gp-gp-bind", "gp-rt-raw", "gp-rt-bind")


def table_part(text: str) -> list[str]:
    return text.split("\n\n? = not known")[0].splitlines()


def test_four_runs_fit_80_columns_stacked_by_pair():
    """Issue 14.12: the table fits $COLUMNS; no line is longer, so no row wraps."""
    p = cli(*FOUR, columns="80")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    table = table_part(p.stdout)
    heads = [ln.split() for ln in table if ln.strip().startswith("GP-")]
    assert heads == [["GP-GP-RAW", "GP-GP-BIND"], ["GP-RT-RAW", "GP-RT-BIND"]]  # pairs kept
    ext = [ln for ln in table if ln.startswith("EXTERNAL_INTERRUPT")]
    assert ext == [  # every figure of a row stays on its line
        "EXTERNAL_INTERRUPT    382   0.71%  0.53    188   0.32%  0.78  -0.39    +47%",
        "EXTERNAL_INTERRUPT   2175   4.11%  0.51    196   0.35%   1.15  -3.76   +125%",
    ]


def test_four_runs_at_120_columns_keep_the_spreads():
    p = cli(*FOUR, columns="120")
    assert p.returncode == 0, p.stderr
    assert max(map(len, p.stdout.splitlines())) <= 120
    table = table_part(p.stdout)
    assert sum(ln.startswith("Exit reason") for ln in table) == 2
    assert any("±<" in ln for ln in table)  # stacking came before dropping the spreads


def test_no_width_limit_when_not_a_terminal_and_width_option():
    wide = cli(*FOUR)
    assert sum(ln.startswith("Exit reason") for ln in wide.stdout.splitlines()) == 1
    assert max(map(len, wide.stdout.splitlines())) > 200
    p = cli(*FOUR, "--width", "100", columns="300")  # the option wins over $COLUMNS
    assert max(map(len, p.stdout.splitlines())) <= 100
    bad = cli(*FOUR, "--width", "-1")
    assert bad.returncode == 2 and "--width: expected 0 (no limit) or more" in bad.stderr


def test_one_file_holding_two_reports_compares_them_with_each_other(tmp_path):
    path = Path(__file__).parents[1] / "fixtures" / "pasted" / "before_after.txt"
    p = cli(str(path), "--format", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert [r["label"] for r in data["runs"]] == ["before_after[1]", "before_after[2]"]
    assert [r["total_samples"] for r in data["runs"]] == [2114, 1323]
    blob = tmp_path / "perf.data"
    blob.write_bytes(b"PERFILE2\x00" * 100)
    bad = cli(str(blob), "gp-gp-raw")
    assert bad.returncode == 2
    assert f"{blob}: binary file, not a perf kvm stat report" in bad.stderr


def test_a_comparison_snapshot_argument_brings_its_runs_latency_and_setup(tmp_path):
    from vmexit_tui.analysis.latency import LatencySummary
    from vmexit_tui.analysis.run_context import RunContext
    from vmexit_tui.formats.cyclictest import ThreadSummary
    from vmexit_tui.host.audit import AuditCheck

    def policy(value: str) -> AuditCheck:
        return AuditCheck("vm.rt-guest.vcpu0.policy", value, "SCHED_FIFO", "why", "/proc/1/stat")

    runs = [ComparedRun(n.upper(), seed_runs.load(n)) for n in ("gp-rt-raw", "gp-rt-bind")]
    contexts = [
        RunContext(runs[0].label, (policy("SCHED_OTHER"),),
                   LatencySummary((ThreadSummary(0, cycles=1000, avg_us=9.0, max_us=900),))),
        RunContext(runs[1].label, (policy("SCHED_FIFO 95"),),
                   LatencySummary((ThreadSummary(0, cycles=1000, avg_us=5.0, max_us=60),))),
    ]  # fmt: skip
    path = save_comparison(tmp_path / "c.json", compare(runs), contexts)
    p = cli(str(path))
    assert p.returncode == 0, p.stderr
    assert "GP-RT-RAW: max 900 µs" in p.stdout and "GP-RT-BIND: max 60 µs" in p.stdout
    assert "vm.vcpu0.policy: GP-RT-RAW SCHED_OTHER; GP-RT-BIND SCHED_FIFO 95" in p.stdout
