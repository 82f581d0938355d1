"""`vmexit-tui vms`: formatting, and the real console module against a real guest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.qemu_guest import guest_fixture, needs_qemu, qemu_guest
from vmexit_tui.commands.vms import NOT_KVM_TITLE, format_bytes, format_duration, render_table
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo

GUEST = f"vmexit-test-cmd-{os.getpid()}"
guest = guest_fixture(GUEST, accel="kvm")


def _vmexit_tui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vmexit_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0B"), (1023, "1023B"), (1024, "1.0K"), (41336832, "39.4M"), (3 << 40, "3.0T")],
)
def test_format_bytes(n: int, text: str) -> None:
    assert format_bytes(n) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42.9, "42s"), (303, "5m03s"), (7500, "2h05m"), (3 * 86400 + 4 * 3600, "3d04h")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_table_is_aligned_and_lists_vcpu_threads() -> None:
    vms = [
        VmInfo(
            pid=1234,
            name="database-primary",
            vmm="qemu",
            started=1000.0,
            cpu_percent=87.34,
            rss_bytes=4 << 30,
            vcpus=(VCpu(0, 1240, (0, 1, 2, 3, 6)), VCpu(10, 1250, (7,))),
            pinning=Pinning.PARTIAL,
        ),
        VmInfo(
            pid=99,
            name="fc",
            vmm="firecracker",
            started=1900.0,
            cpu_percent=None,
            rss_bytes=512 << 20,
            vcpus=(),
            pinning=Pinning.UNKNOWN,
        ),
    ]
    lines = render_table(vms, now=2000.0).splitlines()
    header, first, *rest = lines
    assert header.split() == ["NAME", "PID", "VMM", "VCPUS", "PINNING", "CPU%", "RSS", "UPTIME"]
    expected = ["database-primary", "1234", "qemu", "2", "partial", "87.3", "4.0G", "16m40s"]
    assert first.split() == expected
    # columns line up: each header word starts or ends where its values do
    assert first.index("qemu") == header.index("VMM")
    assert first.index("partial") == header.index("PINNING")
    assert first.index("1234") + 4 == header.index("PID") + 3
    assert rest[0].split() == ["vCPU", "0", "tid", "1240", "cpus", "0-3,6"]
    assert rest[1].split() == ["vCPU", "10", "tid", "1250", "cpus", "7"]
    assert rest[0].index("tid") == rest[1].index("tid")
    fc_row = rest[2].split()
    assert fc_row == ["fc", "99", "firecracker", "?", "unknown", "?", "512.0M", "1m40s"]
    assert "not identifiable" in rest[3]


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare")
def test_no_guests_says_so_and_prints_problems(tmp_path: Path) -> None:
    """In a fresh pid namespace no guest is visible; an empty PATH makes perf missing."""
    cmd = [shutil.which("unshare") or "unshare", "--pid", "--fork", "--mount-proc"]
    cmd += [sys.executable, "-m", "vmexit_tui", "vms"]
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "No running KVM guests found.\n"
    assert "error: `perf` is not on PATH" in out.stderr
    assert "fix: install" in out.stderr


class TestWithGuest:
    pytestmark = needs_qemu

    def test_json_lists_the_guest(self, guest: psutil.Process) -> None:
        out = _vmexit_tui("vms", "--json", "--interval", "0.2")
        assert out.returncode == 0, out.stderr
        vms = json.loads(out.stdout)
        (mine,) = [v for v in vms if v["pid"] == guest.pid]
        assert set(mine) == {
            "pid",
            "name",
            "vmm",
            "started",
            "cpu_percent",
            "rss_bytes",
            "pinning",
            "kvm",
            "vcpus",
        }
        assert mine["kvm"] is True
        assert (mine["name"], mine["vmm"]) == (GUEST, "qemu")
        assert isinstance(mine["cpu_percent"], float)  # two samples, 0.2 s apart
        assert [v["index"] for v in mine["vcpus"]] == [0, 1]
        assert {v["tid"] for v in mine["vcpus"]} <= {t.id for t in guest.threads()}
        assert all(set(v) == {"index", "tid", "cpus"} for v in mine["vcpus"])
        expected_pinning = "bind" if len(os.sched_getaffinity(guest.pid)) == 1 else "raw"
        assert mine["pinning"] == expected_pinning

    def test_table_lists_the_guest(self, guest: psutil.Process) -> None:
        out = _vmexit_tui("vms", "--interval", "0")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        (row,) = [i for i, line in enumerate(lines) if line.split()[:2] == [GUEST, str(guest.pid)]]
        assert lines[row].split()[2:5] == ["qemu", "2", "raw"]
        assert lines[row + 1].split()[:2] == ["vCPU", "0"]
        assert lines[row + 2].split()[:2] == ["vCPU", "1"]


class TestNotKvm:
    pytestmark = needs_qemu

    def test_an_emulated_guest_is_listed_apart_as_not_kvm(self, guest: psutil.Process) -> None:
        with qemu_guest("vmexit-test-tcg-vms", smp=1, accel="tcg") as tcg:
            table = _vmexit_tui("vms", "--interval", "0")
            data = json.loads(_vmexit_tui("vms", "--json", "--interval", "0").stdout)
        assert table.returncode == 0, table.stderr
        lines = table.stdout.splitlines()
        title = lines.index(NOT_KVM_TITLE)
        kvm_rows = [ln.split()[1] for ln in lines[:title] if ln and not ln.startswith(" ")]
        emulated_rows = [ln.split()[1] for ln in lines[title + 2 :] if not ln.startswith(" ")]
        assert str(guest.pid) in kvm_rows and str(tcg.pid) not in kvm_rows
        assert str(tcg.pid) in emulated_rows
        by_pid = {v["pid"]: v for v in data}
        assert by_pid[tcg.pid]["kvm"] is False and by_pid[guest.pid]["kvm"] is True
