"""When a process started, in a form that a step of the wall clock cannot move.

psutil's `create_time()` is the process's start (clock ticks after boot, fixed for its life)
plus the boot time read *now* from `/proc/stat` (`btime`). `btime` moves whenever the wall
clock is stepped (NTP or chrony stepping, `date -s`, a VM's unstable clocksource), so two reads
of one process can differ by seconds and a pid-reuse check compares them as two processes: a
recording ended with "VM exited" while the VM ran on. Here a process is identified by its
start in ticks after boot, the same in every process and for the whole uptime, and epoch times
are built from a boot time read once per vmexit-tui process.
"""

from __future__ import annotations

import functools
import os

import psutil

__all__ = ["CLOCK_TICKS", "boot_time", "same_process", "start_ticks", "started", "ticks_of"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def start_ticks(pid: int) -> int:
    """`pid`'s start in clock ticks after boot; psutil.NoSuchProcess when it is gone."""
    try:
        with open(os.path.join(psutil.PROCFS_PATH, str(pid), "stat"), "rb") as f:
            stat = f.read()
        # after "pid (comm) ": state is field 3, starttime field 22 (comm may hold ") ")
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        raise psutil.NoSuchProcess(pid) from None


@functools.cache
def boot_time() -> float:
    """The boot time as epoch seconds, read once: the base of every `started` here."""
    return psutil.boot_time()


def started(pid: int) -> float:
    """`pid`'s start as epoch seconds (10 ms steps); stable for this process's life."""
    return boot_time() + start_ticks(pid) / CLOCK_TICKS


def ticks_of(started_s: float) -> int:
    """The start in ticks after boot of a process that `started` gave `started_s`."""
    return round((started_s - boot_time()) * CLOCK_TICKS)


def same_process(pid: int, started_s: float | None) -> bool:
    """True when `pid` is the process that started at `started_s` (safe against pid reuse)."""
    if started_s is None:
        return False
    try:
        return start_ticks(pid) == ticks_of(started_s)
    except psutil.Error:
        return False
