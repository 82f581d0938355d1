"""An exporter running in a background thread of the test process (its own event loop)."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from vmexit_tui.exporter.listen import ListenAddress
from vmexit_tui.exporter.service import run_service
from vmexit_tui.exporter.sources import SourcePlan
from vmexit_tui.exporter.store import MetricStore, Observation, VmKey


class TapStore(MetricStore):
    """A MetricStore that also remembers every interval it was given, with the wall time."""

    def __init__(self, mode: str, why: str = "") -> None:
        super().__init__(mode, why)
        self.taps: list[tuple[float, VmKey, tuple[Observation, ...]]] = []

    def add(self, key: VmKey, observations) -> None:
        obs = tuple(observations)
        with self._lock:
            self.taps.append((time.time(), key, obs))
        super().add(key, obs)

    def label_of(self, key: VmKey) -> str:
        with self._lock:
            return self._vms[key].label


@dataclass
class RunningExporter:
    url: str
    port: int
    store: MetricStore
    errors: list[BaseException] = field(default_factory=list)

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url, timeout=10) as r:
            return r.read().decode()


@contextmanager
def exporter_thread(
    plan: SourcePlan,
    *,
    store: MetricStore | None = None,
    names: Sequence[str] = (),
    rescan_s: float = 0.5,
) -> Iterator[RunningExporter]:
    store = store or MetricStore(plan.mode, plan.why)
    ready = threading.Event()
    box: dict = {}
    loop = asyncio.new_event_loop()
    stop_holder: dict = {}

    async def main() -> None:
        stop = asyncio.Event()
        stop_holder["stop"] = stop

        def listening(url: str) -> None:
            box["url"] = url
            ready.set()

        await run_service(
            plan,
            ListenAddress("127.0.0.1", 0),
            stop,
            names=names,
            rescan_s=rescan_s,
            on_listening=listening,
            store=store,
        )

    def target() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            box["error"] = exc
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert ready.wait(20), "exporter did not start"
    if "error" in box:
        raise box["error"]
    url = box["url"]
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        yield RunningExporter(url, port, store)
    finally:
        loop.call_soon_threadsafe(stop_holder["stop"].set)
        thread.join(timeout=30)
        assert not thread.is_alive(), "exporter did not stop"
        if "error" in box:
            raise box["error"]
