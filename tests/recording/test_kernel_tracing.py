"""The kernel source's tracefs objects: names, filters, stale-owner cleanup on a plain directory.

The real kernel's behaviour (triggers, refusal order) is tested in the lab (tests/lab); here a
plain directory stands in for tracefs only to check which objects are ours and whose owner is
dead: a file write or rmdir on it behaves like the kernel's for an instance without triggers.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vmexit_tui.recording.kernel_tracing import TraceSetup, owner_of, pid_filter, remove_stale


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_owner_is_read_from_our_names_only():
    assert owner_of("vmexit-tui-123") == 123
    assert owner_of("vmexit-tui-123-2") == 123
    assert owner_of("vmexit_tui_77") == 77
    assert owner_of("vmexit_tui_77_3") == 77
    assert owner_of("vmexit-tui-x") is None
    assert owner_of("someone-else-123") is None


def test_pid_filter_refuses_an_empty_set_that_would_watch_everything():
    assert pid_filter([5, 3, 5]) == "common_pid==3 || common_pid==5"
    with pytest.raises(ValueError):
        pid_filter([])


def test_setup_names_carry_the_owner_and_differ_within_one_process(tmp_path):
    a = TraceSetup(tmp_path, [1])
    b = TraceSetup(tmp_path, [2])
    assert owner_of(a.name) == owner_of(b.name) == os.getpid()
    assert owner_of(a.synth) == os.getpid()
    assert a.name != b.name and a.synth != b.synth
    exit_line, entry_line, synth_line = (line for _, line in a.commands())
    assert exit_line.endswith("if common_pid==1")
    assert f"trace({a.synth},$lat,$r,$v)" in entry_line
    assert synth_line.startswith("hist:keys=vcpu,reason,lat.log2:vals=hitcount,lat")


def test_stale_cleanup_removes_dead_owners_only(tmp_path):
    tracing = tmp_path
    dead, live = dead_pid(), os.getpid()
    for name in (f"vmexit-tui-{dead}", f"vmexit-tui-{live}", "vmexit-tui-x", "other-1"):
        (tracing / "instances" / name).mkdir(parents=True)
    (tracing / "synthetic_events").write_text(
        f"vmexit_tui_{dead}\tu64 lat\nvmexit_tui_{live}\tu64 lat\nsomeone_{dead}\tu64 x\n"
    )
    done = remove_stale(tracing)
    assert done.instances == (f"vmexit-tui-{dead}",)
    assert sorted(p.name for p in (tracing / "instances").iterdir()) == [
        "other-1",
        f"vmexit-tui-{live}",
        "vmexit-tui-x",
    ]
    # removal of a synthetic event is a `!name` line written to synthetic_events
    assert done.synthetic == (f"vmexit_tui_{dead}",)
    assert (tracing / "synthetic_events").read_text().endswith(f"!vmexit_tui_{dead}\n")
    assert done.failed == ()


def test_create_failure_removes_what_it_made(tmp_path):
    (tmp_path / "instances").mkdir()
    setup = TraceSetup(tmp_path, [1])
    with pytest.raises(Exception, match="tracefs refused"):
        setup.create()  # no synthetic_events file: refused after mkdir
    assert not setup.instance.exists()
