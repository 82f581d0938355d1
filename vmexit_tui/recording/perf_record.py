"""Record one VM with `perf kvm stat record --switch-output`, reporting each chunk once.

`PerfRecorder` implements `vmexit_tui.recording.protocol.Recorder`. perf rotates its output every
interval; when it announces a finished chunk (`[ perf record: Dump ... ]` on stderr) the chunk
is reported with `perf kvm -i CHUNK stat report --event=K` for each requested kind, parsed and
yielded as one `Interval`. Old chunks are never reported again, so a refresh costs the same
at chunk 3,600 as at chunk 1; the consumer merges intervals (`RunAccumulator.add`).

Stopping sends perf SIGINT, waits for it to finish its last chunk, reports that chunk, writes
the manifest and releases the VM's lock. The recording also ends by itself when the VM exits,
when perf dies (its stderr goes into `RecordingEnded.detail`) or when the disk is about to
fill (less than `min_free_fraction` free after a chunk). Finished chunks are always kept.
The event queue, stop() and the loop supervising perf are `RecorderBase`'s
(`vmexit_tui.recording.perf_supervision`), shared with `perf kvm stat live`.
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.perf_parser import parse_reports
from vmexit_tui.formats.perf_report_lines import ReportParseError
from vmexit_tui.host import lifecycle, preflight
from vmexit_tui.host.audit import audit
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording import perf_argv
from vmexit_tui.recording.perf_chunks import (
    Chunk,
    ChunkTracker,
    Manifest,
    dump_path,
    make_private_dir,
    write_manifest,
)
from vmexit_tui.recording.perf_supervision import (
    CouldNotStart,
    RecorderBase,
    run_collect,
)
from vmexit_tui.recording.protocol import (
    EndReason,
)

MIN_FREE_FRACTION = 0.05
ROTATION_RETRY_S = 0.5  # SIGUSR2 again when perf has not announced the chunk by then
NO_VM_EXITS = (
    "perf recorded {samples} KVM samples but no VM exits: this host does not report VM exits "
    "(nested or paravirtualised KVM: the kvm_exit/kvm_entry tracepoints never fire), so the "
    "exit tables stay empty"
)
_SILENT_PROBES = 10  # chunks probed with `perf report --stats` before giving up on the question


def parse_chunk_report(text: str, kind: EventKind, *, source: str) -> Report:
    """The `kind` report in what `perf kvm -i CHUNK stat report` printed."""
    for report in parse_reports(text, source=source):
        if report.event == kind:
            return report
    raise ReportParseError(source, 1, f"a {kind} report", "reports of other kinds only")


class PerfRecorder(RecorderBase):
    """A running `perf kvm stat record` of one VM, rotated into chunks in `out_dir`."""

    def __init__(
        self,
        vm: VmInfo,
        out_dir: str | os.PathLike[str],
        interval_s: float = 1.0,
        events: Sequence[EventKind] = (EventKind.VMEXIT,),
        vcpu: int | None = None,
        perf: str = "perf",
        *,
        min_free_fraction: float = MIN_FREE_FRACTION,
        lock_root: str | os.PathLike[str] | None = None,
        disk_usage: Callable[[Path], Any] = shutil.disk_usage,
    ) -> None:
        super().__init__(vm, interval_s=interval_s, perf=perf)
        if not events:
            raise ValueError("events must name at least one EventKind")
        self.out_dir = Path(out_dir).absolute()
        self.kinds = tuple(dict.fromkeys(EventKind(e) for e in events))
        self.vcpu = vcpu
        self.min_free_fraction = min_free_fraction
        self.disk_usage = disk_usage
        self.lock = lifecycle.RecordingLock(
            lock_root if lock_root is not None else self.out_dir.parent, vm.pid, vm.started
        )
        self.tracker: ChunkTracker | None = None
        self.manifest: Manifest | None = None
        self.version: perf_argv.PerfVersion | None = None
        self.argv: list[str] = []
        self._pending: collections.deque[Chunk] = collections.deque()
        self._exits_seen = False
        self._silent_probes = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._last_rotation = time.monotonic()
        self._rotation_asked: float | None = None  # a SIGUSR2 perf has not answered yet
        self.info = replace(self.info, folder=str(self.out_dir))

    # ---- setup -------------------------------------------------------------------------

    async def _prepare(self) -> None:
        await self._check_can_start()
        text = await asyncio.to_thread(preflight.perf_version, self.perf)
        if text is None:
            raise CouldNotStart(
                EndReason.NOT_STARTED,
                f"{self.perf!r} does not run; install perf (Debian/Ubuntu: linux-perf, "
                "RHEL/Fedora: perf)",
            )
        self.version = perf_argv.parse_perf_version(text)
        try:
            make_private_dir(self.out_dir)
        except OSError as e:
            raise CouldNotStart(
                EndReason.NOT_STARTED, f"cannot create {self.out_dir}: {e.strerror}"
            ) from None
        if any(self.out_dir.glob("perf.data*")):
            raise CouldNotStart(
                EndReason.NOT_STARTED,
                f"{self.out_dir} already holds a recording (perf.data*); choose a new folder",
            )
        low = self._disk_low()
        if low:
            raise CouldNotStart(EndReason.DISK_FULL, low)
        try:
            self.lock.acquire(self.out_dir)
        except lifecycle.AlreadyRecording as e:
            raise CouldNotStart(EndReason.ALREADY_RECORDING, str(e)) from None
        self.started = time.time()
        self.tracker = ChunkTracker(self.out_dir, self.started)
        self.argv = perf_argv.record_argv(
            self.vm.pid, self.tracker.current, interval_s=self.interval_s, perf=self.perf
        )
        self.manifest = Manifest(
            vm_name=self.vm.name,
            vm_pid=self.vm.pid,
            vm_started=self.vm.started,
            pinning_at_start=str(self.vm.pinning),
            perf_version=str(self.version),
            argv=self.argv,
            report_argv=perf_argv.report_argv(
                "CHUNK", self.kinds[0], vcpu=self.vcpu, version=self.version, perf=self.perf
            ),
            interval_s=self.interval_s,
            events=[str(k) for k in self.kinds],
            vcpu=self.vcpu,
            started=self.started,
            audit=[c.to_json() for c in audit([self.vm])],
        )
        write_manifest(self.out_dir, self.manifest)
        self.info = replace(self.info, perf_version=str(self.version), started=self.started)

    def _disk_low(self) -> str | None:
        usage = self.disk_usage(self.out_dir)
        if not usage.total:
            return None
        free = usage.free / usage.total
        if free >= self.min_free_fraction:
            return None
        return (
            f"only {free:.1%} ({usage.free / 2**20:.0f} MiB) free on the filesystem of "
            f"{self.out_dir}; recording stops before the last {self.min_free_fraction:.0%}: "
            "free some space or record elsewhere (--out)"
        )

    # ---- the run -----------------------------------------------------------------------

    async def _run(self) -> None:
        self._status()
        try:
            await self._prepare()
        except (CouldNotStart, perf_argv.PerfNotUsable) as e:
            self._failed_to_start(e)
            return
        assert self.tracker is not None
        try:
            proc = await lifecycle.spawn(self.argv)
        except OSError as e:
            await self._ended(EndReason.NOT_STARTED, f"cannot start perf: {e}")
            return
        try:
            await self._supervise(proc)
        except asyncio.CancelledError:
            # The consumer went away: stop perf properly, keep the data, then go.
            await lifecycle.finish(proc, grace=5.0)
            self._finalize_files(
                EndReason.STOPPED, "the consumer stopped reading", None, time.time()
            )
            raise
        finally:
            if proc.returncode is None:
                lifecycle.kill_now(proc)

    async def _supervise(self, proc: asyncio.subprocess.Process) -> None:
        assert self.tracker is not None
        self._proc = proc
        code = await self._supervise_perf(proc)
        self._pending.extend(self.tracker.scan())  # finished but not announced
        await self._report_pending()
        reason, detail = self._why_ended(code)
        await self._ended(reason, detail)

    async def _on_round(self) -> bool:
        self._rotate_if_due()
        return bool(await self._report_pending())

    def _rotate_if_due(self) -> None:
        """Ask perf for the next chunk (SIGUSR2) when an interval has passed since the last one.

        Not before perf has installed its SIGUSR2 handler: until then the signal would kill it.
        A signal that arrives while perf is still setting up is ignored by perf, so it is sent
        again every `ROTATION_RETRY_S` until perf announces the chunk.
        """
        proc = self._proc
        if proc is None or proc.returncode is not None or self._stop_requested:
            return
        now = time.monotonic()
        if self._rotation_asked is not None:
            if now - self._rotation_asked < ROTATION_RETRY_S:
                return
        elif now - self._last_rotation < self.interval_s:
            return
        if lifecycle.catches_signal(proc.pid, signal.SIGUSR2):
            proc.send_signal(signal.SIGUSR2)
            self._rotation_asked = now

    def _round_timeout(self) -> float:
        """Wake for the next rotation on time, and soon again while perf has not answered."""
        if self._stop_requested:
            return self.interval_s
        if self._rotation_asked is not None:
            return ROTATION_RETRY_S
        return max(self._last_rotation + self.interval_s - time.monotonic(), 0.1)

    def _progress_status(self) -> None:
        tracker = self.tracker  # None when perf never started
        self._status(
            chunks=len(tracker.chunks) if tracker else 0,
            bytes_on_disk=tracker.bytes_on_disk if tracker else 0,
        )

    async def _read_stderr(self, stream: asyncio.StreamReader | None) -> None:
        assert stream is not None and self.tracker is not None
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            path = dump_path(text)
            if path is not None:
                self._rotation_asked, self._last_rotation = None, time.monotonic()
                chunk = self.tracker.announce(path)
                if chunk is not None:
                    self._pending.append(chunk)
                    self._wake.set()
            elif text and not text.startswith("[ perf record:"):
                self._stderr_tail.append(text)

    async def _report_pending(self) -> int:
        """Report every announced chunk; returns how many."""
        assert self.tracker is not None
        count = 0
        while self._pending:
            count += 1
            chunk = self._pending.popleft()
            interval = await self.report_chunk(chunk)
            if interval is not None:
                self._note_rate(interval)
                self._emit(interval)
            if not self._stop_requested:
                low = self._disk_low()
                if low:
                    self.message = low
                    self._request_stop(EndReason.DISK_FULL, low)
            self._status(chunks=len(self.tracker.chunks), bytes_on_disk=self.tracker.bytes_on_disk)
        return count

    async def report_chunk(self, chunk: Chunk) -> Interval | None:
        """Report one finished chunk for every requested kind; None if none could be read."""
        reports: dict[EventKind, Report] = {}
        for kind in self.kinds:
            argv = perf_argv.report_argv(
                chunk.path, kind, vcpu=self.vcpu, version=self.version, perf=self.perf
            )
            code, out, err = await run_collect(argv)
            text = err + out
            if code != 0:
                last = text.strip().splitlines()[-1] if text.strip() else "no output"
                self.message = f"perf could not report {chunk.name} ({kind}): {last}"
                continue
            try:
                reports[kind] = parse_chunk_report(text, kind, source=str(chunk.path))
            except ReportParseError as e:
                self.message = f"unreadable report of {chunk.name}: {e}"
        if not reports:
            return None
        await self._probe_silent_host(chunk, reports.get(EventKind.VMEXIT))
        return Interval(chunk.index, chunk.start, chunk.end, reports)

    async def _probe_silent_host(self, chunk: Chunk, report: Report | None) -> None:
        """Say plainly when perf records KVM events but the host never reports an exit."""
        if report is None or self._exits_seen:
            return
        if report.sample_count > 0:
            self._exits_seen = True
            if self.message and self.message.startswith("perf recorded"):
                self.message = None
            return
        if self._silent_probes >= _SILENT_PROBES:
            return
        self._silent_probes += 1
        code, out, err = await run_collect(perf_argv.stats_argv(chunk.path, perf=self.perf))
        samples = perf_argv.parse_sample_count(out + err) if code == 0 else None
        if samples:
            self.message = NO_VM_EXITS.format(samples=samples)
            self._silent_probes = _SILENT_PROBES  # answered: no more probes

    def _end_files(
        self, reason: EndReason, detail: str, pinning_end: str | None, stopped: float
    ) -> str:
        try:
            self._finalize_files(reason, detail, pinning_end, stopped)
        except OSError as e:
            return f"{detail}; manifest.json not written: {e}"
        return detail

    def _end_folder(self) -> str | None:
        return str(self.out_dir)

    def _finalize_files(
        self, reason: EndReason, detail: str, pinning_end: str | None, stopped: float
    ) -> None:
        """The manifest's end (when, why, the chunks, the latency); the VM's lock released."""
        try:
            if self.manifest is not None and self.tracker is not None:
                m = self.manifest
                m.stopped = stopped
                m.pinning_at_end = pinning_end
                m.end_reason = str(reason)
                m.end_detail = detail
                m.ok = reason.ok
                m.set_chunks(self.tracker.chunks)
                unfinished = self.tracker.unfinished()
                m.unfinished_chunk = unfinished.name if unfinished else None
                if self.latency_summary is not None:
                    m.latency = self.latency_summary()
                write_manifest(self.out_dir, m)
        finally:
            self.lock.release()
