"""Preflight checks: every failure on a fake tree, then once against this machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vmexit_tui.host.preflight import (
    CAP_PERFMON,
    CAP_SYS_ADMIN,
    Problem,
    ensure_tracefs,
    perf_version,
    run_checks,
    tracing_dir,
)

REAL_PATH = os.environ.get("PATH", "")
ALL_CAPS = f"{(1 << 41) - 1:016x}"


def make_tree(
    root: Path,
    *,
    os_id: str = "debian",
    uid: int = 0,
    cap_eff: str = ALL_CAPS,
    paranoid: str = "2",
    tracing: str | None = "sys/kernel/tracing",
    kvm_events: bool = True,
    kvm_exit: bool = True,
    dev_kvm: bool = True,
) -> Path:
    """A fake filesystem root with the files the checks read."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(f'NAME="Test"\nID={os_id}\n')
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/status").write_text(
        f"Name:\tpython\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nCapInh:\t0\nCapEff:\t{cap_eff}\n"
    )
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/perf_event_paranoid").write_text(f"{paranoid}\n")
    for rel in ("sys/kernel/tracing", "sys/kernel/debug/tracing"):
        (root / rel).mkdir(parents=True)
    if tracing is not None:
        events = root / tracing / "events"
        events.mkdir()
        if kvm_events:
            (events / "kvm/kvm_entry").mkdir(parents=True)
            if kvm_exit:
                (events / "kvm/kvm_exit").mkdir()
    if dev_kvm:
        (root / "dev").mkdir()
        (root / "dev/kvm").touch()
    return root


def keys(problems: list[Problem]) -> list[str]:
    return [p.key for p in problems]


def test_healthy_tree_has_no_problems(tmp_path: Path) -> None:
    assert run_checks(root=make_tree(tmp_path), path=REAL_PATH) == []


@pytest.mark.parametrize(
    ("os_id", "hint"),
    [
        ("debian", "apt install linux-perf"),
        ("ubuntu", f"apt install linux-tools-{os.uname().release}"),
        ("fedora", "dnf install perf"),
        ("arch", "RHEL/Fedora `dnf install perf`"),
    ],
)
def test_missing_perf_names_the_package(tmp_path: Path, os_id: str, hint: str) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    problems = run_checks(root=make_tree(tmp_path / "root", os_id=os_id), path=str(empty))
    assert keys(problems) == ["perf-missing"]
    assert problems[0].blocking
    assert hint in problems[0].fix


def test_perf_that_does_not_run_is_reported(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "perf"
    wrapper.write_text("#!/bin/sh\necho 'WARNING: perf not found for kernel' >&2\nexit 2\n")
    wrapper.chmod(0o755)
    problems = run_checks(root=make_tree(tmp_path / "root"), path=str(bindir))
    assert keys(problems) == ["perf-broken"]
    assert str(wrapper) in problems[0].summary and problems[0].blocking


@pytest.mark.parametrize(
    ("uid", "caps", "problem"),
    [
        (1000, 0, "not root (uid 1000)"),
        (0, 0, "running as root but without"),
        (1000, 1 << CAP_PERFMON, None),
        (1000, 1 << CAP_SYS_ADMIN, None),
    ],
)
def test_permissions_need_perfmon_or_sys_admin(
    tmp_path: Path, uid: int, caps: int, problem: str | None
) -> None:
    root = make_tree(tmp_path, uid=uid, cap_eff=f"{caps:016x}", paranoid="4")
    problems = run_checks(root=root, path=REAL_PATH)
    if problem is None:
        assert problems == []
        return
    assert keys(problems) == ["permissions"]
    assert problem in problems[0].summary
    assert "kernel.perf_event_paranoid = 4" in problems[0].summary
    assert problems[0].blocking and "sudo" in problems[0].fix


def test_unmounted_tracefs_offers_the_mount_command(tmp_path: Path) -> None:
    problems = run_checks(root=make_tree(tmp_path, tracing=None), path=REAL_PATH)
    assert keys(problems) == ["tracefs"]
    assert problems[0].fix.endswith("mount -t tracefs nodev /sys/kernel/tracing")
    assert problems[0].blocking


def test_tracefs_under_debugfs_is_accepted(tmp_path: Path) -> None:
    root = make_tree(tmp_path, tracing="sys/kernel/debug/tracing")
    assert run_checks(root=root, path=REAL_PATH) == []
    assert tracing_dir(root) == root / "sys/kernel/debug/tracing"


def test_missing_kvm_exit_is_a_non_blocking_note_after_blocking_problems(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    root = make_tree(tmp_path / "root", kvm_exit=False)
    problems = run_checks(root=root, path=str(empty))
    assert keys(problems) == ["perf-missing", "kvm-exit-tracepoint"]
    note = problems[1]
    assert not note.blocking
    assert "exit tables will stay empty" in note.summary.lower()
    assert "mmio" in note.summary.lower()


def test_missing_kvm_trace_events_with_dev_kvm(tmp_path: Path) -> None:
    problems = run_checks(root=make_tree(tmp_path, kvm_events=False), path=REAL_PATH)
    assert keys(problems) == ["kvm-events"]
    assert "modprobe" in problems[0].fix


def test_missing_dev_kvm(tmp_path: Path) -> None:
    root = make_tree(tmp_path, dev_kvm=False, kvm_events=False)
    problems = run_checks(root=root, path=REAL_PATH)
    assert keys(problems) == ["dev-kvm"]
    assert problems[0].blocking and "/dev/kvm" in problems[0].summary


# --- the real machine -------------------------------------------------------------------------


def test_this_machine() -> None:
    """Root, perf installed, tracefs mounted (or mountable); kvm_exit as the kernel has it."""
    assert shutil.which("perf") is not None, "this project's machine has perf installed"
    tracing = ensure_tracefs()
    assert tracing is not None
    problems = run_checks()
    assert [p for p in problems if p.blocking] == []
    has_kvm_exit = (tracing / "events/kvm/kvm_exit").is_dir()
    assert ("kvm-exit-tracepoint" in keys(problems)) is not has_kvm_exit


def test_perf_version_matches_perf_itself() -> None:
    out = subprocess.run(["perf", "--version"], capture_output=True, text=True, check=True)
    version = perf_version()
    assert version is not None and re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", version)
    assert out.stdout.strip() == f"perf version {version}"


def test_perf_version_of_missing_binary_is_none(tmp_path: Path) -> None:
    assert perf_version(str(tmp_path / "perf")) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_ensure_tracefs_mounts_it(tmp_path: Path) -> None:
    """Mount a second view of tracefs on a scratch directory; the system mount is untouched."""
    target = tmp_path / "sys/kernel/tracing"
    target.mkdir(parents=True)
    assert tracing_dir(tmp_path) is None
    try:
        found = ensure_tracefs(root=tmp_path)
        assert found == target
        assert (target / "events").is_dir()
        assert ensure_tracefs(root=tmp_path) == target
        mounts = Path("/proc/self/mountinfo").read_text().split("\n")
        assert sum(f" {target} " in line for line in mounts) == 1, "mounted twice"
    finally:
        subprocess.run(["umount", str(target)], capture_output=True, check=False)
    assert tracing_dir(tmp_path) is None
