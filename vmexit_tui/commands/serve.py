"""`vmexit-tui serve`: a Prometheus exporter of VM exits per guest, vCPU and reason."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from vmexit_tui.commands._arg_types import positive_float
from vmexit_tui.exporter.listen import (
    DEFAULT_LISTEN,
    ListenError,
    TlsFiles,
    check_allowed,
    is_loopback,
    parse_listen,
)
from vmexit_tui.exporter.service import run_service
from vmexit_tui.exporter.sources import MODES, SourceUnavailable, plan

NAME = "serve"
HELP = "serve VM-exit metrics to Prometheus (loopback only unless --allow-remote)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address to serve /metrics on (default {DEFAULT_LISTEN}; port 0: any free port)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --listen address (it is printed at start)",
    )
    parser.add_argument(
        "--source",
        choices=MODES,
        default="auto",
        help="where exits come from: kernel hist triggers, perf counting, or the demo "
        "(default auto: the best the host supports)",
    )
    parser.add_argument(
        "--vm",
        action="append",
        default=[],
        metavar="NAME",
        help="export only this guest (repeatable; default: every guest, as they come and go)",
    )
    parser.add_argument(
        "--interval",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="how often the source is read (default 5: the kernel keeps the counts, and "
        "Prometheus scrapes every 15 s or so)",
    )
    parser.add_argument(
        "--rescan",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="how often to look for new and gone guests (default 10; a look reads every "
        "process's /proc entries)",
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key", metavar="FILE", help="the certificate's private key")
    parser.add_argument(
        "--tls-client-ca",
        metavar="FILE",
        help="require client certificates signed by this CA (mutual TLS)",
    )


def _fail(message: str) -> int:
    print(f"vmexit-tui serve: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        addr = parse_listen(args.listen)
        check_allowed(addr, args.allow_remote)
        if args.interval <= 0 or args.rescan <= 0:
            raise ListenError("--interval and --rescan must be > 0 seconds")
        tls = None
        if args.tls_cert or args.tls_key or args.tls_client_ca:
            if not (args.tls_cert and args.tls_key):
                raise ListenError("TLS needs both --tls-cert and --tls-key")
            tls = TlsFiles(args.tls_cert, args.tls_key, args.tls_client_ca)
        source = plan(args.source, interval_s=args.interval)
    except (ListenError, SourceUnavailable) as exc:
        return _fail(str(exc))

    def listening(url: str) -> None:
        scope = "loopback only" if is_loopback(addr.host) else "REACHABLE FROM OTHER HOSTS"
        print(
            f"vmexit-tui serve: listening on {url} ({scope}); source {source.mode}: {source.why}",
            flush=True,
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_service(
            source,
            addr,
            stop,
            names=args.vm,
            tls=tls,
            rescan_s=args.rescan,
            on_listening=listening,
        )

    try:
        asyncio.run(main())
    except ListenError as exc:
        return _fail(str(exc))
    print("vmexit-tui serve: stopped", flush=True)
    return 0
