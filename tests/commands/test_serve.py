"""`vmexit-tui serve` as a user runs it: start line, bad input, clean stop on SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from vmexit_tui.exporter.listen import ListenError, check_allowed, parse_listen

SERVE = [sys.executable, "-m", "vmexit_tui", "serve"]


def run_serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=timeout)


def test_parse_listen_forms():
    assert parse_listen("127.0.0.1:9977") == parse_listen(" 127.0.0.1:9977 ")
    assert parse_listen("[::1]:80").host == "::1"
    assert parse_listen("localhost:0").port == 0
    for bad, says in [
        ("9977", "expected HOST:PORT"),
        ("h:x", "not a number"),
        ("h:70000", "outside 0-65535"),
        (":9977", "expected HOST:PORT"),
    ]:
        with pytest.raises(ListenError, match=says):
            parse_listen(bad)


def test_only_loopback_without_the_flag():
    for ok in ("127.0.0.1", "127.8.0.1", "::1", "localhost"):
        check_allowed(parse_listen(f"[{ok}]:1" if ":" in ok else f"{ok}:1"), False)
    with pytest.raises(ListenError, match="--allow-remote"):
        check_allowed(parse_listen("0.0.0.0:9977"), False)
    check_allowed(parse_listen("0.0.0.0:9977"), True)


def test_non_loopback_address_is_refused_in_one_line():
    out = run_serve("--source", "demo", "--listen", "0.0.0.0:9977")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("vmexit-tui serve: --listen 0.0.0.0:9977 is not a loopback address")
    assert "--allow-remote" in line


def test_port_in_use_is_one_clear_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run_serve("--source", "demo", "--listen", f"127.0.0.1:{port}")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"vmexit-tui serve: cannot listen on 127.0.0.1:{port}: the port is already in use"
    )


def test_half_a_tls_configuration_is_refused():
    out = run_serve("--source", "demo", "--listen", "127.0.0.1:0", "--tls-cert", "x.pem")
    assert out.returncode == 2
    assert out.stderr.strip() == "vmexit-tui serve: TLS needs both --tls-cert and --tls-key"


def test_unreadable_tls_files_are_one_line():
    out = run_serve(
        "--source",
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/c.pem",
        "--tls-key",
        "/nonexistent/k.pem",
    )
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("vmexit-tui serve: cannot serve TLS on 127.0.0.1:0:")


def test_start_line_metrics_and_clean_stop_on_sigterm():
    proc = subprocess.Popen(
        [*SERVE, "--source", "demo", "--listen", "127.0.0.1:0", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        m = re.match(
            r"vmexit-tui serve: listening on (http://127\.0\.0\.1:(\d+)/metrics) "
            r"\(loopback only\); source demo: ",
            first,
        )
        assert m, first
        deadline = time.monotonic() + 20
        text = ""
        while time.monotonic() < deadline and "kvm_vmexits_total{" not in text:
            time.sleep(0.2)
            with urllib.request.urlopen(m.group(1), timeout=5) as r:
                text = r.read().decode()
        assert 'vmexit_tui_source_info{mode="demo"' in text
        assert "kvm_vmexits_total{" in text
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip().endswith("vmexit-tui serve: stopped")
    with socket.socket() as s:  # nobody listens on the port any more
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(m.group(2))))
        s.listen()


def test_a_non_loopback_address_with_the_flag_is_printed_at_start():
    proc = subprocess.Popen(
        [*SERVE, "--source", "demo", "--listen", "0.0.0.0:0", "--allow-remote"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert re.match(
            r"vmexit-tui serve: listening on http://0\.0\.0\.0:\d+/metrics "
            r"\(REACHABLE FROM OTHER HOSTS\); source demo",
            first,
        ), first
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
