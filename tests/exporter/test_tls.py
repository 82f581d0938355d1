"""HTTPS and client-certificate authentication through prometheus_client's own server."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vmexit_tui.exporter.listen import ListenAddress, TlsFiles, serve_registry
from vmexit_tui.exporter.service import build_registry
from vmexit_tui.exporter.store import MetricStore

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is missing")


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    d = tmp_path_factory.mktemp("pki")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.pem"),
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for who in ("server", "client"):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={who}",
            "-keyout",
            str(d / f"{who}.key"),
            "-out",
            str(d / f"{who}.csr"),
        )
        openssl("x509", "-req", "-in", str(d / f"{who}.csr"), "-CA", str(d / "ca.pem"),
                "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "1",
                "-extfile", str(d / "san.ext"), "-out", str(d / f"{who}.pem"))  # fmt: skip
    return d


def fetch(url: str, ctx: ssl.SSLContext | None) -> str:
    with urllib.request.urlopen(url, timeout=10, context=ctx) as r:
        return r.read().decode()


def serving(tls: TlsFiles):
    server, thread = serve_registry(
        build_registry(MetricStore("demo", "tls test")), ListenAddress("127.0.0.1", 0), tls
    )
    return server, thread, f"https://127.0.0.1:{server.server_port}/metrics"


def test_https_with_a_certificate(pki):
    server, thread, url = serving(TlsFiles(str(pki / "server.pem"), str(pki / "server.key")))
    try:
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        assert 'vmexit_tui_source_info{mode="demo"' in fetch(url, ctx)
        with pytest.raises(urllib.error.URLError):  # an untrusting client refuses it
            fetch(url, ssl.create_default_context())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_client_certificate_required_with_a_client_ca(pki):
    tls = TlsFiles(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    server, thread, url = serving(tls)
    try:
        anonymous = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            fetch(url, anonymous)
        known = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        known.load_cert_chain(str(pki / "client.pem"), str(pki / "client.key"))
        assert "vmexit_tui_vms 0.0" in fetch(url, known)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
