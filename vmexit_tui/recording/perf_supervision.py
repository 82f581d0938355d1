"""What every perf source shares: the event queue, stop(), status, and the loop supervising perf.

`RecorderBase` is subclassed by `PerfRecorder` (`perf kvm stat record`, chunks) and
`PerfLiveRecorder` (`perf kvm stat live`). It runs the subclass's `_run` as a task behind
`events()`, turns a stop request into SIGINT, then SIGTERM and SIGKILL `STOP_GRACE_S` apart,
stops when the VM is gone, and says why a recording ended (`_why_ended`). Subclasses fill in
the hooks: `_run`, `_read_stderr`, `_on_round`, `_ask_to_stop`, `_progress_status`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Interval, RunInfo
from vmexit_tui.host import lifecycle, preflight
from vmexit_tui.host.discovery import VmInfo, VmNotFound, VmScanner, is_alive, not_kvm_reason
from vmexit_tui.recording import perf_argv
from vmexit_tui.recording.protocol import (
    EndReason,
    RecorderEvent,
    RecordingEnded,
    RecordingState,
    RecordingStatus,
)

STOP_GRACE_S = 10.0


class CouldNotStart(RuntimeError):
    def __init__(self, reason: EndReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def pinning_now(vm: VmInfo) -> str | None:
    """The VM's pinning state now, None when it is gone."""
    if not is_alive(vm.pid, vm.started):
        return None
    try:
        return str(VmScanner().find(pid=vm.pid).pinning)
    except VmNotFound:
        return None


def describe_exit(code: int) -> str:
    """`perf exited with status 1` / `perf was killed by SIGKILL`."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"perf was killed by {name}"
    return f"perf exited with status {code}"


class RecorderBase:
    """The plumbing both perf sources share: the event queue, stop(), status and info."""

    def __init__(self, vm: VmInfo, *, interval_s: float, perf: str) -> None:
        self.vm = vm
        self.interval_s = float(perf_argv.whole_seconds(interval_s))
        self.perf = perf
        self.info = RunInfo(
            label=vm.name,
            vm_name=vm.name,
            pid=vm.pid,
            pinning=str(vm.pinning),
            host=os.uname().nodename,
            kernel=os.uname().release,
        )
        self.started: float | None = None
        self.state = RecordingState.STARTING
        self.message: str | None = None
        self._stop_requested = False
        self._end: tuple[EndReason, str] | None = None  # decided before perf stopped
        self._wake = asyncio.Event()
        self._queue: asyncio.Queue[RecorderEvent] = asyncio.Queue()
        self._consumed = False
        self._last_rate: float | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        # Set by whoever reads cyclictest beside the recording: its summary for the manifest.
        self.latency_summary: Callable[[], dict[str, Any] | None] | None = None

    async def stop(self) -> None:
        """Ask the recording to finish; idempotent. `events()` then drains and ends."""
        self._request_stop()

    async def stop_at_duration(self, seconds: float) -> None:
        """Stop because the asked duration is over: the manifest says "duration reached"."""
        self._request_stop(EndReason.DURATION_REACHED, f"duration reached ({seconds:g} s)")

    def _request_stop(self, reason: EndReason | None = None, detail: str = "") -> None:
        if reason is not None and self._end is None and not self._stop_requested:
            self._end = (reason, detail)
        if not self._stop_requested:
            self._stop_requested = True
            self._wake.set()

    async def events(self) -> AsyncIterator[RecorderEvent]:
        """Everything the recording produces, ending with one `RecordingEnded`."""
        if self._consumed:
            raise RuntimeError("events() of a recorder can be iterated once")
        self._consumed = True
        runner = asyncio.create_task(self._run())
        try:
            while True:
                getter = asyncio.create_task(self._queue.get())
                done, _ = await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    if self._queue.empty():
                        runner.result()  # re-raise a crash of the runner
                        raise RuntimeError("recorder ended without RecordingEnded")
                    continue
                event = getter.result()
                yield event
                if isinstance(event, RecordingEnded):
                    break
        finally:
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

    async def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _emit(self, event: RecorderEvent) -> None:
        self._queue.put_nowait(event)

    def _status(self, *, chunks: int = 0, bytes_on_disk: int = 0) -> None:
        elapsed = time.time() - self.started if self.started else 0.0
        self._emit(
            RecordingStatus(
                state=self.state,
                elapsed=elapsed,
                chunks=chunks,
                bytes_on_disk=bytes_on_disk,
                exits_per_second=self._last_rate,
                message=self.message,
            )
        )

    def _note_rate(self, interval: Interval) -> None:
        rate = interval.rate(EventKind.VMEXIT)
        if rate is not None and EventKind.VMEXIT in interval.reports:
            self._last_rate = rate

    def _vm_gone(self) -> bool:
        return not is_alive(self.vm.pid, self.vm.started)

    async def _check_can_start(self) -> None:
        """Raise `CouldNotStart`: the VM is not a KVM guest or is gone, or tracefs is missing."""
        if not self.vm.kvm:
            raise CouldNotStart(EndReason.NOT_STARTED, not_kvm_reason(self.vm))
        await asyncio.to_thread(self._tracefs_and_vm, None)

    def _tracefs_and_vm(self, tracing: Path | None) -> Path:
        """`tracing`, else tracefs found or mounted; raise `CouldNotStart` without it or when
        the VM is gone."""
        tracing = tracing or preflight.ensure_tracefs()
        if tracing is None:
            raise CouldNotStart(
                EndReason.NOT_STARTED,
                "tracefs is not mounted and could not be mounted; run "
                "`mount -t tracefs nodev /sys/kernel/tracing` as root",
            )
        if self._vm_gone():
            raise CouldNotStart(EndReason.NOT_STARTED, f"VM pid {self.vm.pid} is not running")
        return tracing

    def _failed_to_start(self, error: Exception) -> None:
        """Report a recording that never started: FAILED status, then `RecordingEnded`."""
        reason = error.reason if isinstance(error, CouldNotStart) else EndReason.NOT_STARTED
        self.state = RecordingState.FAILED
        self.message = str(error)
        self._status()
        self._emit(RecordingEnded(reason, detail=str(error)))

    # ---- supervising perf: the loop both sources share, with hooks -----------------------

    # Signals sent one by one, STOP_GRACE_S apart, after `_ask_to_stop` when perf lingers.
    _escalations: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGKILL)

    async def _supervise_perf(self, proc: asyncio.subprocess.Process) -> int:
        """Watch perf until it exits; its exit code, once its pipes are read to the end.

        Each round (a wake-up or `interval_s`) runs `_on_round`, stops perf when the VM is
        gone, asks perf to stop on request (`_ask_to_stop`, then `_escalations`) and sends a
        `_progress_status` unless `_on_round` sent one.
        """
        readers = [
            asyncio.create_task(self._read_stderr(proc.stderr)),
            asyncio.create_task(drain_pipe(proc.stdout)),
        ]
        exited = asyncio.create_task(proc.wait())
        self.state = RecordingState.RECORDING
        self._status()
        asked_at: float | None = None
        escalations = list(self._escalations)
        while not exited.done():
            woke = asyncio.create_task(self._wake.wait())
            await asyncio.wait(
                {woke, exited}, timeout=self._round_timeout(), return_when=asyncio.FIRST_COMPLETED
            )
            woke.cancel()
            self._wake.clear()
            reported = await self._on_round()
            if exited.done():
                break
            if not self._stop_requested and self._vm_gone():
                self._request_stop(EndReason.VM_EXITED, f"VM pid {self.vm.pid} exited")
            if self._stop_requested:
                now = time.monotonic()
                if asked_at is None:
                    self.state = RecordingState.STOPPING
                    await self._ask_to_stop(proc)
                    asked_at = now
                elif now - asked_at > STOP_GRACE_S and escalations:
                    proc.send_signal(escalations.pop(0))
                    asked_at = now
            if not reported:
                self._progress_status()
        code = exited.result()
        lifecycle.REGISTRY.discard(proc.pid)
        await asyncio.gather(*readers)
        return code

    async def _read_stderr(self, stream: asyncio.StreamReader | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def _round_timeout(self) -> float:
        """How long a round may wait for a wake-up."""
        return self.interval_s

    async def _ask_to_stop(self, proc: asyncio.subprocess.Process) -> None:
        """The first, polite request to stop: SIGINT."""
        proc.send_signal(signal.SIGINT)

    async def _on_round(self) -> bool:
        """Work done after each wake-up; True when it already sent a status."""
        return False

    def _progress_status(self) -> None:
        self._status()

    def _end_files(
        self, reason: EndReason, detail: str, pinning_end: str | None, stopped: float
    ) -> str:
        """What the recorder leaves on disk at its end (nothing here); returns the end's
        detail, with what could not be written added."""
        return detail

    def _end_folder(self) -> str | None:
        """The folder `RecordingEnded` names (None: nothing on disk)."""
        return None

    async def _ended(self, reason: EndReason, detail: str) -> None:
        """The end: when, the VM's pinning then, the files, the final status, then
        `RecordingEnded`."""
        pinning_end = await asyncio.to_thread(pinning_now, self.vm)
        stopped = time.time()
        detail = self._end_files(reason, detail, pinning_end, stopped)
        self.info = replace(self.info, stopped=stopped, pinning_at_end=pinning_end)
        self.state = RecordingState.STOPPED if reason.ok else RecordingState.FAILED
        if reason is not EndReason.STOPPED:
            self.message = detail
        self._progress_status()
        self._emit(RecordingEnded(reason, detail=detail, folder=self._end_folder()))

    def _why_ended(self, code: int) -> tuple[EndReason, str]:
        if self._end is not None:
            return self._end
        if self._stop_requested:
            return EndReason.STOPPED, "stopped on request"
        if self._vm_gone():
            return EndReason.VM_EXITED, f"VM pid {self.vm.pid} exited"
        tail = " | ".join(self._stderr_tail) or "no message on stderr"
        return EndReason.PERF_FAILED, f"{describe_exit(code)} on its own: {tail}"


async def run_collect(argv: Sequence[str]) -> tuple[int, str, str]:
    """Run a short perf command to the end, reading both pipes; (code, stdout, stderr)."""
    proc = await lifecycle.spawn(argv)
    try:
        out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            lifecycle.kill_now(proc)
            await proc.wait()
        lifecycle.REGISTRY.discard(proc.pid)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def drain_pipe(stream: asyncio.StreamReader | None) -> None:
    """Read a pipe to EOF so the child never blocks on it."""
    if stream is None:
        return
    while await stream.read(65536):
        pass
