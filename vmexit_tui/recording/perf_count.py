"""The counting source: `perf stat` on `kvm:kvm_exit` with one in-kernel filter per reason.

Like kvm_stat: one counter per exit reason the running kernel names (`exit_reason==N`, SVM or
VMX table of `kvm_exit`'s print fmt), plus one unfiltered counter for the total, on the VM's
vCPU threads (`-t`). The kernel counts; perf prints the counts every interval (`-I`, CSV on
stderr) and nothing is written to disk. Counts only: no timings, no histograms. Exits of codes
outside the kernel's table are the total less the named ones, shown as `UNKNOWN`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, with_shares
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.perf_stat_csv import StatLine, StatParseError, StatStream
from vmexit_tui.formats.tracefs_hist import HistParseError, exit_reason_tables
from vmexit_tui.host import lifecycle
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording.kernel_hist import cpu_vendor, glossary_codes, vm_thread_ids
from vmexit_tui.recording.modes import Mode
from vmexit_tui.recording.perf_supervision import CouldNotStart, RecorderBase
from vmexit_tui.recording.protocol import EndReason

SOURCE = "perf stat counting"
OTHER = "UNKNOWN"


def count_argv(
    tids: Sequence[int], codes: Sequence[int], *, interval_s: float, perf: str = "perf"
) -> list[str]:
    """`perf stat -x, -I MS -t TIDS -e kvm:kvm_exit --filter exit_reason==N ... -e kvm:kvm_exit`."""
    if not tids:
        raise ValueError("no thread ids to count")
    argv = [perf, "stat", "-x,", "-I", str(int(interval_s * 1000)), "--no-big-num"]
    argv += ["-t", ",".join(str(t) for t in sorted(set(tids)))]
    for code in codes:
        argv += ["-e", "kvm:kvm_exit", "--filter", f"exit_reason=={code}"]
    argv += ["-e", "kvm:kvm_exit"]
    return argv


def group_to_report(
    group: Sequence[StatLine], codes: Sequence[int], names: Mapping[int, str]
) -> Report:
    """One interval's readings (the reason counters in `codes` order, then the total)."""
    counts: dict[str, int] = {}
    named = 0
    for reading, code in zip(group, codes, strict=False):
        if reading.count:
            name = names.get(code, f"UNKNOWN({code})")
            counts[name] = counts.get(name, 0) + reading.count
            named += reading.count
    if len(group) > len(codes):
        other = group[len(codes)].count - named
        if other > 0:
            counts[OTHER] = counts.get(OTHER, 0) + other
    rows = tuple(ExitStat(reason=name, samples=n) for name, n in counts.items())
    return with_shares(Report(event=EventKind.VMEXIT, rows=rows, source=SOURCE))


class PerfCountRecorder(RecorderBase):
    """Per-reason exit counts of one VM from `perf stat`; writes nothing to disk."""

    def __init__(
        self,
        vm: VmInfo,
        interval_s: float = 1.0,
        perf: str = "perf",
        *,
        tracing: Path | None = None,
        vendor: str | None = None,
        tids: Sequence[int] | None = None,
        why: str | None = None,
    ) -> None:
        super().__init__(vm, interval_s=interval_s, perf=perf)
        self.tracing = tracing
        self.vendor = vendor or cpu_vendor()
        self.tids = list(tids) if tids is not None else None
        self.codes: list[int] = []
        self.names: dict[int, str] = {}
        self.argv: list[str] = []
        self.intervals = 0
        self._stream: StatStream | None = None
        self._last_end: float | None = None
        self.info = replace(self.info, source_mode="count", source_why=why)

    def _prepare(self) -> None:
        tracing = self._tracefs_and_vm(self.tracing)
        fmt = tracing / "events" / "kvm" / "kvm_exit" / "format"
        try:
            names = exit_reason_tables(fmt.read_text(errors="replace"), str(fmt)).for_vendor(
                self.vendor
            )
        except (OSError, HistParseError):
            names = {}
        self.names = names or glossary_codes(self.vendor)
        self.codes = sorted(self.names)
        self.argv = count_argv(
            self.tids or vm_thread_ids(self.vm), self.codes, interval_s=self.interval_s,
            perf=self.perf,
        )  # fmt: skip
        if self.info.source_why:
            self.message = f"{Mode.COUNT.title}: {self.info.source_why}"
        self._stream = StatStream(len(self.codes) + 1, f"perf stat (pid {self.vm.pid})")

    async def _run(self) -> None:
        self._status()
        try:
            await asyncio.to_thread(self._prepare)
            proc = await lifecycle.spawn(self.argv)
        except (CouldNotStart, OSError, ValueError) as e:
            self._failed_to_start(e)
            return
        self.started = self._last_end = time.time()
        self.info = replace(self.info, started=self.started)
        try:
            code = await self._supervise_perf(proc)
        except asyncio.CancelledError:
            await lifecycle.finish(proc, grace=5.0)
            raise
        finally:
            if proc.returncode is None:
                lifecycle.kill_now(proc)
        assert self._stream is not None
        for group in self._stream.close():
            self._take(group)
        reason, detail = self._why_ended(code)
        if reason is EndReason.PERF_FAILED and self.intervals and self._stop_requested:
            reason, detail = EndReason.STOPPED, "stopped on request"
        await self._ended(reason, detail)

    def _progress_status(self) -> None:
        self._status(chunks=self.intervals)

    async def _read_stderr(self, stream) -> None:
        assert stream is not None and self._stream is not None
        while line := await stream.readline():
            text = line.decode(errors="replace")
            try:
                groups = self._stream.feed(text)
            except StatParseError as e:
                self.message = f"unreadable perf stat output: {e}"
                continue
            if not groups and text.strip() and not text.lstrip()[:1].isdigit():
                self._stderr_tail.append(text.strip())
            for group in groups:
                self._take(group)

    def _take(self, group: list[StatLine]) -> None:
        end = (self.started or time.time()) + group[0].time if group else time.time()
        start = self._last_end if self._last_end is not None else end
        self._last_end = end
        report = group_to_report(group, self.codes, self.names)
        interval = Interval(self.intervals, start, end, {EventKind.VMEXIT: report})
        self.intervals += 1
        self._note_rate(interval)
        self._emit(interval)
        self._status(chunks=self.intervals)
