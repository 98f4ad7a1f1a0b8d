"""Browser tests: the whole platform as real processes (``ovation run``, embedded mode) and Debian's Chromium
driven by Playwright's Python client through ``executable_path`` (no downloaded browser)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.net import free_port

# Known to work as root in a container: no sandbox, no GPU, nothing that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",  # the test presses play through script
]
STARTUP_SECONDS = 90
REPO_ROOT = Path(__file__).resolve().parents[2]


def _unavailable(reason: str) -> None:
    # In CI a missing browser is a broken setup, never a reason to pass quietly.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def _chromium() -> str | None:
    for candidate in (os.environ.get("OVATION_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass(frozen=True)
class RunningPlatform:
    base_url: str
    admin_login: str
    admin_password: str
    contest_id: int
    log: Path
    data_dir: Path  # the embedded mode's data: its outbox/ holds the mail the platform "sent"
    env: dict[str, str]
    cwd: Path

    def ovation(self, *args: str, **extra_env: str) -> str:
        """Run an ``ovation`` command against this platform's data (e.g. ``users create``)."""
        return _ovation({**self.env, **extra_env}, self.cwd, *args)


def _ovation(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ovation", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"ovation {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # `ovation run` stops its API, worker and beat on Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this fixture started, nothing else
            process.wait(timeout=10)


# Module scope, not session: Playwright's sync API runs an event loop in the main thread while it is open,
# and the other test folders need that thread free (asyncio.run in their fixtures).
@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """``ovation run`` in embedded mode on a free port, with its own data folder and the demo contest."""
    data = tmp_path_factory.mktemp("ovation-browser")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OVATION_DATABASE_URL", "OVATION_REDIS_URL"}  # embedded mode whatever the shell says
    }
    # The processes run this tree's code even from another folder, whatever an older editable install
    # recorded (one made before a package gained its __init__.py maps it as a namespace package).
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(
        OVATION_DATA_DIR=str(data),
        OVATION_LOG_JSON="false",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=pythonpath,
        # The journeys log in a burst of scripted voters from this one address.
        OVATION_CREDENTIAL_RATE_LIMIT_PER_MINUTE="1000",
        # A history snapshot at every change, so that the rank chart has points within a test.
        OVATION_LEADERBOARD_SNAPSHOT_MINUTES="0",
    )
    # An empty working folder: a developer's ./.env must not point the test at another database, and the
    # data folder cannot serve (`python -m` puts the cwd first on sys.path, and its uploads/ folder would
    # shadow the uploads package).
    cwd = tmp_path_factory.mktemp("ovation-cwd")
    _ovation(env, cwd, "db", "upgrade")
    summary = _ovation(env, cwd, "demo")
    admin = re.search(r"admin login (\S+) / (\S+)", summary)
    contest = re.search(r"/api/contests/(\d+)", summary)
    assert admin, f"no admin login in the demo summary: {summary}"
    assert contest, f"no contest in the demo summary: {summary}"

    port = free_port()
    log = data / "ovation-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ovation", "run", "--port", str(port), "--concurrency", "1"],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stuck child can be stopped with it
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"ovation run exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ovation run was not ready in {STARTUP_SECONDS} s:\n{log.read_text()[-4000:]}")
            time.sleep(0.3)
        yield RunningPlatform(
            base_url=base_url,
            admin_login=admin.group(1),
            admin_password=admin.group(2),
            contest_id=int(contest.group(1)),
            log=log,
            data_dir=data,
            env=env,
            cwd=cwd,
        )
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = _chromium()
    if path is None:
        _unavailable(
            "Chromium is not installed (apt-get install chromium, or OVATION_WITH_BROWSER=1 ./dev test)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh temporary --user-data-dir of its own.
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, platform: RunningPlatform) -> Iterator[Any]:
    """A fresh page in a context of its own: no cookies shared between tests."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)  # the waits, not assertions on time: a slow machine still passes
    context = browser.new_context(base_url=platform.base_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
