"""Two `vmexit-tui serve` exporters as a fleet in `vmexit-tui --fleet`, one stopped mid-test."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.tmux_term import TmuxTerm

pytestmark = pytest.mark.e2e


@contextmanager
def serve(vmexit_tui: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [vmexit_tui, "serve", "--source", "demo", "--listen", "127.0.0.1:0", "--interval", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        m = re.search(r"listening on http://(127\.0\.0\.1:\d+)/metrics", proc.stdout.readline())
        assert m, proc.stderr.read() if proc.stderr else ""
        yield proc, m.group(1)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=20)


def host_rows(screen: str, host: str) -> list[str]:
    return [line for line in screen.splitlines() if host in line and "simulated-" in line]


def test_fleet_of_two_exporters_one_stopped(vmexit_tui):
    with serve(vmexit_tui) as (a, host_a), serve(vmexit_tui) as (b, host_b):
        argv = [
            vmexit_tui,
            "--fleet",
            host_a,
            f"http://{host_b}/metrics",
            "--fleet-interval",
            "0.5",
        ]
        with TmuxTerm(argv, width=140, height=30, env={"TERM": "xterm-256color"}) as t:
            t.wait_for(
                lambda s: (
                    len(host_rows(s, host_a)) == 4
                    and len(host_rows(s, host_b)) == 4
                    and "Exits/s▼" in s
                ),
                timeout=30,
            )
            # a rate needs two polls: wait for numbers in the Exits/s column
            screen = t.wait_for(
                lambda s: all(re.search(r"\d\s+\S+_\S+\s+\d", r) for r in host_rows(s, host_b)),
                timeout=20,
            )
            assert "unreachable" not in screen

            b.send_signal(signal.SIGTERM)
            b.wait(timeout=20)
            screen = t.wait_for(f"unreachable or bad: {host_b}", timeout=20)
            assert all("✗" in r for r in host_rows(screen, host_b))  # kept, marked
            assert all("✗" not in r for r in host_rows(screen, host_a))
            # the other host keeps updating
            polled = re.search(r"polled (\S+)", screen).group(1)
            later = t.wait_for(
                lambda s: (
                    (m := re.search(r"polled (\S+)", s)) is not None
                    and m.group(1) != polled
                    and len(host_rows(s, host_a)) == 4
                ),
                timeout=20,
            )
            assert all("✗" not in r for r in host_rows(later, host_a))

            # enter on the first row (busiest first: host A's) opens its reasons live
            t.send("Enter")
            detail = t.wait_for(lambda s: " on " in s and "Share%" in s, timeout=10)
            assert re.search(rf"simulated-\S+ on {re.escape(host_a)}", detail)
            assert "EPT_VIOLATION" in detail or "HLT" in detail
            t.send("Escape")
            t.wait_for("Top reason", timeout=10)
            t.send("q")
            assert t.wait_exit(timeout=15) == 0
        assert a.poll() is None  # the healthy exporter is still serving
