"""The kernel source: exit counts and latency histograms kept by tracefs hist triggers.

`KernelHistRecorder` speaks the `Recorder` protocol like the perf sources. It sets up a private
tracefs instance (`recording.kernel_tracing`) scoped to the VM's vCPU threads, reads the one
hist table every interval, and yields the difference to the previous reading as an `Interval`
(all vCPUs in `reports`, each vCPU in `vcpus`). Nothing is written to disk and nothing is done
per exit in user space: the kernel pairs each exit with the next entry, sums and buckets it.

Reason names come from the running kernel's `kvm_exit` print fmt (SVM on AMD/Hygon CPUs, VMX
else), then from the glossary, else `UNKNOWN(code)`. Everything set up is removed when the
recording ends, whatever ends it (stop, VM gone, an exception, cancellation; at interpreter
exit as the last resort); stale objects of dead owners are removed before starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from vmexit_tui.analysis.exit_hist import ExitCounts, reason_namer, to_reports
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.tracefs_hist import HistParseError, exit_counts, exit_reason_tables
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording.kernel_tracing import TraceSetup, TracingError, remove_stale
from vmexit_tui.recording.modes import Mode
from vmexit_tui.recording.perf_supervision import CouldNotStart, RecorderBase
from vmexit_tui.recording.protocol import EndReason, RecordingState
from vmexit_tui.reference import glossary

SOURCE = "kernel hist triggers"


def cpu_vendor(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """ "svm" on AMD and Hygon CPUs, "vmx" else (the kvm_exit table KVM uses here)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return "vmx"
    for line in text.splitlines():
        if line.startswith("vendor_id"):
            vendor = line.partition(":")[2].strip()
            return "svm" if vendor in ("AuthenticAMD", "HygonGenuine") else "vmx"
    return "vmx"


def glossary_codes(vendor: str) -> dict[int, str]:
    return {r.code: r.name for r in glossary.all_reasons(vendor) if r.code is not None}


def vm_thread_ids(vm: VmInfo) -> list[int]:
    """The vCPU threads when known, else every thread of the VM process."""
    if vm.vcpus:
        return [v.tid for v in vm.vcpus]
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{vm.pid}/task"))
    except OSError:
        return [vm.pid]


class KernelHistRecorder(RecorderBase):
    """A recording of one VM from in-kernel hist triggers; writes nothing to disk."""

    def __init__(
        self,
        vm: VmInfo,
        interval_s: float = 1.0,
        *,
        tracing: Path | None = None,
        vendor: str | None = None,
        tids: Sequence[int] | None = None,
        why: str | None = None,
    ) -> None:
        super().__init__(vm, interval_s=interval_s, perf="perf")
        self.tracing = tracing
        self.vendor = vendor or cpu_vendor()
        self.tids = list(tids) if tids is not None else None
        self.setup: TraceSetup | None = None
        self.names: Mapping[int, str] = {}
        self.index = 0
        self.info = replace(self.info, source_mode="kernel", source_why=why)

    # ---- setup -----------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Find tracefs, remove stale objects, learn the reason names, set up the triggers."""
        tracing = self._tracefs_and_vm(self.tracing)
        self.tracing = tracing
        stale = remove_stale(tracing)
        notes = []
        if stale.instances or stale.synthetic:
            notes.append(
                "removed what a killed vmexit-tui left in tracefs: "
                + ", ".join(stale.instances + stale.synthetic)
            )
        if stale.failed:
            notes.append("could not remove stale tracefs objects: " + "; ".join(stale.failed))
        fmt_path = tracing / "events" / "kvm" / "kvm_exit" / "format"
        try:
            tables = exit_reason_tables(fmt_path.read_text(errors="replace"), str(fmt_path))
            names = tables.for_vendor(self.vendor)
        except (OSError, HistParseError) as e:
            names = {}
            notes.append(f"reason names from the glossary ({e})")
        self.names = names
        self._name_of = reason_namer(names, glossary_codes(self.vendor))
        setup = TraceSetup(tracing, self.tids or vm_thread_ids(self.vm))
        self.setup = setup
        try:
            setup.create()
        except (TracingError, ValueError) as e:
            raise CouldNotStart(EndReason.NOT_STARTED, str(e)) from None
        if self.info.source_why:
            notes.insert(0, f"{Mode.KERNEL.title}: {self.info.source_why}")
        self.message = "; ".join(notes) or None

    def _read(self) -> ExitCounts:
        assert self.setup is not None
        return exit_counts(self.setup.read_hist(), str(self.setup.hist_path))

    # ---- the run ---------------------------------------------------------------------------

    async def _run(self) -> None:
        self._status()
        try:
            try:
                await asyncio.to_thread(self._prepare)
            except CouldNotStart as e:
                self._failed_to_start(e)
                return
            self.started = time.time()
            self.info = replace(self.info, started=self.started)
            await self._supervise()
        finally:
            await asyncio.to_thread(self._remove)

    def _remove(self) -> None:
        if self.setup is None:
            return
        failed = self.setup.remove()
        if failed:
            self.message = "could not remove from tracefs: " + "; ".join(failed)

    async def _supervise(self) -> None:
        assert self.setup is not None
        try:
            previous = await asyncio.to_thread(self._read)
        except (OSError, HistParseError) as e:
            await self._finish(EndReason.PERF_FAILED, f"cannot read {self.setup.hist_path}: {e}")
            return
        last = self.started or time.time()
        self.state = RecordingState.RECORDING
        self._status()
        reason, detail = EndReason.STOPPED, "stopped on request"
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
            self._wake.clear()
            try:
                now_counts = await asyncio.to_thread(self._read)
            except (OSError, HistParseError) as e:
                reason, detail = EndReason.PERF_FAILED, f"cannot read the hist table: {e}"
                break
            now = time.time()
            self._emit_interval(now_counts.minus(previous), last, now)
            previous, last = now_counts, now
            if self._stop_requested:
                if self._end is not None:
                    reason, detail = self._end
                break
            if self._vm_gone():
                reason, detail = EndReason.VM_EXITED, f"VM pid {self.vm.pid} exited"
                break
            self._status()
        await self._finish(reason, detail)

    def _emit_interval(self, delta: ExitCounts, start: float, end: float) -> None:
        total, per_vcpu = to_reports(delta, self._name_of, source=SOURCE)
        interval = Interval(self.index, start, end, {total.event: total}, vcpus=per_vcpu)
        self.index += 1
        self._note_rate(interval)
        self._emit(interval)

    async def _finish(self, reason: EndReason, detail: str) -> None:
        await asyncio.to_thread(self._remove)
        await self._ended(reason, detail)
