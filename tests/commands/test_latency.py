"""`vmexit-tui latency`: real cyclictest output through stdin and its --json file."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from vmexit_tui.cli import main

needs_cyclictest = pytest.mark.skipif(
    shutil.which("cyclictest") is None, reason="cyclictest (rt-tests) is not installed"
)


@needs_cyclictest
def test_stdin_and_json_file_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    jfile = tmp_path / "ct.json"
    argv = ["cyclictest", "-m", "-p95", "-i", "1000", "-t", "2", "-D", "2", "-h", "300"]
    printed = subprocess.run(
        [*argv, f"--json={jfile}"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    monkeypatch.setattr("sys.stdin", io.StringIO("a login prompt\n" + printed))
    assert main(["latency", "-", "--json"]) == 0
    from_text = json.loads(capsys.readouterr().out)
    assert main(["latency", str(jfile), "--json"]) == 0
    from_json = json.loads(capsys.readouterr().out)
    assert from_text["skipped_lines"] == 1 and from_json["skipped_lines"] == 0
    assert set(from_text) >= {"threads", "spikes", "skipped_lines"}
    for a, b in zip(from_text["threads"], from_json["threads"], strict=True):
        assert set(a) >= {"thread", "cpu", "cycles", "min_us", "avg_us", "max_us", "histogram"}
        assert (a["thread"], a["max_us"], a["histogram"]) == (
            b["thread"],
            b["max_us"],
            b["histogram"],
        )
        assert a["avg_us"] == pytest.approx(b["avg_us"], abs=1)
        assert a["cpu"] is None and b["cpu"] == a["thread"]  # only --json knows the CPU
    assert from_json["p999_source"] in ("histogram", "none")


def test_spikes_with_a_fixed_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        f"T: 0 ( 7) P:95 I:1000 C:{c:7d} Min:      2 Act:{act:5d} Avg:    3 Max:{mx:8d}"
        for c, act, mx in ((500, 3, 9), (1000, 4, 9), (1500, 80, 80), (2500, 3, 80))
    ]
    f = tmp_path / "console.log"
    f.write_text("\n".join(lines) + "\n")
    assert main(["latency", str(f), "--json", "--spike-us", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["spikes"] == [{"time": 1.5, "thread": 0, "latency_us": 80, "threshold_us": 50.0}]
    assert out["threads"][0]["histogram"] == {}
    assert main(["latency", str(f)]) == 0
    assert "max 80 µs" in capsys.readouterr().out


def test_not_cyclictest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.txt"
    f.write_text("hello\nworld\n")
    assert main(["latency", str(f)]) == 1
    err = capsys.readouterr().err
    assert f"{f}:1: expected cyclictest output" in err and err.count("\n") == 1


@needs_cyclictest
def test_output_in_ns_with_ns_and_its_json_by_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jfile, printed = tmp_path / "ct.json", tmp_path / "ct.txt"
    argv = ["cyclictest", "-N", "-q", "-m", "-i", "1000", "-t", "1", "-D", "1"]
    printed.write_text(
        subprocess.run(
            [*argv, f"--json={jfile}"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    exact_ns = json.loads(jfile.read_text())["thread"]["0"]["max"]
    results = {}
    for name, args in (
        ("ns", [str(printed), "--ns"]),
        ("json", [str(jfile)]),
        ("as us", [str(printed)]),
    ):
        assert main(["latency", *args, "--json"]) == 0
        results[name] = json.loads(capsys.readouterr().out)["threads"][0]["max_us"]
    assert results["ns"] == results["json"] == round(exact_ns / 1000)
    assert results["as us"] == exact_ns  # what -N output read without --ns would claim
