"""Process hygiene: perf dies with us (even on SIGKILL), the registry, the per-VM lock."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.qemu_guest import needs_qemu, qemu_guest
from vmexit_tui.host import lifecycle
from vmexit_tui.host.lifecycle import AlreadyRecording, ProcessRegistry, RecordingLock
from vmexit_tui.host.proc_start import start_ticks

ROOT = Path(__file__).resolve().parents[2]


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


async def test_spawn_registers_and_finish_stops_with_sigint():
    registry = ProcessRegistry()
    proc = await lifecycle.spawn(["sleep", "60"], registry=registry)
    assert [c.pid for c in registry.children] == [proc.pid]
    assert os.getpgid(proc.pid) == proc.pid  # its own process group
    code = await lifecycle.finish(proc, registry=registry)
    assert code == -signal.SIGINT and registry.children == ()


async def test_finish_escalates_when_sigint_is_ignored():
    registry = ProcessRegistry()
    argv = [sys.executable, "-c", "import signal,time; signal.signal(2, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)"]  # fmt: skip
    proc = await lifecycle.spawn(argv, registry=registry)
    assert (await proc.stdout.readline()).strip() == b"ready"
    code = await lifecycle.finish(proc, grace=0.5, registry=registry)
    assert code == -signal.SIGTERM


def test_stop_all_and_pid_reuse_safety():
    registry = ProcessRegistry()
    child = subprocess.Popen(["sleep", "60"])
    try:
        ref = registry.add(child.pid, ["sleep", "60"])
        stale = lifecycle.ChildRef(child.pid, ref.created - 100.0, ("sleep",))
        assert not stale.alive() and not stale.signal(signal.SIGKILL)  # not the same process
        assert child.poll() is None
        stopped = registry.stop_all(grace=2.0)
        assert [r.pid for r in stopped] == [child.pid]
        assert wait_gone(child.pid, timeout=1.0)  # stop_all reaped it (so Popen sees 0)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _child_script(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_children_die_with_the_parent(sig):
    """A parent killed by SIGKILL, SIGTERM or SIGHUP leaves no child (PDEATHSIG)."""
    script = """
        import asyncio, sys
        from vmexit_tui.host import lifecycle
        async def main():
            proc = await lifecycle.spawn(["sleep", "60"])
            print(proc.pid, flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """
    parent = subprocess.Popen(_child_script(script), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        parent.send_signal(sig)
        assert parent.wait(timeout=15) == -sig
        assert wait_gone(child_pid), f"child {child_pid} survived its parent's {sig.name}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


@needs_qemu[0]
@needs_qemu[1]
@pytest.mark.perf
def test_real_perf_dies_with_a_sigkilled_recorder_and_its_chunks_stay_readable(tmp_path):
    script = f"""
        import asyncio
        from vmexit_tui.host.discovery import VmScanner
        from vmexit_tui.recording.perf_record import PerfRecorder
        from vmexit_tui.analysis.running import Interval
        async def main(pid):
            rec = PerfRecorder(VmScanner().find(pid=pid), {str(tmp_path / "run")!r})
            async for ev in rec.events():
                if isinstance(ev, Interval):
                    print("interval", flush=True)
        asyncio.run(main(int(__import__("sys").argv[1])))
    """
    with qemu_guest(smp=1) as guest:
        parent = subprocess.Popen(
            [*_child_script(script), str(guest.pid)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        try:
            assert parent.stdout.readline().strip() == "interval"
            perfs = [p for p in psutil.Process(parent.pid).children() if p.name() == "perf"]
            assert len(perfs) == 1
            parent.kill()
            parent.wait(timeout=10)
            assert wait_gone(perfs[0].pid), "perf outlived the SIGKILLed recorder"
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
            for p in psutil.process_iter(["name", "ppid"]):
                if p.info["name"] == "perf" and p.info["ppid"] in (parent.pid, 1):
                    with contextlib.suppress(psutil.Error):
                        if str(tmp_path) in " ".join(p.cmdline()):
                            p.kill()
    chunks = sorted((tmp_path / "run").glob("perf.data.*"))
    assert chunks
    for chunk in chunks:
        done = subprocess.run(["perf", "kvm", "-i", str(chunk), "stat", "report"],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        assert done.returncode == 0 and "Total Samples:" in done.stderr


def test_lock_refuses_a_second_holder_and_is_released(tmp_path):
    me = psutil.Process()
    first = RecordingLock(tmp_path, me.pid, me.create_time())
    first.acquire("/data/a")
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    second = RecordingLock(tmp_path, me.pid, me.create_time())
    with pytest.raises(AlreadyRecording, match="into /data/a"):
        second.acquire("/data/b")
    first.release()
    assert not first.path.exists()
    second.acquire("/data/b")
    second.release()


def test_stale_locks_are_taken_over(tmp_path):
    me = psutil.Process()
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = RecordingLock(tmp_path, me.pid, me.create_time())
    lock.path.write_text(json.dumps({"owner_pid": dead.pid, "owner_start_ticks": 1}))
    lock.acquire()  # owner gone
    lock.release()
    gone_vm = RecordingLock(tmp_path, dead.pid, 1.0)
    owner = {"owner_pid": me.pid, "owner_start_ticks": start_ticks(me.pid)}
    gone_vm.path.write_text(json.dumps(owner))
    gone_vm.acquire()  # owner alive, but the VM is gone
    assert json.loads(gone_vm.path.read_text())["owner_pid"] == me.pid
    gone_vm.release()
    garbage = RecordingLock(tmp_path, me.pid, me.create_time())
    garbage.path.write_text("not json")
    garbage.acquire()
    garbage.release()


def test_catches_signal_reads_the_handlers_a_process_installed():
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGUSR2, lambda *a: None)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert lifecycle.catches_signal(child.pid, signal.SIGUSR2)
        assert not lifecycle.catches_signal(child.pid, signal.SIGUSR1)
    finally:
        child.kill()
        child.wait()
    assert not lifecycle.catches_signal(child.pid, signal.SIGUSR2)  # gone: no handler
