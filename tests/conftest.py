"""Fixtures shared by the tests that run the real perf."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.qemu_guest import perf_pids


@pytest.fixture
def no_new_perf() -> Iterator[None]:
    """Fails the test if a perf process it started is still running at its end."""
    before = perf_pids()
    yield
    deadline = time.monotonic() + 5.0  # a perf told to stop (PDEATHSIG) may take a moment
    while (left := perf_pids() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:  # never leave one behind, even when failing
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"perf processes left behind: {sorted(left)}"
