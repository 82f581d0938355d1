"""The app's side of cyclictest latency and the RT audit: a worker, two messages, the strip.

Mixed into `VmExitApp` so that app.py only calls in at a few points: start (`_start_rt`),
each exit interval (`_rt_exits`), the chart markers (`_rt_markers`), the status line
(`_rt_worst`), snapshots (`_rt_snapshot_args`) and the end of a recording (`_stop_rt`).
The logic lives in `vmexit_tui.recording.latency_session` (no Textual there).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from vmexit_tui.analysis.compare_session import LiveRun, LoadedRun, RecordedRun, SnapshotRun
from vmexit_tui.analysis.latency import LatencyInterval, Spike, describe_spike
from vmexit_tui.analysis.run_context import RunContext, render_context, render_hints
from vmexit_tui.analysis.running import Interval, Marker
from vmexit_tui.app.messages import SnapshotLoaded
from vmexit_tui.app.widgets.compare_pane import ComparePane
from vmexit_tui.app.widgets.latency_strip import LatencyStrip
from vmexit_tui.formats.run_context_json import load_contexts
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording.latency_feed import LatencyEnded
from vmexit_tui.recording.latency_session import LatencySession

if TYPE_CHECKING:
    from vmexit_tui.app.app_sources import AppSources

MAX_SPIKE_NOTES = 5  # spike notifications per recording; the rest are marked, not announced


@dataclass
class LatencyReceived(Message):
    """One latency interval from the feed of `session`."""

    session: LatencySession
    interval: LatencyInterval


@dataclass
class LatencyStopped(Message):
    """The feed of `session` ended."""

    session: LatencySession
    ended: LatencyEnded


@dataclass
class ContextRead(Message):
    """The audit and latency of a run snapshot in the compare pane were read."""

    path: Path
    context: RunContext


@dataclass
class AuditTaken(Message):
    """The RT audit of a recording's guest is ready."""

    key: int
    checks: tuple


class LatencyMixin:
    """Latency and audit handling for the app (see the module docstring)."""

    sources: AppSources
    latency: LatencySession | None = None
    audits: dict[int, tuple]  # id(Recording) -> checks
    _spike_notes = 0

    # --- start / stop
    def _start_rt(self, rec: Any, vm: VmInfo) -> None:
        """Audit the guest, and start reading cyclictest if a latency source was given."""
        if not hasattr(self, "audits"):
            self.audits = {}
        if self.sources.audit is not None:
            self._take_audit(id(rec), vm)
        make = self.sources.latency_chunks
        if make is None:
            self.latency = None
            return
        session = LatencySession(
            make(),
            interval_s=self.sources.latency_interval_s,
            spike_us=self.sources.spike_us,
            source=self.sources.latency_label,
            nsecs=self.sources.latency_nsecs,
        )
        self.latency = session
        if not hasattr(self, "rt_sessions"):
            self.rt_sessions: dict[int, LatencySession] = {}
        self.rt_sessions[id(rec)] = session
        self._spike_notes = 0
        self.query_one(LatencyStrip).add_class("-active")  # type: ignore[attr-defined]
        recorder = getattr(rec, "recorder", None)
        if recorder is not None and hasattr(recorder, "latency_summary"):
            recorder.latency_summary = session.summary_json  # into the manifest at the end
        self._read_latency(session)
        self._refresh_latency()

    @work(thread=True, group="audit", exit_on_error=False)
    def _take_audit(self, key: int, vm: VmInfo) -> None:
        assert self.sources.audit is not None
        try:
            checks = tuple(self.sources.audit(vm))
        except OSError:
            checks = ()
        self.post_message(AuditTaken(key, checks))  # type: ignore[attr-defined]

    def on_audit_taken(self, message: AuditTaken) -> None:
        self.audits[message.key] = message.checks
        if self.latency is not None and not self.latency.audit:
            self.latency.audit = message.checks

    @work(group="latency", exit_on_error=False)
    async def _read_latency(self, session: LatencySession) -> None:
        ended = LatencyEnded("latency reading cancelled", ok=False)
        try:
            async for event in session.feed.events():
                if isinstance(event, LatencyEnded):
                    ended = event
                else:
                    self.post_message(LatencyReceived(session, event))  # type: ignore[attr-defined]
        finally:
            await session.feed.stop()
            self.post_message(LatencyStopped(session, ended))  # type: ignore[attr-defined]

    async def _stop_rt(self) -> None:
        if self.latency is not None:
            await self.latency.feed.stop()

    def _stop_rt_soon(self) -> None:
        """The recording ended: its latency feed hands out its last interval and ends."""
        if self.latency is not None:
            self.latency.feed.request_stop()

    # --- events
    def on_latency_received(self, message: LatencyReceived) -> None:
        if message.session is not self.latency:
            return
        self._announce(message.session.add_latency(message.interval))
        self._refresh_latency()

    def on_latency_stopped(self, message: LatencyStopped) -> None:
        message.session.ended = message.ended.reason
        if not message.ended.ok:
            self.notify(  # type: ignore[attr-defined]
                f"latency source: {message.ended.reason}", severity="warning", timeout=10
            )
        self._refresh_latency()

    def _rt_exits(self, interval: Interval) -> None:
        """An exit interval arrived: spikes that fell in it get their exit association."""
        if self.latency is not None:
            self._announce(self.latency.add_exits(interval))

    def _announce(self, spikes: list[Spike]) -> None:
        for spike in spikes:
            if self._spike_notes < MAX_SPIKE_NOTES:
                self._spike_notes += 1
                self.notify(describe_spike(spike), title="latency", timeout=10)  # type: ignore[attr-defined]
        if spikes:
            self._refresh_latency()

    # --- the compare pane: RT setup and latency of the runs beside the exits
    def on_mount(self) -> None:
        self.query_one(ComparePane).drawn_hook = self._rt_compare  # type: ignore[attr-defined]

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        """A run snapshot joins the pane: read its audit and latency too (off the loop); a
        comparison snapshot brought its runs' own."""
        if message.run is not None and message.key.kind == "run":
            self._read_context(message.key.path)
        if message.comparison is not None:
            self.rt_loaded_runs = {c.label: c for c in message.contexts}

    @work(thread=True, group="snapshots", exit_on_error=False)
    def _read_context(self, path: Path) -> None:
        contexts = load_contexts(str(path), 1)
        self.post_message(ContextRead(path, contexts[0]))  # type: ignore[attr-defined]

    def on_context_read(self, message: ContextRead) -> None:
        if not hasattr(self, "rt_loaded"):
            self.rt_loaded: dict[Path, RunContext] = {}
        self.rt_loaded[message.path] = message.context
        pane = self.query_one(ComparePane)  # type: ignore[attr-defined]
        pane.changed()

    def _rt_context_of(self, key: Any, label: str) -> RunContext:
        sessions = getattr(self, "sessions", [])
        session = None
        if isinstance(key, LiveRun):
            session = getattr(self, "current", None)
        elif isinstance(key, RecordedRun) and key.index < len(sessions):
            session = sessions[key.index]
        if session is not None:
            latency = getattr(self, "rt_sessions", {}).get(id(session))
            audit = getattr(self, "audits", {}).get(id(session), ())
            return RunContext(label, tuple(audit), latency.summary() if latency else None)
        if isinstance(key, SnapshotRun):
            saved = getattr(self, "rt_loaded", {}).get(key.path)
            if saved is not None:
                return replace(saved, label=label)
        if isinstance(key, LoadedRun):
            saved = getattr(self, "rt_loaded_runs", {}).get(key.label)
            if saved is not None:
                return replace(saved, label=label)
        return RunContext(label)

    def _rt_contexts(self, comparison: Any) -> list[RunContext]:
        """The latency and audit of each run of the pane's `comparison` (none: [])."""
        keys = self.query_one(ComparePane).run_keys()  # type: ignore[attr-defined]
        if comparison is None or len(keys) != len(comparison.runs):
            return []
        return [self._rt_context_of(k, r.label) for k, r in zip(keys, comparison.runs, strict=True)]

    def _rt_compare(self, comparison: Any) -> None:
        """Fill the pane's context block (hidden when no run carries an audit or latency)."""
        contexts = self._rt_contexts(comparison)
        text = render_context(contexts) if contexts else ""
        if text and comparison is not None and any(c.audit for c in contexts):
            text += render_hints(contexts, comparison.findings)
        self.query_one(ComparePane).show_context(text.rstrip("\n"))  # type: ignore[attr-defined]

    # --- what the app shows and saves
    def _rt_markers(self) -> list[Marker]:
        """Spikes as chart markers (red lines in the exit chart)."""
        if self.latency is None:
            return []
        return [Marker(s.time, f"spike {s.latency_us} µs") for s in self.latency.spikes]

    def _rt_worst(self) -> int | None:
        return self.latency.worst_us if self.latency is not None else None

    def _rt_snapshot_args(self, rec: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "audit": self.audits.get(id(rec), ()) if hasattr(self, "audits") else ()
        }
        if self.latency is not None:
            args.update(self.latency.snapshot_args())
            args["audit"] = args["audit"] or self.latency.audit
        return args

    def _refresh_latency(self) -> None:
        strips = self.query(LatencyStrip)  # type: ignore[attr-defined]
        if not strips:  # the app is shutting down: the widgets are gone
            return
        strip = strips.first()
        session = self.latency
        live = getattr(self, "live", None)
        if live is not None:
            live.spike_markers = tuple(self._rt_markers())
        rec = getattr(self, "current", None)
        origin = rec.acc.first_start if rec is not None else None
        if session is None:
            strip.show_latency((), origin=None)
            return
        if origin is None and session.intervals:
            origin = session.intervals[0].start
        strip.show_latency(
            session.intervals,
            origin=origin,
            spikes=session.spikes,
            worst_us=session.worst_us,
            source=session.feed.source,
        )
