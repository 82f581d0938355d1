"""CompareSession: the compare pane's runs by typed key, the baseline, the comparison."""

from __future__ import annotations

from pathlib import Path

from vmexit_tui.analysis.compare_session import (
    LIVE,
    BuiltinRun,
    CompareSession,
    LoadedRun,
    RecordedRun,
    SnapshotRun,
    builtin_run,
)
from vmexit_tui.analysis.comparison import MAX_RUNS
from vmexit_tui.reference import seed_runs


def _refs():
    return seed_runs.load_all()


def _session(*names: str) -> CompareSession:
    refs = _refs()
    session = CompareSession()
    session.set([(BuiltinRun(n), builtin_run(n, refs[n])) for n in names])
    return session


def test_two_runs_make_a_comparison_one_asks_for_another():
    session = _session("gp-rt-raw", "gp-rt-bind")
    result = session.recompute()
    assert result.comparison is not None and not session.dirty
    assert [r.label for r in result.comparison.runs] == ["GP-RT-RAW", "GP-RT-BIND"]
    session.remove_last()
    result = session.recompute()
    assert result.comparison is None and result.alone == "GP-RT-RAW"


def test_adding_again_moves_a_run_to_the_end_and_a_full_pane_replaces_the_last():
    names = ("gp-rt-raw", "gp-rt-bind", "gp-gp-raw", "gp-gp-bind")
    session = _session(*names)
    assert session.full and len(session.runs) == MAX_RUNS
    refs = _refs()
    session.add(BuiltinRun("gp-rt-raw"), builtin_run("gp-rt-raw", refs["gp-rt-raw"]))
    assert session.run_keys() == [BuiltinRun(n) for n in (*names[1:], "gp-rt-raw")]
    session.add(RecordedRun(0), builtin_run("x", refs["gp-rt-raw"]))
    assert len(session.runs) == MAX_RUNS and session.run_keys()[-1] == RecordedRun(0)
    assert BuiltinRun("gp-rt-raw") not in session.run_keys()


def test_the_live_run_uses_the_figures_handed_in_and_freezes_at_its_end():
    refs = _refs()
    session = _session("gp-rt-raw")
    session.add(LIVE, None)
    assert session.has_live
    assert session.recompute().comparison is None  # no live figures yet
    live = builtin_run("now", refs["gp-gp-raw"])
    assert [r.label for r in session.recompute(live).comparison.runs] == ["GP-RT-RAW", "now"]
    session.freeze_live(RecordedRun(3), live)
    assert not session.has_live and session.run_keys()[-1] == RecordedRun(3)
    assert session.recompute().comparison is not None


def test_baseline_cycles_and_a_loaded_comparison_is_shown_as_saved():
    session = _session("gp-rt-raw", "gp-rt-bind")
    session.cycle_baseline()
    comparison = session.recompute().comparison
    assert comparison.baseline == 1
    session.show_loaded(comparison)
    result = session.recompute()
    assert result.comparison is comparison and result.note == "loaded snapshot"
    assert session.run_keys() == [LoadedRun("GP-RT-RAW"), LoadedRun("GP-RT-BIND")]
    refs = _refs()
    session.add(BuiltinRun("gp-gp-raw"), builtin_run("gp-gp-raw", refs["gp-gp-raw"]))
    assert session.loaded is None and session.run_keys() == [BuiltinRun("gp-gp-raw")]


def test_keys_are_values():
    assert SnapshotRun("run", Path("/a")) == SnapshotRun("run", Path("/a"))
    assert RecordedRun(1) != RecordedRun(2) and BuiltinRun("live") != LIVE
