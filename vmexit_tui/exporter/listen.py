"""Where the exporter listens: `HOST:PORT` parsed, loopback enforced, prometheus_client's server.

Only loopback addresses are accepted unless the caller allows others explicitly: VM names
and pinning are host data. TLS (and mutual TLS, the client-certificate authentication
prometheus_client offers) is prometheus_client's own; no HTTP server is written here.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.registry import CollectorRegistry

DEFAULT_LISTEN = "127.0.0.1:9977"


class ListenError(ValueError):
    """A listen address that cannot or may not be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    port: int

    def url(self, port: int | None = None, *, tls: bool = False) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if tls else "http"
        return f"{scheme}://{host}:{self.port if port is None else port}/metrics"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    certfile: str
    keyfile: str
    client_cafile: str | None = None  # when set, clients must present a certificate it signed


def parse_listen(text: str) -> ListenAddress:
    """`127.0.0.1:9977`, `[::1]:9977`, `localhost:9977` -> host and port (0 = any free port)."""
    host, sep, port_s = text.strip().rpartition(":")
    if not sep or not host:
        raise ListenError(f"--listen {text!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_s)
    except ValueError:
        raise ListenError(f"--listen {text!r}: port {port_s!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ListenError(f"--listen {text!r}: port {port} is outside 0-65535")
    return ListenAddress(host, port)


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_allowed(addr: ListenAddress, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless it was allowed explicitly."""
    if not allow_remote and not is_loopback(addr.host):
        raise ListenError(
            f"--listen {addr.host}:{addr.port} is not a loopback address; the metrics name "
            "your VMs: pass --allow-remote to serve them beyond this host"
        )


def serve_registry(
    registry: CollectorRegistry, addr: ListenAddress, tls: TlsFiles | None = None
) -> tuple[WSGIServer, threading.Thread]:
    """prometheus_client's HTTP(S) server for `registry` on `addr`; `ListenError` if it cannot."""
    kwargs: dict[str, Any] = {}
    if tls is not None:
        kwargs = {
            "certfile": tls.certfile,
            "keyfile": tls.keyfile,
            "client_cafile": tls.client_cafile,
            "client_auth_required": tls.client_cafile is not None,
        }
    try:
        return start_http_server(addr.port, addr=addr.host, registry=registry, **kwargs)
    except OSError as exc:
        where = f"{addr.host}:{addr.port}"
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(f"cannot listen on {where}: the port is already in use") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ListenError(f"cannot listen on {where}: no such address on this host") from None
        if tls is not None:  # prometheus_client reports unreadable cert/key files as OSError
            raise ListenError(f"cannot serve TLS on {where}: {exc}") from None
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    except Exception as exc:  # a bad certificate or key file
        raise ListenError(f"cannot serve TLS on {addr.host}:{addr.port}: {exc}") from None
