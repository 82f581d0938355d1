"""How the host schedules one vCPU thread: allowed CPUs, the CPU it last ran on, policy, priority.

Read from the kernel (`sched_getaffinity`, `sched_getscheduler`, `sched_getparam` and field 39
of `/proc/PID/task/TID/stat`) for the per-vCPU view; a thread that is gone reads as None.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from vmexit_tui.host.discovery import cpu_ranges

_POLICIES = {
    os.SCHED_OTHER: "OTHER",
    os.SCHED_FIFO: "FIFO",
    os.SCHED_RR: "RR",
    os.SCHED_BATCH: "BATCH",
    os.SCHED_IDLE: "IDLE",
}
SCHED_DEADLINE = 6


@dataclass(frozen=True, slots=True)
class ThreadSched:
    """One thread's scheduling state at one moment."""

    tid: int
    cpus: tuple[int, ...]
    last_cpu: int | None
    policy: str
    priority: int

    @property
    def affinity(self) -> str:
        """`2-3`, `0,4`: the allowed host CPUs as ranges."""
        return cpu_ranges(self.cpus)

    @property
    def label(self) -> str:
        """`FIFO 95`, `RR 10`, `OTHER` (a priority is shown for real-time policies only)."""
        return f"{self.policy} {self.priority}" if self.policy in ("FIFO", "RR") else self.policy


def last_cpu(pid: int, tid: int) -> int | None:
    """The CPU the thread last ran on (`processor`, field 39 of its stat), None if gone."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    try:
        return int(fields[36])  # field 39 overall; fields[0] is field 3 (state)
    except (IndexError, ValueError):
        return None


def read_sched(pid: int, tid: int) -> ThreadSched | None:
    """The thread's scheduling state, None when it is gone or cannot be read."""
    try:
        cpus = tuple(sorted(os.sched_getaffinity(tid)))
        policy_id = os.sched_getscheduler(tid) & 0xFF  # drop SCHED_RESET_ON_FORK
        priority = os.sched_getparam(tid).sched_priority
    except OSError:
        return None
    policy = _POLICIES.get(policy_id, "DEADLINE" if policy_id == SCHED_DEADLINE else str(policy_id))
    return ThreadSched(tid, cpus, last_cpu(pid, tid), policy, priority)
