"""The `vmexit-tui` console script: the TUI by default, headless subcommands beside it.

Each subcommand lives in its own module under `vmexit_tui.commands` and exposes
`NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from vmexit_tui import __version__, commands
from vmexit_tui.commands._arg_types import positive_float
from vmexit_tui.recording.latency_session import add_latency_arguments


def _command_modules() -> list[ModuleType]:
    found = []
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found.append(module)
    return sorted(found, key=lambda m: m.NAME)


def _tui_args(argv: list[str]) -> argparse.Namespace | None:
    """The TUI's arguments when `argv` names no command and asks no help, else None.

    Opening the TUI then imports no command module: its first frame comes sooner."""
    names = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    if {"-h", "--help"} & set(argv) or names & set(argv):
        return None
    args, rest = build_parser(with_commands=False).parse_known_args(argv)
    if rest:
        return None  # a command (or a mistake the full parser explains)
    args.command = None
    return args


class _OneLineErrors(argparse.ArgumentParser):
    """A bad option is one line on stderr (`--duration: must be 0 or more, got -5`), no usage."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    """The full argument parser: TUI options at the top, one sub-parser per command
    (`with_commands=False`: the TUI's options only, without importing every command)."""
    parser = _OneLineErrors(
        prog="vmexit-tui",
        description="Why do your KVM guests leave guest mode? Live VM-exit statistics "
        "from perf kvm stat. Without a subcommand it opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"vmexit-tui {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the UI on simulated VMs drawn from the built-in reference runs",
    )
    parser.add_argument(
        "--source",
        choices=("auto", "kernel", "count", "perf"),
        default="auto",
        help="how the UI records: in-kernel hist triggers, perf counting, perf record; "
        "auto (default): the best this kernel offers",
    )
    parser.add_argument(
        "--fleet",
        nargs="+",
        metavar="URL",
        help="open the fleet view on these `vmexit-tui serve` exporters (HOST:PORT or URL)",
    )
    parser.add_argument(
        "--fleet-file", metavar="FILE", help="the fleet's exporter URLs, one per line"
    )
    parser.add_argument(
        "--fleet-interval",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="how often the fleet view reads the exporters (default 5)",
    )
    add_latency_arguments(parser, stdin=False)  # for the TUI
    if not with_commands:
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _tui_args(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    try:
        if args.command is None:
            from vmexit_tui.app.main import run_app  # imported late: the core needs no Textual

            return run_app(args)
        return int(args._run(args))
    except BrokenPipeError:
        # `vmexit-tui report x | head`: the reader went away; that is not our error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
