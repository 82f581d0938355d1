"""`vmexit-tui vms`: list the running KVM guests, their vCPU threads and pinning.

Emulated guests (a QEMU without KVM) follow in their own "not KVM" section: they cannot be
recorded. In the JSON every guest has `"kvm": true|false`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from vmexit_tui.commands._arg_types import non_negative_float
from vmexit_tui.formats import numbers
from vmexit_tui.host.discovery import VmInfo, VmScanner, cpu_ranges
from vmexit_tui.host.preflight import run_checks

NAME = "vms"
HELP = "list running KVM guests with their vCPU threads, CPU affinity and pinning"

_COLUMNS = ("NAME", "PID", "VMM", "VCPUS", "PINNING", "CPU%", "RSS", "UPTIME")
_RIGHT = {"PID", "VCPUS", "CPU%", "RSS", "UPTIME"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--interval",
        type=non_negative_float,
        default=0.5,
        metavar="SECONDS",
        help="sample CPU%% over this long (default 0.5; 0 skips CPU%%)",
    )


def format_bytes(n: int) -> str:
    """Binary units, one decimal: 41336832 -> '39.4M'."""
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{int(value)}B" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """Two most significant units: 42s, 5m03s, 2h05m, 3d04h."""
    s = int(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{s:02d}s"
    return f"{s}s"


def _row(vm: VmInfo, now: float) -> tuple[str, ...]:
    cpu = numbers.percent(vm.cpu_percent, 1)  # "?" on a guest's first sighting
    return (
        vm.name,
        str(vm.pid),
        vm.vmm,
        str(len(vm.vcpus)) if vm.vcpus else "?",
        str(vm.pinning),
        cpu,
        format_bytes(vm.rss_bytes),
        format_duration(vm.uptime(now)),
    )


def render_table(vms: Sequence[VmInfo], now: float | None = None) -> str:
    """The aligned table: one line per guest, then one indented line per vCPU thread."""
    now = time.time() if now is None else now
    rows = [_row(vm, now) for vm in vms]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.rjust(w) if col in _RIGHT else cell.ljust(w)
            for cell, w, col in zip(cells, widths, _COLUMNS, strict=True)
        ]
        return "  ".join(out).rstrip()

    lines = [line(_COLUMNS)]
    for vm, row in zip(vms, rows, strict=True):
        lines.append(line(row))
        if not vm.vcpus:
            hint = (
                "start QEMU with -name ...,debug-threads=on to name them"
                if vm.vmm == "qemu"
                else "no thread named like a vCPU"
            )
            lines.append(f"    vCPU threads not identifiable: {hint}")
        tid_width = max((len(str(v.tid)) for v in vm.vcpus), default=0)
        idx_width = max((len(str(v.index)) for v in vm.vcpus), default=0)
        for v in vm.vcpus:
            lines.append(
                f"    vCPU {v.index:<{idx_width}}  tid {v.tid:>{tid_width}}  "
                f"cpus {cpu_ranges(v.cpus)}"
            )
    return "\n".join(lines) + "\n"


def _print_problems(err: TextIO) -> None:
    for p in run_checks():
        kind = "error" if p.blocking else "note"
        print(f"{kind}: {p.summary}\n  fix: {p.fix}", file=err)


NOT_KVM_TITLE = (
    "Not KVM (emulated, e.g. QEMU -accel tcg; perf kvm stat sees no exits, never recorded):"
)


def run(args: argparse.Namespace) -> int:
    scanner = VmScanner()
    found = scanner.scan(include_non_kvm=True)
    if found and args.interval > 0:
        time.sleep(args.interval)
        found = scanner.scan(include_non_kvm=True)
    vms = [vm for vm in found if vm.kvm]
    emulated = [vm for vm in found if not vm.kvm]
    if args.json:
        json.dump([vm.to_json() for vm in vms + emulated], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(vms) if vms else "No running KVM guests found.\n")
        if emulated:
            sys.stdout.write(f"\n{NOT_KVM_TITLE}\n" + render_table(emulated))
    if not vms:
        _print_problems(sys.stderr)
    from vmexit_tui.recording import modes

    print(f"recording mode: {modes.mode_note(modes.detect())}", file=sys.stderr)
    return 0
