"""Scheduling state of real threads: this one, and one made SCHED_FIFO here (root only)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from vmexit_tui.host.vcpu_sched import read_sched


def test_this_thread_reads_as_the_kernel_reports_it():
    s = read_sched(os.getpid(), os.getpid())
    assert s is not None
    assert s.cpus == tuple(sorted(os.sched_getaffinity(0)))
    assert s.last_cpu in s.cpus
    assert s.policy == "OTHER" and s.label == "OTHER"


@pytest.mark.skipif(os.geteuid() != 0, reason="SCHED_FIFO needs root")
def test_a_fifo_thread_pinned_to_one_cpu_reads_fifo_with_its_priority():
    cpu = sorted(os.sched_getaffinity(0))[-1]
    proc = subprocess.Popen(
        [
            "chrt",
            "-f",
            "7",
            "taskset",
            "-c",
            str(cpu),
            sys.executable,
            "-c",
            "import sys; sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            s = read_sched(proc.pid, proc.pid)
            if s is not None and s.policy == "FIFO" and s.cpus == (cpu,):
                break
            time.sleep(0.05)
        assert s is not None and s.label == "FIFO 7" and s.affinity == str(cpu)
    finally:
        proc.communicate(b"")
    assert read_sched(proc.pid, proc.pid) is None  # gone
