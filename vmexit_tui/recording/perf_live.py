"""Record one VM with `perf kvm stat live`: no files, its periodic output parsed as it streams.

perf live prints one report block per interval (on stderr, after a clear-screen on stdout)
and resets its counters after each block, so each block is one `Interval` on its own. Its
stdin must be a pipe that stays open: it quits cleanly on a `q` read from stdin and
busy-loops at EOF. Stopping writes `q`; perf then prints a last (short) block and exits.
A block's time is perf's time of day (`%H:%M:%S.%06ld`); the interval runs from the previous
block's time (or the start) to it.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import replace
from datetime import datetime, timedelta

from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.perf_report_lines import ReportParseError
from vmexit_tui.formats.perf_stream_parser import ReportStreamParser
from vmexit_tui.host import lifecycle, preflight
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording import perf_argv
from vmexit_tui.recording.perf_supervision import CouldNotStart, RecorderBase

QUIET_S = 0.2  # a pause this long after a `Total Samples` line ends a block's burst
NO_EXITS_AFTER = 5  # empty blocks in a row before saying the host may not report exits
NO_VM_EXITS_LIVE = (
    "no VM exits in {n} intervals although the VM runs: on a nested or paravirtualised KVM "
    "host the kvm_exit/kvm_entry tracepoints never fire and the tables stay empty"
)


def time_of_day_epoch(stamp: str, now: float) -> float:
    """Epoch seconds of perf's `HH:MM:SS.ffffff`, the occurrence closest to `now`."""
    tod = datetime.strptime(stamp, "%H:%M:%S.%f").time()
    today = datetime.fromtimestamp(now).date()
    candidates = [datetime.combine(today + timedelta(days=d), tod).timestamp() for d in (-1, 0, 1)]
    return min(candidates, key=lambda t: abs(t - now))


class PerfLiveRecorder(RecorderBase):
    """A running `perf kvm stat live` of one VM (one event kind; one perf process)."""

    def __init__(
        self,
        vm: VmInfo,
        interval_s: float = 1.0,
        event: EventKind = EventKind.VMEXIT,
        vcpu: int | None = None,
        perf: str = "perf",
    ) -> None:
        super().__init__(vm, interval_s=interval_s, perf=perf)
        self.event = EventKind(event)
        self.vcpu = vcpu
        self.argv = perf_argv.live_argv(
            vm.pid, self.event, interval_s=self.interval_s, vcpu=vcpu, perf=perf
        )
        self.intervals = 0
        self._last_end: float | None = None
        self._empty_run = 0
        self._parser = ReportStreamParser(f"perf kvm stat live (pid {vm.pid})")

    async def _run(self) -> None:
        self._status()
        try:
            await self._check_can_start()
            proc = await lifecycle.spawn(self.argv, stdin=asyncio.subprocess.PIPE)
        except (CouldNotStart, OSError) as e:
            self._failed_to_start(e)
            return
        self.started = self._last_end = time.time()
        version = await asyncio.to_thread(preflight.perf_version, self.perf)
        self.info = replace(self.info, started=self.started, perf_version=version)
        try:
            await self._supervise(proc)
        finally:
            if proc.returncode is None:
                lifecycle.kill_now(proc)

    # perf live quits on a `q` from stdin; SIGINT is the first escalation.
    _escalations = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)

    async def _supervise(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdin is not None
        try:
            code = await self._supervise_perf(proc)
        except asyncio.CancelledError:
            await lifecycle.finish(proc, grace=5.0)
            raise
        proc.stdin.close()  # only now: EOF on a running perf live makes it spin
        self._take(self._parser.close())
        reason, detail = self._why_ended(code)
        await self._ended(reason, detail)

    async def _ask_to_stop(self, proc: asyncio.subprocess.Process) -> None:
        """Write `q` to perf's stdin, as a user of perf live would."""
        assert proc.stdin is not None
        try:
            proc.stdin.write(b"q\n")
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _progress_status(self) -> None:
        self._status(chunks=self.intervals)

    async def _read_stderr(self, stream: asyncio.StreamReader | None) -> None:
        assert stream is not None
        while True:
            try:
                data = await asyncio.wait_for(stream.read(65536), QUIET_S)
            except TimeoutError:
                self._take(self._parser.take_complete())  # the burst is over
                continue
            if not data:
                return
            text = data.decode(errors="replace")
            try:
                reports = self._parser.feed(text)
            except ReportParseError as e:
                self.message = f"unreadable perf live output: {e}"
                self._parser = ReportStreamParser(self._parser.source)
                continue
            if not self._parser.seen_header:
                self._stderr_tail.extend(ln for ln in text.splitlines() if ln.strip())
            self._take(reports)

    def _take(self, reports: list[Report]) -> None:
        for report in reports:
            if report.event != self.event:
                continue
            now = time.time()
            end = time_of_day_epoch(report.timestamp, now) if report.timestamp else now
            start = self._last_end if self._last_end is not None else end
            start = min(start, end)
            self._last_end = end
            interval = Interval(self.intervals, start, end, {self.event: report})
            self.intervals += 1
            self._note_rate(interval)
            self._note_empty(report)
            self._emit(interval)
            self._status(chunks=self.intervals)

    def _note_empty(self, report: Report) -> None:
        if self.event is not EventKind.VMEXIT:
            return
        if report.sample_count:
            self._empty_run = -1  # exits seen: the host reports them
            if self.message and self.message.startswith("no VM exits"):
                self.message = None
        elif self._empty_run >= 0:
            self._empty_run += 1
            if self._empty_run >= NO_EXITS_AFTER:
                self.message = NO_VM_EXITS_LIVE.format(n=self._empty_run)
