"""How long does a VmScanner.scan() take, and how does it grow with processes and open fds?

Every non-QEMU process has its /proc/PID/fd links read (to find kvm-vm holders), so the cost
grows with the number of processes and their descriptors. Prints figures; asserts nothing.

    python bench/bench_vms.py [--procs 500] [--fds 2000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.qemu_guest import qemu_guest
from vmexit_tui.host.discovery import VmScanner

_HOLD_FDS = "import os, sys\nfds = [os.open('/dev/null', os.O_RDONLY) for _ in range({n})]\n"
_HOLD_FDS += "print('ready', flush=True)\nsys.stdin.read()\n"


def timed(scanner: VmScanner, rounds: int) -> tuple[float, float, int]:
    """Median and max milliseconds per scan, and the number of guests found."""
    times = []
    found = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        found = len(scanner.scan())
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), found


def report(label: str, scanner: VmScanner, rounds: int) -> None:
    med, worst, found = timed(scanner, rounds)
    nprocs = sum(p.isdigit() for p in os.listdir("/proc"))
    print(
        f"{label:<34} {nprocs:>6} procs  {found:>2} guests  "
        f"median {med:7.2f} ms  max {worst:7.2f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--fds", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()

    scanner = VmScanner()
    report("idle host", scanner, args.rounds)
    with qemu_guest(smp=2):
        report("one 2-vCPU guest", scanner, args.rounds)
        sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(args.procs)]
        try:
            report(f"+{args.procs} sleeping processes", scanner, args.rounds)
            holder = subprocess.Popen(
                [sys.executable, "-c", _HOLD_FDS.format(n=args.fds)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
                report(f"+1 process with {args.fds} fds", scanner, args.rounds)
            finally:
                holder.kill()
                holder.wait()
        finally:
            for s in sleepers:
                s.kill()
            for s in sleepers:
                s.wait()


if __name__ == "__main__":
    main()
