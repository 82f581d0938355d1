"""Every numeric option refuses a bad value in one line, before anything runs."""

from __future__ import annotations

import subprocess
import sys

import pytest


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vmexit_tui", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ("record --pid 1 --duration -5", "argument --duration: must be greater than 0, got -5"),
        ("record --pid 1 --duration 0", "leave --duration out to record until Ctrl+C"),
        ("record --pid 1 --duration nan", "argument --duration: expected a finite number"),
        ("record --pid 1 --duration soon", "argument --duration: expected a number, got 'soon'"),
        ("record --pid 1 --interval 0", "argument --interval: must be 1 or more, got 0"),
        ("record --pid 1 --interval 0.5", "argument --interval: expected a whole number"),
        ("record --pid -3", "argument --pid: must be 1 or more, got -3"),
        ("record --pid 1 --vcpu -1", "argument --vcpu: must be 0 or more, got -1"),
        ("vms --interval -1", "argument --interval: must be 0 or more, got -1"),
        ("vms --interval inf", "argument --interval: expected a finite number"),
        ("compare gp-gp-raw gp-gp-bind --alpha 1.5", "argument --alpha: must be between 0 and 1"),
        ("compare gp-gp-raw gp-gp-bind --alpha 0", "argument --alpha: must be between 0 and 1"),
        ("report --builtin gp-rt-raw --index -1", "argument --index: must be 1 or more"),
        ("latency - --spike-us -3", "argument --spike-us: must be greater than 0, got -3"),
        ("audit --pid 0", "argument --pid: must be 1 or more, got 0"),
        ("serve --interval 0", "argument --interval: must be greater than 0, got 0"),
        ("serve --rescan -2", "argument --rescan: must be greater than 0, got -2"),
    ],
)  # fmt: skip
def test_a_bad_number_is_refused_in_one_line(args, why):
    args = args.split()
    out = cli(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert why in out.stderr
    assert out.stderr.startswith(f"vmexit-tui {args[0]}: error: ")


def test_help_says_what_no_duration_means():
    help_text = " ".join(cli("record", "--help").stdout.split())
    assert "without --duration, record until Ctrl+C" in help_text


def test_the_top_level_numeric_option_too():
    out = cli("--fleet-interval", "-1")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert "argument --fleet-interval: must be greater than 0, got -1" in out.stderr
