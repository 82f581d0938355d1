"""contrib/: the systemd unit runs a command line our parser accepts and stops with SIGTERM."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from vmexit_tui.cli import build_parser
from vmexit_tui.exporter.listen import is_loopback, parse_listen

UNIT = Path(__file__).parents[2] / "contrib" / "vmexit-tui.service"


def unit() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(strict=False, interpolation=None)
    cfg.optionxform = str  # type: ignore[assignment,method-assign]
    cfg.read_string(UNIT.read_text())
    return cfg


def test_exec_start_is_a_valid_serve_command_on_loopback():
    argv = shlex.split(unit()["Service"]["ExecStart"])
    assert argv[0].endswith("/vmexit-tui") and argv[1] == "serve"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "serve" and args.source == "auto"
    assert is_loopback(parse_listen(args.listen).host) and not args.allow_remote


def test_stopped_with_sigterm_and_restarted_on_failure():
    service = unit()["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 15  # room to drain recordings and remove tracefs
    assert service["Restart"] == "on-failure"
