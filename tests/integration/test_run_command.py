"""The README's run command, as a newcomer runs it: embedded mode, no external server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.api import PASSWORD, unique_name
from tests.support.net import free_port

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OVATION_")}
    env["OVATION_DATA_DIR"] = str(data_dir)
    return env


def test_run_serves_ready_within_30s_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ovation", "run", "--port", str(port), "--concurrency", "1"],
        env=_embedded_env(tmp_path / "data"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        ready = None
        while time.monotonic() - started < 30:
            try:
                ready = httpx.get(f"{base}/ready", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        assert ready is not None, (tmp_path / "run.log").read_text()
        assert ready.status_code == 200, (tmp_path / "run.log").read_text()
        assert ready.json()["checks"] == {
            "database": "ok",
            "workers": ready.json()["checks"]["workers"],
            "broker": "ok",
        }

        with httpx.Client(base_url=base, timeout=10) as client:
            token = client.get("/api/auth/csrf").json()["csrf_token"]
            name = unique_name()
            registered = client.post(
                "/api/auth/register",
                json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
                headers={"x-csrftoken": token},
            )
            assert registered.status_code == 202, registered.text  # signing up does not log in
            logged_in = client.post(
                "/api/auth/login", json={"login": name, "password": PASSWORD}, headers={"x-csrftoken": token}
            )
            assert logged_in.status_code == 200, logged_in.text
            assert client.get("/api/auth/me").json()["username"] == name
            # Each login or logout hands out the token of the new session.
            client.post("/api/auth/logout", headers={"x-csrftoken": client.cookies["csrftoken"]})
            again = client.post(
                "/api/auth/login",
                json={"login": name, "password": PASSWORD},
                headers={"x-csrftoken": client.cookies["csrftoken"]},
            )
            assert again.status_code == 200, again.text

        # No mail server in the embedded mode: the worker files the confirmation in the outbox and logs its
        # link, so the whole flow works on a laptop.
        outbox = tmp_path / "data" / "outbox"
        deadline = time.monotonic() + 30
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.3)
        [letter] = list(outbox.glob("*.eml"))
        assert f"To: {name}@example.com" in letter.read_text()
        assert "/verify-email#token=" in (tmp_path / "run.log").read_text()

        # The worker of the embedded mode is real: it reports in through the file broker's process.
        deadline = time.monotonic() + 30
        while not httpx.get(f"{base}/ready").json()["checks"]["workers"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert httpx.get(f"{base}/ready").json()["checks"]["workers"]

        children = _children(process.pid)
        assert len(children) == 3  # api, worker, beat
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=40) == 0
        time.sleep(0.5)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


def test_cli_creates_an_admin_and_loads_the_demo(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path / "data")
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "ovation", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert run("db", "upgrade").returncode == 0
    name = unique_name()
    created = run(
        "users",
        "create",
        "--email",
        f"{name}@example.com",
        "--username",
        name,
        "--password",
        PASSWORD,
        "--role",
        "admin",
    )
    assert created.returncode == 0, created.stderr
    assert "admin" in created.stdout
    duplicate = run(
        "users", "create", "--email", f"{name}@example.com", "--username", name, "--password", PASSWORD
    )
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    weak = run("users", "create", "--email", "w@example.com", "--username", "weakling", "--password", "short")
    assert weak.returncode == 2

    demo = run("demo")
    assert demo.returncode == 0, demo.stderr
    assert "songs" in demo.stdout
    again = run("demo", "--if-empty")
    assert "nothing loaded" in again.stdout


def test_every_start_prints_the_urls_and_the_demo_logins(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path / "data")
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "ovation", *command], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    # A later start: the demo is already there, and the logins must still be shown.
    port = free_port()
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ovation", "run", "--demo", "--port", str(port), "--concurrency", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "Press Ctrl-C" not in log_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.3)
        out = log_path.read_text()
        assert "nothing loaded" in out  # the demo was not loaded again...
        assert f"Contests    http://127.0.0.1:{port}/" in out
        assert f"http://127.0.0.1:{port}/admin" in out
        assert f"http://127.0.0.1:{port}/schema" in out
        for role in ("admin", "moderator", "contestant", "voter"):  # ...and its logins are still shown
            assert re.search(rf"^ +{role} +\S+ / demo-password-2026$", out, re.MULTILINE), out
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
