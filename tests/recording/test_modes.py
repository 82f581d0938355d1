"""Mode detection on fake tracefs trees, and on this machine's real kernel (no hist triggers)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vmexit_tui.recording import modes
from vmexit_tui.recording.modes import Mode, ModeUnavailable

HOST_FORMAT = Path(__file__).parents[1] / "fixtures" / "tracefs" / "kvm_exit_format_host.txt"


def fake_tree(root: Path, *, hist: bool, synth: bool, kvm: bool = True) -> Path:
    tracing = root / "sys/kernel/tracing"
    (tracing / "events").mkdir(parents=True)
    (tracing / "instances").mkdir()
    if kvm:
        for ev in ("kvm_exit", "kvm_entry"):
            d = tracing / "events/kvm" / ev
            d.mkdir(parents=True)
            (d / "trigger").write_text("")
            if hist:
                (d / "hist").write_text("")
        (tracing / "events/kvm/kvm_exit/format").write_text(HOST_FORMAT.read_text())
    if synth:
        (tracing / "synthetic_events").write_text("")
    return root


def fake_perf(bindir: Path) -> str:
    bindir.mkdir(exist_ok=True)
    perf = bindir / "perf"
    perf.write_text("#!/bin/sh\nexit 0\n")
    perf.chmod(perf.stat().st_mode | stat.S_IXUSR)
    return str(bindir)


def test_hist_triggers_and_synthetic_events_choose_the_kernel_source(tmp_path):
    root = fake_tree(tmp_path, hist=True, synth=True)
    choice = modes.detect(root=root, path=fake_perf(tmp_path / "bin"))
    assert choice.mode is Mode.KERNEL
    assert "nothing on disk" in choice.why


def test_no_hist_triggers_falls_back_to_counting_and_says_why(tmp_path):
    root = fake_tree(tmp_path, hist=False, synth=False)
    choice = modes.detect(root=root, path=fake_perf(tmp_path / "bin"))
    assert choice == modes.ModeChoice(
        Mode.COUNT, "this kernel has no hist triggers: counting only, no timings"
    )


def test_hist_without_synthetic_events_also_counts(tmp_path):
    root = fake_tree(tmp_path, hist=True, synth=False)
    choice = modes.detect(root=root, path=fake_perf(tmp_path / "bin"))
    assert choice.mode is Mode.COUNT
    assert "no synthetic events" in choice.why


def test_no_perf_for_counting_falls_back_to_perf_record_with_both_reasons(tmp_path):
    root = fake_tree(tmp_path, hist=False, synth=False)
    (tmp_path / "empty").mkdir()
    choice = modes.detect(root=root, path=str(tmp_path / "empty"))
    assert choice.mode is Mode.PERF
    assert choice.why == "this kernel has no hist triggers and `perf` is not on PATH: perf record"


def test_no_tracefs_falls_back_to_perf_record(tmp_path):
    choice = modes.detect(root=tmp_path, path=fake_perf(tmp_path / "bin"))
    assert choice.mode is Mode.PERF
    assert choice.why.startswith("tracefs is not mounted")


def test_choose_explicit_source_checks_that_the_kernel_allows_it(tmp_path):
    root = fake_tree(tmp_path, hist=False, synth=False)
    path = fake_perf(tmp_path / "bin")
    with pytest.raises(ModeUnavailable, match="--source kernel: this kernel has no hist triggers"):
        modes.choose("kernel", root=root, path=path)
    assert modes.choose("count", root=root, path=path).mode is Mode.COUNT
    assert modes.choose("perf", root=root, path=path).mode is Mode.PERF
    assert modes.choose("auto", root=root, path=path).mode is Mode.COUNT
    with pytest.raises(ModeUnavailable, match="unknown source 'bpf'"):
        modes.choose("bpf", root=root, path=path)


@pytest.mark.skipif(os.geteuid() != 0, reason="tracefs needs root")
def test_this_machine_has_no_hist_triggers_and_auto_counts():
    """This host's kernel is built without CONFIG_HIST_TRIGGERS; kvm_exit exists (never fires)."""
    features = modes.kernel_features()
    if features.tracing is None or not features.kvm_exit:
        pytest.skip("no tracefs with kvm events here")
    if features.hist_triggers:
        pytest.skip("this kernel has hist triggers: not the machine this test is about")
    choice = modes.detect()
    assert choice.mode is Mode.COUNT
    assert choice.why == "this kernel has no hist triggers: counting only, no timings"
    with pytest.raises(ModeUnavailable):
        modes.choose("kernel")


@pytest.mark.parametrize("mode", list(Mode))
def test_no_source_is_made_for_an_emulated_guest(mode):
    from vmexit_tui.host.discovery import Pinning, VmInfo

    vm = VmInfo(1234, "tcg-guest", "qemu", 0.0, None, 0, (), Pinning.UNKNOWN, kvm=False)
    with pytest.raises(ValueError, match=r"tcg-guest \(pid 1234\) is not a KVM guest"):
        modes.make_recorder(mode, vm, out_dir="/nonexistent")
