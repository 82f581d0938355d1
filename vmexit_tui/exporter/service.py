"""The exporter as one running service: store, collector, server and supervisor together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from prometheus_client import ProcessCollector
from prometheus_client.registry import CollectorRegistry

from vmexit_tui.exporter.collector import VmExitCollector
from vmexit_tui.exporter.listen import ListenAddress, TlsFiles, serve_registry
from vmexit_tui.exporter.sources import SourcePlan
from vmexit_tui.exporter.store import MetricStore
from vmexit_tui.exporter.supervisor import Supervisor


def build_registry(store: MetricStore) -> CollectorRegistry:
    """A registry of our metrics plus the process's own (CPU, memory): no global state."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VmExitCollector(store))
    registry.register(ProcessCollector(namespace="vmexit_tui", registry=None))
    return registry


async def run_service(
    plan: SourcePlan,
    addr: ListenAddress,
    stop: asyncio.Event,
    *,
    names: Sequence[str] = (),
    tls: TlsFiles | None = None,
    rescan_s: float = 10.0,
    on_listening: Callable[[str], None] = lambda url: None,
    store: MetricStore | None = None,
) -> MetricStore:
    """Serve until `stop` is set; `ListenError` before anything runs when it cannot listen."""
    store = store or MetricStore(plan.mode, plan.why)
    server, thread = serve_registry(build_registry(store), addr, tls)
    try:
        on_listening(addr.url(server.server_port, tls=tls is not None))
        await Supervisor(store, plan, names=names, rescan_s=rescan_s).run(stop)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    return store
