"""`vmexit-tui --demo` in tmux: streaming, sorting, compare pane, stop and quit, nothing left."""

from __future__ import annotations

import re

import psutil
import pytest

from tests.tmux_term import TmuxTerm, still_running

pytestmark = pytest.mark.e2e


def table_rows(screen: str) -> list[list[str]]:
    """The live table's rows as tokens (reason first), read off the screen."""
    rows = []
    for line in screen.splitlines():
        tokens = line.split()
        if tokens and re.fullmatch(r"[A-Z][A-Z_]{2,}", tokens[0]) and len(tokens) >= 8:
            rows.append(tokens)
    return rows


def sorted_header(screen: str) -> str | None:
    m = re.search(r"(\w+%?)[▼▲]", screen)
    return m.group(1) if m else None


@pytest.mark.parametrize("term", ["xterm-256color", "screen"])
def test_demo_records_sorts_compares_and_quits_cleanly(vmexit_tui, home, term):
    env = {"TERM": term, "VMEXIT_TUI_HOME": str(home)}
    with TmuxTerm([vmexit_tui, "--demo"], width=100, height=30, env=env) as t:
        # a simulated recording streams into the live table without a key press
        screen = t.wait_for(lambda s: "EPT_VIOLATION" in s and "chunks" in s, timeout=20)
        assert "SIMULATED" in screen
        assert "recording" in screen
        first = {r[0]: int(r[1].replace(",", "")) for r in table_rows(screen)}
        # rows arrive and grow: the counts are cumulative over the recording
        later = t.wait_for(
            lambda s: any(int(r[1].replace(",", "")) > first.get(r[0], 0) for r in table_rows(s)),
            timeout=10,
        )
        rows = table_rows(later)
        counts = [int(r[1].replace(",", "")) for r in rows]
        assert counts == sorted(counts, reverse=True), "default sort: samples, descending"

        # s sorts by the next column; r reverses it
        before = sorted_header(later)
        t.send("s")
        after_s = t.wait_for(lambda s: sorted_header(s) not in (None, before), timeout=5)
        column = sorted_header(after_s)
        t.send("r")
        t.wait_for(lambda s: f"{column}▲" in s or f"{column}▼" in s, timeout=5)

        # the compare pane: reference runs raw vs bind, with findings from the numbers
        t.send("3")
        compare = t.wait_for("baseline:", timeout=5)
        assert re.search(r"gp-rt-raw\s+vs\s+gp-rt-bind", compare, re.I)
        assert "EXTERNAL_INTERRUPT: share of exits falls from 4.11% to 0.35%" in compare
        t.send("2")
        t.wait_for(lambda s: sorted_header(s) == column, timeout=5)

        # space stops the recording; the status line says so
        t.send("space")
        stopped = t.wait_for("stopped", timeout=10)
        assert "recording" not in stopped.splitlines()[-2]

        # q quits with status 0 and leaves nothing running
        pane_procs = [psutil.Process(t.pane_pid), *t.descendants()]
        t.send("q")
        assert t.wait_exit() == 0
        assert still_running(pane_procs) == []
