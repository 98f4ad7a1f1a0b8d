"""The HTTP server's own limits, against a real ``ovation api`` process (uvicorn) over real sockets.

Each limit is set small here so that a test reaches it quickly; none asserts how long anything took, only
what the server answered, whether it closed the connection, and how much memory it holds.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.environment import BACKENDS, TEST_ENV

LIMITS = {
    "OVATION_HTTP_MAX_HEADER_BYTES": "8192",
    "OVATION_HTTP_KEEPALIVE_SECONDS": "1",
    "OVATION_HTTP_MAX_CONNECTIONS": "20",
    "OVATION_HTTP_BODY_TIMEOUT_SECONDS": "2",
    "OVATION_HTTP_BODY_MIN_RATE": "1000",
}
WAIT = 15  # seconds any single socket read may wait before the test gives up (a limit that never came)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(settings) -> Iterator[tuple[int, int]]:
    """``ovation api`` with small limits; yields (port, pid)."""
    port = _free_port()
    log_path = Path(BACKENDS.data_dir) / "http-limits-api.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ovation", "api", "--port", str(port)],
            env={**os.environ, **TEST_ENV, **LIMITS},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the API did not start: {log_path.read_text()[-3000:]}"
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    return connection


def _read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _send_until_refused(connection: socket.socket, head: bytes, filler: bytes, total: int) -> int:
    """Send ``head`` then ``filler`` up to ``total`` bytes, stopping when the server stops reading."""
    sent = 0
    try:
        connection.sendall(head)
        while sent < total:
            connection.sendall(filler)
            sent += len(filler)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_a_32_mib_header_is_refused_and_memory_stays_flat(server) -> None:
    port, pid = server
    before = _rss_kib(pid)
    for _ in range(3):
        with _connect(port) as connection:
            sent = _send_until_refused(
                connection, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a" * 65536, 32 * 1024 * 1024
            )
            answer = _read_all(connection)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert sent < 32 * 1024 * 1024, "the server read a 32 MiB header to the end"
    growth = _rss_kib(pid) - before
    assert growth < 16 * 1024, f"the API grew by {growth} KiB while refusing three 32 MiB headers"


def test_a_huge_request_line_is_refused(server) -> None:
    port, _ = server
    with _connect(port) as connection:
        _send_until_refused(connection, b"GET /", b"a" * 65536, 8 * 1024 * 1024)
        answer = _read_all(connection)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_headers_under_the_limit_are_served(server) -> None:
    port, _ = server
    response = httpx.get(f"http://127.0.0.1:{port}/health", headers={"x-long": "b" * 6000}, timeout=WAIT)
    assert response.status_code == 200


def test_an_idle_keep_alive_connection_is_closed(server) -> None:
    port, _ = server
    with _connect(port) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_all(connection)  # returns only when the server closes the connection
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_connections_beyond_the_cap_are_answered_503(server) -> None:
    port, _ = server
    idle = [_connect(port) for _ in range(int(LIMITS["OVATION_HTTP_MAX_CONNECTIONS"]))]
    try:
        for connection in idle:  # each holds a connection with a request in flight: its head half sent
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        for _ in range(50):  # until the server has taken them all in
            beyond = httpx.get(f"http://127.0.0.1:{port}/health", timeout=WAIT)
            if beyond.status_code != 200:
                break
            time.sleep(0.1)
        assert beyond.status_code == 503, beyond.text
    finally:
        for connection in idle:
            connection.close()
    for _ in range(50):  # the server notices the closed connections on its next loop turns
        if httpx.get(f"http://127.0.0.1:{port}/health", timeout=WAIT).status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the server stayed at its connection cap after the connections closed")


def _post_head(port: int, length: int) -> bytes:
    """A login request's head, with the CSRF cookie and header a browser would send."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as client:
        client.get("/api/auth/csrf")
        token = client.cookies["csrftoken"]
    return (
        f"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Cookie: csrftoken={token}\r\nX-CSRFToken: {token}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def test_a_stalled_body_is_answered_408_and_closed(server) -> None:
    port, _ = server
    with _connect(port) as connection:
        connection.sendall(_post_head(port, 1000) + b'{"login": ')
        answer = _read_all(connection)  # nothing more is sent: the server must give up by itself
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b'"code":"body_timeout"' in answer


def test_a_dribbling_body_is_answered_408(server) -> None:
    """A byte every 0.3 s keeps the connection busy but stays under the minimum rate."""
    port, _ = server
    with _connect(port) as connection:
        connection.sendall(_post_head(port, 100))
        answer = b""
        for _ in range(100):
            try:
                connection.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
            connection.settimeout(0.3)
            try:
                answer = connection.recv(65536)
            except TimeoutError:
                continue
            break
        connection.settimeout(WAIT)
        answer += _read_all(connection)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]


def test_an_honest_slow_body_that_keeps_the_minimum_rate_finishes(server) -> None:
    """12 KB at about 5 KB/s (five times the minimum) takes longer than the 2 s body timeout, and is read
    to the end."""
    port, _ = server
    body = b'{"login": "nobody-here", "password": "wrong-password"}'
    body += b" " * (12_000 - len(body))
    with _connect(port) as connection:
        connection.sendall(_post_head(port, len(body)))
        for start in range(0, len(body), 500):
            connection.sendall(body[start : start + 500])
            time.sleep(0.1)
        answer = _read_all(connection)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]  # the credentials were read and checked
    assert b'"code":"invalid_credentials"' in answer


# --- what uvicorn cannot enforce: the reverse proxy of compose.yaml (deploy/nginx.conf) ------------------

NGINX = "/usr/sbin/nginx"
HEAD_TIMEOUT = 2  # the file says 10 s; shortened here so the test waits less


@pytest.fixture(scope="module")
def proxy(server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Debian's nginx running deploy/nginx.conf, pointed at the API above; yields its port."""
    if not os.access(NGINX, os.X_OK):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx is not installed (scripts/system-deps.sh installs nginx-light)")
        pytest.skip("nginx is not installed (OVATION_WITH_BROWSER=1 scripts/system-deps.sh installs it)")
    api_port, _ = server
    port = _free_port()
    folder = tmp_path_factory.mktemp("nginx")
    text = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text()
    for old, new in (
        ("server api:8000;", f"server 127.0.0.1:{api_port};"),
        ("listen 8080;", f"listen 127.0.0.1:{port};"),
        ("pid /tmp/nginx.pid;", f"pid {folder}/nginx.pid;"),
        ("client_header_timeout 10s;", f"client_header_timeout {HEAD_TIMEOUT}s;"),
    ):
        assert old in text, f"deploy/nginx.conf no longer has {old!r}: update this test"
        text = text.replace(old, new)
    config = folder / "nginx.conf"
    config.write_text(text)
    log = (folder / "nginx.log").open("wb")
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(config), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            assert process.poll() is None, (folder / "nginx.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError(f"nginx did not pass requests on: {(folder / 'nginx.log').read_text()}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_the_proxy_closes_connections_that_never_finish_their_head(proxy: int, server) -> None:
    """300 clients each send half a request head and wait: uvicorn alone would keep them all open."""
    slow = [_connect(proxy) for _ in range(300)]
    try:
        for connection in slow:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        # Meanwhile everyone else is served.
        assert httpx.get(f"http://127.0.0.1:{proxy}/health", timeout=WAIT).status_code == 200
        for connection in slow:
            assert not _read_all(connection).startswith(b"HTTP/1.1 200")  # closed, with no answer
    finally:
        for connection in slow:
            connection.close()


def test_the_proxy_refuses_a_huge_header_too(proxy: int) -> None:
    """nginx answers 400 at 16 KiB and reads the rest only to discard it (a lingering close)."""
    with _connect(proxy) as connection:
        _send_until_refused(
            connection, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a" * 65536, 32 * 1024 * 1024
        )
        answer = _read_all(connection)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
