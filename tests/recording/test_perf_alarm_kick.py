"""perf 6.1 may lose --switch-output's first alarm on a loaded host: the recorder resends it.

The race (perf ignores an alarm that comes before its setup is done, and only a rotation arms
the next one) depends on load and cannot be provoked on demand; observed here: perf wrote
perf.data for ten minutes without a chunk until it got a SIGALRM. So the stand-in for perf is
a real process that handles SIGALRM the way perf does, or one that does not handle it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

from vmexit_tui.host.discovery import Pinning, VmInfo
from vmexit_tui.recording.perf_chunks import ChunkTracker
from vmexit_tui.recording.perf_record import PerfRecorder, catches_signal

HANDLES_ALARM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGALRM, lambda *a: print('alarm', flush=True))\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)
VM = VmInfo(1, "vm", "qemu", 0.0, None, 0, (), Pinning.UNKNOWN)


def _recorder(tmp_path, proc) -> PerfRecorder:
    rec = PerfRecorder(VM, tmp_path / "run", interval_s=1)
    rec.started = time.time() - 10  # well past the first interval, no chunk yet
    rec.tracker = ChunkTracker(tmp_path, rec.started)
    rec._proc = proc
    return rec


async def test_a_perf_without_a_first_chunk_gets_one_sigalrm_per_interval(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HANDLES_ALARM, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert await proc.stdout.readline() == b"ready\n"
        assert catches_signal(proc.pid, signal.SIGALRM)
        rec = _recorder(tmp_path, proc)
        rec._kick_lost_alarm()
        rec._kick_lost_alarm()  # within the same interval: not again
        assert await asyncio.wait_for(proc.stdout.readline(), 5) == b"alarm\n"
        assert rec.alarm_kicks == 1 and proc.returncode is None
    finally:
        proc.kill()
        await proc.wait()


async def test_a_process_that_does_not_handle_sigalrm_is_left_alone(tmp_path):
    proc = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        await asyncio.sleep(0.2)
        assert not catches_signal(proc.pid, signal.SIGALRM)
        rec = _recorder(tmp_path, proc)
        rec._kick_lost_alarm()
        await asyncio.sleep(0.2)
        assert rec.alarm_kicks == 0 and proc.returncode is None  # SIGALRM would have ended it
    finally:
        proc.kill()
        await proc.wait()
