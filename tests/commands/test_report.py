"""`vmexit-tui report` run as the console script would be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vmexit_tui.formats import numbers
from vmexit_tui.formats.perf_parser import parse_report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vmexit_tui", "report", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_table_shows_the_numbers_perf_printed():
    """In the one format of `formats.numbers`: µs stay µs, a legend explains the symbols."""
    path = FIXTURES / "vmx_perf61_pid.txt"
    out = run(str(path))
    assert out.returncode == 0, out.stderr
    lines = {ln.split()[0]: ln.split() for ln in out.stdout.splitlines()[2:-2]}
    for row in parse_report(path.read_text()).rows:
        cells = lines[row.reason]
        assert cells[1] == str(row.samples)
        assert cells[2] == f"{row.samples_pct:.2f}%"
        assert cells[5] == numbers.us(row.max_us)
        assert cells[6] == numbers.us(row.mean_us)
        assert cells[7] == f"±{row.rel_stddev_pct:.2f}%"
    assert "ms" not in out.stdout
    assert out.stdout.splitlines()[-2] == "total samples 5298, handled time 2.41 s"
    assert out.stdout.splitlines()[-1] == numbers.LEGEND


def test_json_has_the_public_shape_and_round_trips():
    path = FIXTURES / "svm_perf64_vcpu1.txt"
    data = json.loads(run(str(path), "--json").stdout)
    assert data["event"] == "vmexit" and data["total_samples"] == 5070
    assert data["scope"] == {"pids": [], "vcpu": 1}
    keys = {"reason", "samples", "samples_pct", "time_pct", "min_us", "max_us", "mean_us"}
    assert keys | {"rel_stddev_pct"} <= set(data["rows"][0])
    report = parse_report(path.read_text(), source=str(path))
    from vmexit_tui.formats.report_output import report_from_json

    assert report_from_json(data) == report


def test_json_of_unknowns_is_null_never_zero():
    data = json.loads(run("--builtin", "gp-gp-bind", "--json").stdout)
    assert data["total_samples"] is None and data["total_time_us"] is None
    msr = next(r for r in data["rows"] if r["reason"] == "MSR_WRITE")
    assert msr["rel_stddev_pct"] is None and msr["rel_stddev_upper_pct"] == 0.5


def test_sort_and_csv_and_stdin():
    raw = (FIXTURES / "ioport.txt").read_text()
    out = run("-", "--csv", "--sort", "mean", "--ascending", stdin=raw)
    assert out.returncode == 0, out.stderr
    rows = [ln.split(",") for ln in out.stdout.splitlines()[1:]]
    means = [float(r[6]) for r in rows]
    assert means == sorted(means) and len(rows) == 4
    by_name = run(str(FIXTURES / "ioport.txt"), "--sort", "name").stdout.splitlines()[2:-2]
    assert [ln.split()[0] for ln in by_name] == ["0x3f8:POUT", "0x70:POUT", "0x71:PIN", "0xcf8:PIN"]


def test_explain_adds_the_glossary_meaning():
    out = run("--builtin", "gp-rt-raw", "--explain")
    assert out.returncode == 0, out.stderr
    ept = next(ln for ln in out.stdout.splitlines() if ln.startswith("EPT_VIOLATION"))
    assert "EPT" in ept[60:] or "page" in ept[60:].lower()


def test_not_a_report_exits_non_zero_with_file_and_line_on_stderr(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("\n\nAnalyze events for all VMs, all VCPUs:\n\nwhat is this\n")
    out = run(str(bad))
    assert out.returncode == 2 and out.stdout == ""
    assert f"{bad}:5: expected the column header" in out.stderr
    missing = run(str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "No such file" in missing.stderr


def test_a_file_with_several_kinds_picks_one_and_says_so(tmp_path):
    both = tmp_path / "both.txt"
    both.write_text((FIXTURES / "mmio.txt").read_text() + (FIXTURES / "ioport.txt").read_text())
    out = run(str(both), "--json")
    assert json.loads(out.stdout)["event"] == "mmio"
    assert "also holds ioport" in out.stderr
    io = run(str(both), "--json", "--event", "ioport")
    assert json.loads(io.stdout)["event"] == "ioport"
