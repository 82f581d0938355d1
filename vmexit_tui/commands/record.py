"""`vmexit-tui record --pid PID|--name NAME`: record one VM headless, a line per interval.

Streams one compact line per finished interval on stdout, then the total report in perf's
layout; leaves the chunks, `manifest.json` and `report.txt` in the output folder. Ctrl+C,
SIGTERM and SIGHUP stop it cleanly (exit 0). When it cannot record it prints a one-line
reason on stderr and exits non-zero, and no perf process is left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from vmexit_tui.analysis.latency import describe_spike
from vmexit_tui.analysis.model import EventKind, Report, Scope
from vmexit_tui.analysis.running import Interval, RunAccumulator
from vmexit_tui.commands import _arg_types as arg_types
from vmexit_tui.commands._arg_types import non_negative_int, positive_int
from vmexit_tui.formats import numbers
from vmexit_tui.formats.perf_writer import UnprintableReport, format_report
from vmexit_tui.formats.recording_json import recording_report_json
from vmexit_tui.formats.report_output import report_to_table
from vmexit_tui.host import lifecycle, preflight
from vmexit_tui.host.discovery import VmInfo, VmNotFound, VmScanner, not_kvm_reason
from vmexit_tui.host.paths import new_recording_folder
from vmexit_tui.recording import modes
from vmexit_tui.recording.latency_session import (
    LatencySession,
    add_latency_arguments,
    pump,
    session_from_args,
)
from vmexit_tui.recording.perf_chunks import (
    Manifest,
    make_private_dir,
    write_manifest,
    write_private,
)
from vmexit_tui.recording.perf_supervision import RecorderBase
from vmexit_tui.recording.protocol import (
    EndReason,
    RecordingEnded,
    RecordingState,
    RecordingStatus,
)

NAME = "record"
HELP = "record one VM with perf kvm stat and print a line per interval (headless)"
REPORT_NAME = "report.txt"
REPORT_JSON = "report.json"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TOP_REASONS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--pid", type=positive_int, help="the VM's process id")
    who.add_argument("--name", help="the VM's name (QEMU -name guest=NAME)")
    parser.add_argument(
        "--duration",
        type=arg_types.duration,
        metavar="S",
        help="stop after S seconds (S > 0; without --duration, record until Ctrl+C)",
    )
    parser.add_argument(
        "--interval",
        type=positive_int,
        default=1,
        metavar="S",
        help="seconds per chunk / live block (whole seconds, default 1)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"folder for chunks, manifest.json and {REPORT_NAME} "
        "(default: $VMEXIT_TUI_HOME/recordings/NAME-PID-TIME, home ~/.local/share/vmexit-tui; "
        "with --live nothing is written unless given)",
    )
    parser.add_argument(
        "--event",
        action="append",
        choices=[EventKind.VMEXIT.value, EventKind.MMIO.value, EventKind.IOPORT.value],
        help="event kind to report; repeat for several (default: vmexit)",
    )
    parser.add_argument(
        "--vcpu", type=non_negative_int, metavar="N", help="only vCPU N (0, 1, ...)"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="use `perf kvm stat live` (no perf.data files; one --event only)",
    )
    parser.add_argument(
        "--source",
        choices=modes.SOURCES,
        default="auto",
        help="kernel: in-kernel hist triggers (counts, latency histograms, nothing on disk); "
        "count: perf stat counting (no timings); perf: perf kvm stat record chunks; "
        "auto (default): the best this kernel offers",
    )
    parser.add_argument("--perf", default="perf", help=argparse.SUPPRESS)
    add_latency_arguments(parser)


class _Out:
    """stdout/stderr that go quiet instead of failing once the terminal is gone (SIGHUP)."""

    def __init__(self) -> None:
        self.dead = False

    def write(self, stream, text: str) -> None:
        if self.dead:
            return
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            self.dead = True

    def out(self, text: str) -> None:
        self.write(sys.stdout, text + "\n")

    def err(self, text: str) -> None:
        self.write(sys.stderr, f"vmexit-tui record: {text}\n")


def interval_line(interval: Interval, kinds: tuple[EventKind, ...]) -> str:
    """`#3 17:12:03 1.00s vmexit 1234 (1234/s) EPT_VIOLATION 42% 0.47µs, ...`"""
    stamp = datetime.fromtimestamp(interval.end).strftime("%H:%M:%S")
    parts = [f"#{interval.index + 1}", stamp, f"{interval.duration:.2f}s"]
    for kind in kinds:
        report = interval.reports.get(kind)
        if report is None:
            parts.append(f"{kind} -")
            continue
        n = report.sample_count
        rate = interval.rate(kind) or 0.0
        text = f"{kind} {n} ({numbers.rate(rate)}/s)"
        top = sorted(report.rows, key=lambda r: r.samples, reverse=True)[:TOP_REASONS]
        if top and n:
            text += " " + ", ".join(
                f"{r.reason} {100 * r.samples / n:.0f}%"
                + (f" {numbers.us(r.mean_us)}µs" if r.mean_us is not None else "")
                for r in top
            )
        parts.append(text)
    return "  ".join(parts)


def final_text(acc: RunAccumulator, kinds: tuple[EventKind, ...], scope: Scope) -> str:
    """The totals in perf's own layout, one block per kind."""
    blocks = []
    for kind in kinds:
        total: Report = replace(acc.total(kind), scope=scope, timestamp=None)
        try:
            blocks.append(format_report(total))
        except UnprintableReport:
            # timings perf's layout cannot show (the kernel source has no min, counting no
            # times at all): the plain table, with its unknown marks
            blocks.append("\n" + report_to_table(total))
    return "".join(blocks)


def latency_text(session: LatencySession) -> str:
    """The latency summary after the totals: one line per thread, spikes, where read."""
    s = session.summary()
    lines = [f"cyclictest latency ({s.source}; {len(s.spikes)} spikes, "
             f"{s.skipped_lines} lines skipped):"]  # fmt: skip
    for t in s.threads:
        avg = "?" if t.avg_us is None else f"{t.avg_us:.1f}"
        lines.append(f"  T{t.thread}: max {t.max_us} µs, avg {avg} µs, {t.cycles} cycles")
    if not s.threads:
        lines.append(f"  no cyclictest status line read ({session.ended or 'still running'})")
    return "\n".join(lines)


def choice_is_perf_record(choice: modes.ModeChoice | None, args: argparse.Namespace) -> bool:
    """perf record in chunks: its recorder writes its own manifest."""
    return not args.live and (choice is None or choice.mode is modes.Mode.PERF)


def _default_out(vm: VmInfo) -> Path:
    return new_recording_folder(vm.name, vm.pid)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_record(args))


def source_manifest(
    recorder: RecorderBase, source: str, kinds: tuple[EventKind, ...], vcpu: int | None
) -> Manifest:
    """The manifest of a recording whose source keeps no chunks (kernel, count, perf live):
    written when it starts recording and again when it ends, beside report.txt/json."""
    from vmexit_tui.host.audit import audit

    vm = recorder.vm
    return Manifest(
        vm_name=vm.name,
        vm_pid=vm.pid,
        vm_started=vm.started,
        pinning_at_start=str(vm.pinning),
        perf_version=None,
        argv=list(getattr(recorder, "argv", None) or []),
        report_argv=[],
        interval_s=recorder.interval_s,
        events=[str(k) for k in kinds],
        vcpu=vcpu,
        started=recorder.started or 0.0,
        source=source,
        audit=[c.to_json() for c in audit([vm])],
    )


def finish_manifest(manifest: Manifest, recorder: RecorderBase, ended: RecordingEnded) -> None:
    """Fill in how the recording ended (the fields PerfRecorder fills for its own)."""
    from vmexit_tui.recording.perf_supervision import pinning_now

    manifest.stopped = recorder.info.stopped or time.time()
    manifest.pinning_at_end = recorder.info.pinning_at_end or pinning_now(recorder.vm)
    manifest.end_reason = str(ended.reason)
    manifest.end_detail = ended.detail
    manifest.ok = ended.ok
    if recorder.latency_summary is not None:
        manifest.latency = recorder.latency_summary()


async def _record(args: argparse.Namespace) -> int:
    io = _Out()
    kinds = tuple(dict.fromkeys(EventKind(e) for e in (args.event or ["vmexit"])))
    if args.live and len(kinds) > 1:
        io.err("--live records one --event at a time (perf kvm stat live takes one)")
        return 2
    if args.interval < 1:
        io.err(f"--interval must be a whole number of seconds >= 1, got {args.interval}")
        return 2
    for problem in await asyncio.to_thread(preflight.run_checks, perf=args.perf):
        if problem.blocking:
            io.err(f"{problem.summary}; {problem.fix}")
            return 2
        io.err(f"note: {problem.summary}")
    try:
        vm = await asyncio.to_thread(VmScanner().find, pid=args.pid, name=args.name)
    except VmNotFound as e:
        io.err(str(e))
        return 1
    if not vm.kvm:
        io.err(not_kvm_reason(vm))
        return 1

    choice: modes.ModeChoice | None = None
    if not args.live:
        try:
            choice = await asyncio.to_thread(modes.choose, args.source, perf=args.perf)
        except modes.ModeUnavailable as e:
            io.err(str(e))
            return 2
        if choice.mode is not modes.Mode.PERF and kinds != (EventKind.VMEXIT,):
            io.err(f"--source {choice.mode} records vmexit only; use --source perf for {kinds}")
            return 2
    out_dir = Path(args.out) if args.out else (None if args.live else _default_out(vm))
    recorder: RecorderBase  # every source here can stop "at duration"
    if choice is not None and choice.mode is not modes.Mode.PERF:
        made = modes.make_recorder(
            choice.mode, vm, interval_s=args.interval, perf=args.perf, why=choice.why
        )
        assert isinstance(made, RecorderBase)
        recorder = made
    elif args.live:
        from vmexit_tui.recording.perf_live import PerfLiveRecorder

        recorder = PerfLiveRecorder(
            vm, interval_s=args.interval, event=kinds[0], vcpu=args.vcpu, perf=args.perf
        )
    else:
        from vmexit_tui.recording.perf_record import PerfRecorder

        assert out_dir is not None
        recorder = PerfRecorder(
            vm, out_dir, interval_s=args.interval, events=kinds, vcpu=args.vcpu, perf=args.perf
        )

    latency = session_from_args(args, interval_s=args.interval)
    latency_task = None
    if latency is not None:
        recorder.latency_summary = latency.summary_json  # type: ignore[union-attr]
        latency_task = asyncio.create_task(pump(latency, lambda s: io.out(describe_spike(s))))
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task] = set()

    def stop_soon() -> None:
        task = loop.create_task(recorder.stop())
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    def on_signal(sig: signal.Signals) -> None:
        stop_soon()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)

    def duration_reached() -> None:
        task = loop.create_task(recorder.stop_at_duration(args.duration))
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    timer = loop.call_later(args.duration, duration_reached) if args.duration else None
    where = f" into {out_dir}" if out_dir and not args.live else ""
    announced = False
    acc = RunAccumulator()
    ended: RecordingEnded | None = None
    message: str | None = None
    # kernel, count and perf live keep no chunks: the manifest is written here
    manifest_source = (
        None
        if out_dir is None or choice_is_perf_record(choice, args)
        else (str(choice.mode) if choice is not None else "perf-live")
    )
    manifest: Manifest | None = None
    try:
        async for event in recorder.events():
            if isinstance(event, Interval):
                acc.add(event)
                io.out(interval_line(event, kinds))
                for spike in latency.add_exits(event) if latency is not None else ():
                    io.out(describe_spike(spike))
            elif isinstance(event, RecordingStatus):
                if event.state is RecordingState.RECORDING and not announced:
                    announced = True
                    io.err(
                        f"recording {vm.name} (pid {vm.pid}){where} every {args.interval} s "
                        f"({', '.join(map(str, kinds))}); Ctrl+C stops"
                    )
                    if choice is not None:  # said once it records: a refusal stays one line
                        io.err(f"source: {choice.mode.title} ({choice.why})")
                    if manifest_source is not None and out_dir is not None:
                        manifest = source_manifest(recorder, manifest_source, kinds, args.vcpu)
                        make_private_dir(out_dir)
                        write_manifest(out_dir, manifest)
                final = event.state in (RecordingState.STOPPED, RecordingState.FAILED)
                if event.message and event.message != message and not final:
                    io.err(f"note: {event.message}")
                message = event.message
            elif isinstance(event, RecordingEnded):
                ended = event
    finally:
        if timer is not None:
            timer.cancel()
        # saving follows: a late Ctrl+C (or the VM's end meeting the user's stop) must not
        # cut it short; asyncio.run's loop.close() removes these handlers
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, io.err, "stopping already; saving what was recorded")
        lifecycle.REGISTRY.stop_all()  # nothing should be left; make sure of it
        if latency is not None and latency_task is not None:
            await latency.feed.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(latency_task, 10)

    assert ended is not None
    if manifest is not None and out_dir is not None:
        finish_manifest(manifest, recorder, ended)
        write_manifest(out_dir, manifest)
    if not ended.ok and acc.intervals == 0:
        io.err(ended.summary)
        return 1
    scope = Scope(pids=(vm.pid,), vcpu=args.vcpu)
    text = final_text(acc, kinds, scope)
    io.out(text.rstrip("\n"))
    if latency is not None:
        io.out(latency_text(latency))
    if out_dir is not None:
        make_private_dir(out_dir)
        write_private(out_dir / REPORT_NAME, text)
        total = replace(acc.total(EventKind.VMEXIT), scope=scope, timestamp=None)
        summary = recording_report_json(
            total,
            acc.vcpu_totals,
            mode=str(choice.mode) if choice else "perf-live",
            mode_why=choice.why if choice else None,
        )
        write_private(out_dir / REPORT_JSON, json.dumps(summary, indent=1) + "\n")
        io.err(f"saved in {out_dir}")
    if not ended.ok:
        io.err(ended.summary)
        return 1
    if ended.reason is not EndReason.STOPPED:
        io.err(ended.summary)
    return 0
