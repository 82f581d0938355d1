"""`vmexit-tui record` with cyclictest beside it: from a command and from stdin."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.qemu_guest import guest_fixture, needs_qemu
from vmexit_tui.recording.perf_chunks import read_manifest

pytestmark = [
    *needs_qemu,
    pytest.mark.perf,
    pytest.mark.skipif(shutil.which("cyclictest") is None, reason="needs cyclictest"),
]
ROOT = Path(__file__).resolve().parents[2]
guest = guest_fixture(smp=1)
CT = "cyclictest -m -p95 -i 1000 -t 2"


def _record(*args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    if "--source" not in args:
        args = (*args, "--source", "perf")  # the manifest the latency lands in is perf's
    argv = [sys.executable, "-m", "vmexit_tui", "record", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=90, stdin=stdin)


def test_latency_command_beside_a_recording(guest, tmp_path, no_new_perf) -> None:
    out = tmp_path / "run"
    done = _record("--pid", str(guest.pid), "--duration", "3", "--out", str(out),
                   "--latency-cmd", f"{CT} -D 10", "--spike-us", "100000")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"cyclictest latency (command: {CT} -D 10;" in done.stdout
    assert "  T0: max " in done.stdout and "  T1: max " in done.stdout
    m = read_manifest(out)
    assert [t["thread"] for t in m["latency"]["threads"]] == [0, 1]
    assert any(c["name"] == f"vm.{m['vm_name']}.vcpu0.policy" for c in m["audit"])
    assert subprocess.run(["pgrep", "-x", "cyclictest"], capture_output=True).returncode == 1


def test_latency_from_stdin(guest, tmp_path, no_new_perf) -> None:
    printed = subprocess.run([*CT.split(), "-D", "2"], capture_output=True, check=True).stdout
    src = tmp_path / "ct.txt"
    src.write_bytes(printed)
    with src.open("rb") as stdin:
        done = _record("--pid", str(guest.pid), "--duration", "2", "--out",
                       str(tmp_path / "run"), "--latency-stdin", stdin=stdin)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cyclictest latency (stdin;" in done.stdout and "  T1: max " in done.stdout
