"""`vmexit-tui audit [--json]`: the host's real-time configuration, with each guest's vCPUs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from vmexit_tui.commands._arg_types import positive_int
from vmexit_tui.host.audit import AuditCheck, audit
from vmexit_tui.host.discovery import VmInfo, VmNotFound, VmScanner

NAME = "audit"
HELP = "report the host's real-time settings (isolation, kvm parameters, vCPU pinning, IRQs)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of checks")
    parser.add_argument(
        "--pid", type=positive_int, help="only this guest (default: every running guest)"
    )
    parser.add_argument("--name", help="only the guest with this name")
    parser.add_argument(
        "--root",
        default="/",
        help="read /proc, /sys and /etc below this folder instead of / (for saved trees)",
    )


def render_table(checks: Sequence[AuditCheck]) -> str:
    """One line per check: name, value, and what an RT host usually has."""
    width = max((len(c.name) for c in checks), default=0)
    vwidth = min(40, max((len(c.value) for c in checks), default=0))
    lines = [f"{'CHECK':<{width}}  {'VALUE':<{vwidth}}  USUAL FOR RT"]
    for c in checks:
        value = c.value if len(c.value) <= vwidth else c.value[: vwidth - 1] + "…"
        lines.append(f"{c.name:<{width}}  {value:<{vwidth}}  {c.usual_for_rt}".rstrip())
    return "\n".join(lines) + "\n"


def _guests(args: argparse.Namespace) -> list[VmInfo]:
    scanner = VmScanner()
    if args.pid is None and args.name is None:
        return scanner.scan()
    return [scanner.find(pid=args.pid, name=args.name)]


def run(args: argparse.Namespace) -> int:
    try:
        vms = _guests(args) if args.root == "/" else []
    except VmNotFound as err:
        print(f"vmexit-tui audit: {err}", file=sys.stderr)
        return 1
    checks = audit(vms, root=args.root)
    if args.json:
        json.dump([c.to_json() for c in checks], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(checks))
    return 0
