"""The console script's dispatch: the TUI path imports no command module."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from vmexit_tui import cli
args = cli._tui_args(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith("vmexit_tui.commands.") and m[20:21] != "_")
print(args is not None and args.command is None, loaded)
"""


def _probe(*argv: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_opening_the_tui_imports_no_command():
    assert _probe("--demo") == "True []"
    assert _probe("--source", "kernel", "--spike-us", "50") == "True []"


def test_a_command_or_help_takes_the_full_parser():
    assert _probe("report", "x.txt").startswith("False")
    assert _probe("--latency-cmd", "report").startswith("False")  # a value named like one
    assert _probe("--help").startswith("False")


def test_a_command_option_named_like_a_tui_option_is_the_command_s():
    """`serve --source demo`: --source is also a TUI option, with other choices."""
    out = subprocess.run(
        [sys.executable, "-m", "vmexit_tui", "serve", "--source", "nonsense"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "vmexit-tui serve: error: argument --source" in out.stderr
