"""Process identity that survives a step of the wall clock (the `btime` psutil adds moves)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import psutil
import pytest

from tests.qemu_guest import needs_qemu, qemu_guest
from vmexit_tui.host import proc_start
from vmexit_tui.host.discovery import VmScanner, is_alive
from vmexit_tui.host.lifecycle import AlreadyRecording, RecordingLock
from vmexit_tui.host.proc_start import same_process, start_ticks, started, ticks_of


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def clock_stepped(monkeypatch: pytest.MonkeyPatch) -> None:
    """`/proc/stat`'s btime as after `date -s +3s`: psutil's create_time moves by 3 s.
    (Stepping this machine's clock in a test is not done; the lab steps L1's for real.)"""
    proc_start.boot_time()  # read before the step, as a running vmexit-tui has
    real = psutil._pslinux.boot_time
    monkeypatch.setattr(psutil._pslinux, "boot_time", lambda: real() + 3)


def test_ticks_agree_with_psutil_and_name_one_process(sleeper) -> None:
    ticks = start_ticks(sleeper.pid)
    assert started(sleeper.pid) == pytest.approx(psutil.Process(sleeper.pid).create_time())
    assert ticks_of(started(sleeper.pid)) == ticks
    assert same_process(sleeper.pid, started(sleeper.pid))
    assert not same_process(sleeper.pid, started(sleeper.pid) - 0.01)  # pid reused
    assert not same_process(sleeper.pid, None)
    assert not same_process(os.getpid(), started(sleeper.pid))


def test_a_command_name_with_a_parenthesis_is_read(tmp_path, sleeper) -> None:
    odd = tmp_path / "a) b ("  # comm is the file name: "a) b (" holds ") "
    odd.symlink_to("/bin/sleep")
    proc = subprocess.Popen([str(odd), "60"])
    try:
        assert psutil.Process(proc.pid).name() == "a) b ("
        assert started(proc.pid) == pytest.approx(psutil.Process(proc.pid).create_time())
    finally:
        proc.kill()
        proc.wait()


def test_a_gone_process_raises_no_such_process() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    with pytest.raises(psutil.NoSuchProcess):
        start_ticks(gone.pid)
    assert not same_process(gone.pid, 1.0)


def test_a_clock_step_is_not_read_as_another_process(sleeper, clock_stepped) -> None:
    before = started(sleeper.pid)
    assert psutil.Process(sleeper.pid).create_time() == pytest.approx(before + 3)
    assert started(sleeper.pid) == before
    assert same_process(sleeper.pid, before)


@needs_qemu[0]
@needs_qemu[1]
def test_a_clock_step_does_not_end_a_guest(monkeypatch: pytest.MonkeyPatch) -> None:
    with qemu_guest(smp=1) as proc:
        vm = next(v for v in VmScanner().scan() if v.pid == proc.pid)
        real = psutil._pslinux.boot_time
        monkeypatch.setattr(psutil._pslinux, "boot_time", lambda: real() + 3)
        assert is_alive(vm.pid, vm.started)  # psutil's create_time says 3 s later
        again = next(v for v in VmScanner().scan() if v.pid == proc.pid)
        assert again.started == vm.started  # the same guest, not a new one


def test_a_lock_from_another_vmexit_tui_before_a_clock_step_still_holds(tmp_path) -> None:
    me = os.getpid()
    lock = RecordingLock(tmp_path, me, started(me))
    lock.acquire("/data/a")
    held = json.loads(lock.path.read_text())
    assert held["owner_start_ticks"] == start_ticks(me)
    held["owner_started"] += 3  # its epoch times, read before the clock was stepped
    lock.path.write_text(json.dumps(held))
    with pytest.raises(AlreadyRecording, match="into /data/a"):
        RecordingLock(tmp_path, me, started(me)).acquire("/data/b")
    lock.release()
