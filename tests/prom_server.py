"""A real Prometheus server for tests: loopback, free port, its own storage, always killed.

    from tests.prom_server import prometheus, needs_prometheus, free_port

    with prometheus(["127.0.0.1:9977"], scrape_interval="1s") as prom:
        prom.wait_for_samples('kvm_vmexits_total', 5)
        prom.query('sum(kvm_vmexits_total)')        # -> the API's "data"

Uses the Debian `prometheus` binary; the tests that need it are marked `prometheus`.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
needs_prometheus = [
    pytest.mark.prometheus,
    pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus is not installed"),
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PromServer:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.proc = proc
        self.log = log

    def api(self, path: str, **params: str | float) -> dict:
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        return body

    def query(self, expr: str, at: float | None = None) -> dict:
        """The `data` of an instant query; AssertionError with Prometheus's error otherwise."""
        params: dict[str, str | float] = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        body = self.api("query", **params)
        assert body.get("status") == "success", f"{expr}: {body.get('error')}"
        return body["data"]

    def wait_for_samples(self, selector: str, count: int, timeout: float = 60.0) -> None:
        """Wait until the first series of `selector` has `count` samples in the last 5 min."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.query(f"max(count_over_time({selector}[5m]))")["result"]
            if data and float(data[0]["value"][1]) >= count:
                return
            time.sleep(0.5)
        raise AssertionError(f"Prometheus has no {count} samples of {selector}: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


@contextmanager
def prometheus(targets: Sequence[str], scrape_interval: str = "1s") -> Iterator[PromServer]:
    """Prometheus scraping `targets` (host:port) until the block ends."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="vmexit-prom-") as tmp:
        config = Path(tmp, "prometheus.yml")
        config.write_text(
            "global:\n"
            f"  scrape_interval: {scrape_interval}\n"
            f"  evaluation_interval: {scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: vmexit-tui\n"
            "    static_configs:\n"
            f"      - targets: {json.dumps(list(targets))}\n"
        )
        log = Path(tmp, "prometheus.log")
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp}/data",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = PromServer(f"http://127.0.0.1:{port}", proc, log)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"prometheus did not start: {server.log_tail()}")
                time.sleep(0.2)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
