"""The real app records a real qemu guest with the real perf, in tmux; then quit or hang-up."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import psutil
import pytest

from tests.qemu_guest import needs_qemu, qemu_guest
from tests.tmux_term import TmuxTerm, still_running

pytestmark = [pytest.mark.e2e, pytest.mark.perf, *needs_qemu]


def vm_rows(screen: str) -> list[str]:
    """Names of the VM list's rows, in screen order."""
    names, in_table = [], False
    for line in screen.splitlines():
        tokens = line.split()
        if tokens[:2] == ["VM", "PID"]:
            in_table = True
            continue
        if in_table:
            if len(tokens) >= 3 and tokens[1].isdigit():
                names.append(tokens[0])
            else:
                break
    return names


def perf_children(term: TmuxTerm) -> list[psutil.Process]:
    return [p for p in term.descendants() if p.name() == "perf"]


def start_recording(term: TmuxTerm, name: str) -> None:
    screen = term.wait_for(lambda s: name in vm_rows(s), timeout=20)
    for _ in range(vm_rows(screen).index(name)):
        term.send("Down")
    term.send("space")
    term.wait_for(f"recording {name}", timeout=20)


def chunk_count(screen: str) -> int:
    m = re.search(r"(\d+) chunks?", screen)
    return int(m.group(1)) if m else 0


def assert_recording_readable(home: Path, pid: int) -> dict:
    folders = list((home / "recordings").glob(f"*-{pid}-*"))
    assert len(folders) == 1, folders
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    assert manifest["vm_pid"] == pid
    chunks = sorted(folders[0].glob("perf.data.*"))
    assert chunks, "no chunk files were kept"
    for chunk in chunks:
        assert chunk.stat().st_mode & 0o777 == 0o600
        out = subprocess.run(
            ["perf", "kvm", "-i", str(chunk), "stat", "report", "--event=vmexit"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "Total Samples:" in out.stderr, f"{chunk} is not readable by perf"
    return manifest


def test_record_key_starts_and_stops_perf_on_the_selected_guest(vmexit_tui, home):
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    with (
        qemu_guest(name) as guest,
        TmuxTerm(
            [vmexit_tui, "--source", "perf"],
            width=110,
            height=30,
            env={"VMEXIT_TUI_HOME": str(home)},
        ) as t,
    ):
        start_recording(t, name)
        perfs = perf_children(t)
        assert len(perfs) == 1
        argv = perfs[0].cmdline()
        assert argv[1:4] == ["kvm", "stat", "record"] and str(guest.pid) in argv
        screen = t.wait_for(lambda s: chunk_count(s) >= 2, timeout=30)
        # on a host that does not report exits the app says so instead of a silent empty table
        if "exits/s" in screen and " 0.0 exits/s" in screen:
            t.wait_for("no VM exits", timeout=10)

        t.send("space")
        t.wait_for(f"stopped {name}", timeout=30)
        psutil.wait_procs(perfs, timeout=10)
        assert not any(p.is_running() for p in perfs), "perf still runs after stop"
        manifest = assert_recording_readable(home, guest.pid)
        assert manifest["end_reason"] == "stopped"
        assert len(manifest["chunks"]) >= 2

        t.send("q")
        assert t.wait_exit() == 0
        assert t.descendants() == []


def test_ssh_hang_up_while_recording_leaves_no_perf_and_readable_data(vmexit_tui, home):
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    with (
        qemu_guest(name) as guest,
        TmuxTerm(
            [vmexit_tui, "--source", "perf"],
            width=110,
            height=30,
            env={"VMEXIT_TUI_HOME": str(home)},
        ) as t,
    ):
        start_recording(t, name)
        t.wait_for(lambda s: chunk_count(s) >= 1, timeout=30)
        app = psutil.Process(t.pane_pid)
        perfs = perf_children(t)
        assert perfs
        t.hang_up()  # what a dropped SSH connection does to the session
        alive = still_running([app, *perfs], timeout=20)
        assert alive == [], f"still running after SIGHUP: {alive}"
        manifest = assert_recording_readable(home, guest.pid)
        assert manifest["stopped"] is not None
