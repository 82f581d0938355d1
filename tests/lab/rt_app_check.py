"""Run inside L1 by tests/lab/test_rt_lab.py: the real app records an L2 guest with perf while
reading cyclictest from the guest's serial console file; writes what it saw as JSON.

    python -m tests.lab.rt_app_check GUEST_NAME CONSOLE_FILE OUT_JSON SNAPSHOT_DIR SPIKE_US
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

GUESTS = Path(os.environ.get("LAB_GUESTS", "/nonexistent"))  # lab.sh's guest files


def guest_alive(name: str) -> bool:
    """Whether the L2 guest's QEMU still runs (its pid file names a live process)."""
    pidfile = GUESTS / f"{name}.pid"
    pid = pidfile.read_text().strip() if pidfile.exists() else ""
    return bool(pid) and Path(f"/proc/{pid}").exists()


async def main(name: str, console: str, out: str, folder: str, spike_us: float) -> None:
    from vmexit_tui.app.app import VmExitApp
    from vmexit_tui.app.main import real_sources
    from vmexit_tui.app.widgets.latency_strip import LatencyStrip
    from vmexit_tui.app.widgets.series_plot import SeriesPlot
    from vmexit_tui.app.widgets.status_line import StatusLine
    from vmexit_tui.formats import snapshots
    from vmexit_tui.host.audit import audit
    from vmexit_tui.recording.latency_feed import LatencySpec
    from vmexit_tui.recording.modes import detect, make_recorder

    sources = real_sources(Path(folder))
    choice = detect()

    def make(vm):
        try:
            return make_recorder(choice.mode, vm)
        except Exception as exc:  # that mode's source is not here: perf kvm stat live instead
            result["make_error"] = repr(exc)
            from vmexit_tui.recording.perf_live import PerfLiveRecorder

            return PerfLiveRecorder(vm, interval_s=1)

    sources.make_recorder = make
    spec = LatencySpec(file=console, spike_us=spike_us)
    sources.latency_chunks = spec.chunks
    sources.latency_label = spec.describe()
    sources.spike_us = spike_us
    sources.audit = lambda vm: audit([vm])
    sources.autostart = name  # the app starts recording it when its scan finds it
    app = VmExitApp(sources)
    result: dict = {"mode": str(choice.mode), "mode_why": choice.why}
    async with app.run_test(size=(140, 45)) as pilot:

        async def until(cond, timeout: float) -> bool:
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            while not cond():
                if loop.time() > end:
                    return False
                await asyncio.sleep(0.2)  # not pilot.pause: under TCG the app lags behind
            return True

        # a fresh L1 (after a crash) reads the venv cold over virtfs: the first scan is slow
        result["found_guest"] = await until(lambda: app.current is not None, 120)
        if not result["found_guest"]:  # the first scan missed it: start it as a user would
            result["vms"] = [v.name for v in app.vms]
            if await until(lambda: any(v.name == name for v in app.vms), 60):
                await pilot.press("1", "space")
            result["found_guest"] = await until(lambda: app.current is not None, 30)
        if not result["found_guest"]:
            result["guest_alive"] = guest_alive(name)
            notes = getattr(app, "_notifications", ())
            result["notifications"] = [str(getattr(n, "message", n)) for n in notes]
            Path(out).write_text(json.dumps(result, indent=2))
            app.exit()
            return
        current = app.current
        session_ok = await until(
            lambda: (
                current.ended is not None  # no use waiting: the recording is over
                or (
                    app.latency is not None
                    and len(app.latency.intervals) >= 4
                    and current.acc.intervals >= 4
                )
            ),
            240,
        )
        result["waited_ok"] = session_ok and current.ended is None
        if current.ended is not None:  # say whether the guest really went, and why
            result["guest_alive"] = guest_alive(name)
            dmesg = subprocess.run(["dmesg"], capture_output=True, text=True, check=False)
            result["l1_dmesg_tail"] = dmesg.stdout[-1500:]
            for kind in ("log", "console"):
                with contextlib.suppress(OSError):
                    text = (GUESTS / f"{name}.{kind}").read_text(errors="replace")
                    result[f"guest_{kind}_tail"] = text[-1500:]
        session = app.latency
        await until(lambda: session is not None and not session.linker.pending, 60)
        app.live.show(app.current)
        app._update_status()
        strip = app.query_one(LatencyStrip)
        result["strip_lines"] = [line[0] for line in (strip._data[1] if strip._data else ())]
        result["strip_marks"] = len(strip._data[3]) if strip._data else 0
        plot = app.query_one("#series-plot", SeriesPlot)._data
        result["exit_chart_marks"] = [label for _, label in plot[3]] if plot else []
        result["status"] = str(app.query_one(StatusLine)._last)
        result["exit_intervals"] = app.current.acc.intervals
        result["exit_total"] = app.current.acc.total().sample_count
        result["reasons"] = list(app.current.acc.total().reasons)[:10]
        if session is not None:
            result["latency_intervals"] = len(session.intervals)
            result["worst_us"] = session.worst_us
            result["spikes"] = [s.to_json() for s in session.spikes]
            result["pending"] = len(session.linker.pending)
            result["skipped_lines"] = session.feed.stream.skipped_lines
        result["recording_ended"] = repr(app.current.ended)
        Path(out).write_text(json.dumps(result, indent=2))  # what was seen, whatever follows
        await pilot.press("2")
        await pilot.press("w")
        await until(lambda: list(Path(folder).glob("run-*.json")), 30)
        snaps = list(Path(folder).glob("run-*.json"))
        if snaps:
            saved = snapshots.load_run(snaps[0])
            result["snapshot_threads"] = (
                [t.thread for t in saved.latency.threads] if saved.latency else []
            )
            result["snapshot_latency_intervals"] = len(saved.latency_intervals)
            result["snapshot_spikes"] = len(saved.latency.spikes) if saved.latency else 0
            result["snapshot_exits"] = saved.totals[next(iter(saved.totals))].sample_count
            result["snapshot_audit"] = {c.name: c.value for c in saved.audit}
        Path(out).write_text(json.dumps(result, indent=2))
        try:
            await app.quit_cleanly()
        except Exception as exc:  # reported in the JSON; the test decides
            result["quit_error"] = repr(exc)
            Path(out).write_text(json.dumps(result, indent=2))
            app.exit()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])))
