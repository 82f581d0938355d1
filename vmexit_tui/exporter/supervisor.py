"""Keeps one recording per guest while guests come and go, feeding a `MetricStore`.

Every `rescan_s` it looks for guests: a new one is added and its recorder started; one that
is gone has its recorder stopped and its series dropped (counted in `vms_lost`). A
recorder that ends while its guest still runs is counted as a source error and restarted
after `retry_s`. `run()` ends when its stop event is set, after stopping every recorder and
draining it to its `RecordingEnded`: each source cleans up after itself there (the kernel
source removes its tracefs instance).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from vmexit_tui.analysis.running import Interval
from vmexit_tui.exporter.sources import SourcePlan, host_rt_checks, observations, vcpu_threads
from vmexit_tui.exporter.store import MetricStore, VmKey
from vmexit_tui.host.discovery import VmInfo, is_alive
from vmexit_tui.recording.protocol import Recorder, RecordingEnded

STOP_TIMEOUT_S = 10.0


class Supervisor:
    """See the module docstring."""

    def __init__(
        self,
        store: MetricStore,
        plan: SourcePlan,
        *,
        names: Sequence[str] = (),
        rescan_s: float = 10.0,
        retry_s: float = 10.0,
        audit_every_s: float = 300.0,
    ) -> None:
        self.store = store
        self.plan = plan
        self.names = set(names)
        self.rescan_s = rescan_s
        self.retry_s = retry_s
        self.audit_every_s = audit_every_s
        self._tasks: dict[VmKey, asyncio.Task[None]] = {}
        self._recorders: dict[VmKey, Recorder] = {}
        self._retry_at: dict[VmKey, float] = {}
        self._audited = -float("inf")

    async def run(self, stop: asyncio.Event) -> None:
        """Rescan until `stop` is set; then stop every recorder and wait for them."""
        try:
            while not stop.is_set():
                await self.rescan()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.rescan_s)
        finally:
            await asyncio.gather(*(self._end(k) for k in list(self._tasks)))

    async def rescan(self) -> None:
        """One look for guests: add the new, drop the gone, restart failed recordings."""
        try:
            vms, threads = await asyncio.to_thread(self._discover)
        except Exception as exc:
            self.store.source_failed(f"discovery: {type(exc).__name__}: {exc}")
            return
        seen: dict[VmKey, VmInfo] = {}
        for vm in vms:
            key = self.store.upsert_vm(vm, self.plan.isa, threads[vm.pid])
            seen[key] = vm
            due = time.monotonic() >= self._retry_at.get(key, 0.0)
            if self.plan.make_recorder is not None and key not in self._tasks and due:
                self._tasks[key] = asyncio.create_task(self._follow(key, vm))
        for key in self.store.keys() - seen.keys():
            await self._end(key)
            self.store.drop(key)
            self._retry_at.pop(key, None)
        now = time.monotonic()
        if now - self._audited >= self.audit_every_s:
            self._audited = now
            try:
                self.store.set_host_checks(await asyncio.to_thread(host_rt_checks, vms))
            except Exception as exc:
                self.store.source_failed(f"host audit: {type(exc).__name__}: {exc}")

    def _discover(self) -> tuple[list[VmInfo], dict[int, tuple]]:
        vms = [v for v in self.plan.discover() if not self.names or v.name in self.names]
        return vms, {v.pid: vcpu_threads(v) for v in vms}

    async def _follow(self, key: VmKey, vm: VmInfo) -> None:
        assert self.plan.make_recorder is not None
        ended: RecordingEnded | None = None
        try:
            recorder = self.plan.make_recorder(vm)
            self._recorders[key] = recorder
            async for event in recorder.events():
                if isinstance(event, Interval):
                    self.store.add(key, observations(event, vm, self.plan.histogram_of))
                elif isinstance(event, RecordingEnded):
                    ended = event
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.store.source_failed(f"{vm.name}: {type(exc).__name__}: {exc}")
            self._retry_at[key] = time.monotonic() + self.retry_s
        else:
            # a recording that ends with its guest is no error: the next rescan drops the guest
            if ended is not None and not ended.ok and await asyncio.to_thread(self._alive, vm):
                self.store.source_failed(f"{vm.name}: {ended.summary}")
                self._retry_at[key] = time.monotonic() + self.retry_s
        finally:
            self._recorders.pop(key, None)
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]

    @staticmethod
    def _alive(vm: VmInfo) -> bool:
        """Whether the guest still runs (simulated guests, negative pids, always do)."""
        return vm.pid < 0 or is_alive(vm.pid, vm.started)

    async def _end(self, key: VmKey) -> None:
        """Stop a guest's recorder and wait until it has drained (or give up and cancel)."""
        task = self._tasks.get(key)
        recorder = self._recorders.get(key)
        if recorder is not None:
            with contextlib.suppress(Exception):
                await recorder.stop()
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT_S)
            except (TimeoutError, Exception):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._tasks.pop(key, None)
