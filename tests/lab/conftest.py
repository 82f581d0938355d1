"""The `lab` fixture: one L1 boot per pytest session, shared by every lab test.

Tests that use it are marked `lab` automatically. When the lab cannot run here they skip with
the reason, except under CI (the CI environment variable set): then they fail with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.lab.driver import Lab, LabUnavailable


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    try:
        booted = Lab.boot(workdir=tmp_path_factory.mktemp("lab"))
    except LabUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"the lab cannot run: {e}", pytrace=False)
        pytest.skip(f"the lab cannot run here: {e}")
    try:
        yield booted
    finally:
        booted.close()
