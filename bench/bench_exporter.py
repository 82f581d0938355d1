"""CPU cost of the exporter at 20 guests × 4 vCPUs × 30 reasons (simulated); prints only.

1. One scrape: a real HTTP GET of /metrics, gzip accepted as Prometheus does, from
   prometheus_client's server in this process (collector + exposition + gzip + HTTP): CPU
   time of the process per scrape (median of many).
2. Ingest: turning one interval of every guest into observations and adding them to the
   store (what the supervisor does every `--interval`, default 5 s): CPU per second.
3. Discovery: one look for guests on this host (psutil and /proc, every process), as the
   supervisor does every `--rescan` (default 10 s): CPU per look, with the process count.
4. Together at a 15 s scrape interval: CPU share of one core. Goal: under 1%.

Not included: the source's own cost of reading the kernel (bench/bench_overhead.py measures
the in-kernel sources).

Run: python bench/bench_exporter.py [--vms 20] [--vcpus 4] [--reasons 30] [--scrapes 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import urllib.request

import psutil

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.analysis.running import Interval
from vmexit_tui.exporter.listen import ListenAddress, serve_registry
from vmexit_tui.exporter.service import build_registry
from vmexit_tui.exporter.sources import observations
from vmexit_tui.exporter.store import MetricStore, VcpuThread, VmKey
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo, VmScanner

SCRAPE_INTERVAL_S = 15.0


def make_store(
    vms: int, vcpus: int, reasons: int
) -> tuple[MetricStore, list[tuple[VmKey, VmInfo]]]:
    store = MetricStore("bench", "simulated load")
    keys = []
    for i in range(vms):
        cpus = tuple(VCpu(v, 10_000 + i * 10 + v, (v,)) for v in range(vcpus))
        info = VmInfo(1000 + i, f"guest-{i:02d}", "qemu", 1.0 + i, None, 0, cpus, Pinning.BIND)
        threads = [VcpuThread(v, 10_000 + i * 10 + v, (v,), "SCHED_FIFO", 10) for v in range(vcpus)]
        keys.append((store.upsert_vm(info, "svm", threads), info))
    return store, keys


def one_interval(rng: random.Random, vcpus: int, reasons: int) -> Interval:
    """An interval as the kernel source delivers it: a report per vCPU, every reason with a
    log2 histogram over 8 buckets of its own range (now and then one more in the tail)."""
    per_vcpu = {}
    for v in range(vcpus):
        rows = []
        for r in range(reasons):
            low = r % 7  # 1 µs .. 64 µs: where this reason's range starts
            span = 8 + (rng.random() < 0.1)
            hist = Log2Histogram.from_counts(
                {float(2 ** (low + k)): rng.randint(1, 250) for k in range(span)}
            )
            n = sum(c for _b, c in hist)
            rows.append(ExitStat(f"REASON_{r:02d}", n, mean_us=3.0, histogram=hist))
        per_vcpu[v] = Report(event=EventKind.VMEXIT, rows=tuple(rows))
    return Interval(0, 0.0, 1.0, {}, vcpus=per_vcpu)


def build_text(store: MetricStore) -> str:
    from prometheus_client import generate_latest

    return generate_latest(build_registry(store)).decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=20)
    ap.add_argument("--vcpus", type=int, default=4)
    ap.add_argument("--reasons", type=int, default=30)
    ap.add_argument("--scrapes", type=int, default=50)
    ap.add_argument("--intervals", type=int, default=60)
    ap.add_argument("--interval", type=float, default=5.0, help="the source's interval (s)")
    ap.add_argument("--rescan", type=float, default=10.0, help="the look for guests (s)")
    args = ap.parse_args()

    rng = random.Random(0)
    store, keys = make_store(args.vms, args.vcpus, args.reasons)
    batches = [one_interval(rng, args.vcpus, args.reasons) for _ in range(8)]

    # ingest: one interval per guest
    per_interval = []
    for i in range(args.intervals):
        start = time.process_time()
        for key, info in keys:
            store.add(key, observations(batches[i % len(batches)], info))
        per_interval.append(time.process_time() - start)
    ingest = statistics.median(per_interval) / args.interval

    server, thread = serve_registry(build_registry(store), ListenAddress("127.0.0.1", 0))
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        sizes, costs = [], []
        for _ in range(args.scrapes):
            start = time.process_time()
            request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=30) as r:
                body = r.read()
            costs.append(time.process_time() - start)
            sizes.append(len(body))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    scrape = statistics.median(costs)

    scanner = VmScanner()
    scanner.scan()
    looks = []
    for _ in range(10):
        start = time.process_time()
        scanner.scan()
        looks.append(time.process_time() - start)
    look = statistics.median(looks)
    discovery = look / args.rescan
    series = args.vms * args.vcpus * args.reasons
    lines = len(build_text(store).splitlines())
    share = (scrape / SCRAPE_INTERVAL_S + ingest + discovery) * 100.0

    print(
        f"load: {args.vms} guests × {args.vcpus} vCPUs × {args.reasons} reasons = "
        f"{series} counters, {lines} exposition lines, {sizes[-1] / 1024:.0f} KiB gzipped"
    )
    print(
        f"scrape (HTTP GET /metrics, gzip, in-process server): median {scrape * 1e3:.1f} ms CPU "
        f"(min {min(costs) * 1e3:.1f}, max {max(costs) * 1e3:.1f}) over {len(costs)} scrapes"
    )
    print(
        f"ingest (every guest's interval each {args.interval:g} s): {ingest * 1e3:.2f} ms "
        "CPU per second"
    )
    print(
        f"discovery (one look at {len(psutil.pids())} processes, every {args.rescan:g} s): "
        f"{look * 1e3:.1f} ms CPU, {discovery * 1e3:.2f} ms per second"
    )
    print(
        f"at a {SCRAPE_INTERVAL_S:.0f} s scrape interval: {share:.2f}% of one core "
        f"(goal < 1%: {'met' if share < 1.0 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
