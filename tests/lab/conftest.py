"""The `lab` fixture: one L1 boot per pytest session, shared by every lab test.

Tests that use it are marked `lab` automatically. When the lab cannot run here they skip with
the reason, except under CI (the CI environment variable set): then they fail with it.
If L1 crashes (nested SVM under TCG: seen now and then), a fresh one is booted and the job
is done again, up to 3 times in all (`Lab.run`, with `prepare=` for what the job needs started
again).
A budget bounds a session that goes wrong (`$VMEXIT_TUI_LAB_BUDGET_S` seconds from the first
boot, default 1800; `$VMEXIT_TUI_LAB_MAX_CRASHES`, default 5, two of them caused on purpose by
test_lab_crash.py): past it, lab jobs fail at once with `LabGaveUp` instead of booting and
waiting again, so CI ends red in bounded time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.artifacts import artifacts_dir, save_json
from tests.lab.driver import Lab, LabUnavailable


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    try:
        # its own folder, not pytest's: other sessions' cleanup must not touch a running L1
        booted = Lab.boot(restart_on_crash=True)
    except LabUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"the lab cannot run: {e}", pytrace=False)
        pytest.skip(f"the lab cannot run here: {e}")
    booted.deadline = time.monotonic() + float(os.environ.get("VMEXIT_TUI_LAB_BUDGET_S", "1800"))
    booted.max_crashes = int(os.environ.get("VMEXIT_TUI_LAB_MAX_CRASHES", "5"))
    boot = {
        "wall_s": round(booted.boot_seconds, 1),
        "l1_uptime_s": booted.l1_uptime,
        "qemu": booted.settings.qemu.note,
    }
    save_json(artifacts_dir("lab-boot"), "boot.json", boot)
    try:
        yield booted
    finally:
        booted.close()
        if booted.crashes or booted.gave_up:
            summary = {"crashes": booted.crashes, "gave_up": booted.gave_up}
            save_json(artifacts_dir("lab-crashes"), "crashes.json", summary)


@pytest.fixture
def lab_artifacts(request: pytest.FixtureRequest) -> Path:
    """A fresh folder under build/lab-artifacts named after the test."""
    return artifacts_dir(request.node.name)
