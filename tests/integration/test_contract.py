"""The OpenAPI document is the contract: schemathesis fuzzes a real ``ovation api`` from the app's own
document, with every check on, as anonymous, voter, contestant, moderator and admin.

Each role runs the schemathesis command line once over every operation, with a bounded number of examples per
operation, and must report no failure of any kind. The settings (examples, checks, the few operations a
fuzzer must not call, each with its reason) are in tests/integration/schemathesis.toml. A failure prints
schemathesis's own report: the operation, the check that failed, and a curl command that reproduces it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.db import create_engine, create_sessionmaker
from core.settings import get_settings
from tests.support.api import PASSWORD, create_account
from tests.support.environment import BACKENDS, TEST_ENV
from tests.support.processes import Platform
from tests.support.voting import open_contest

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ["anonymous", "voter", "contestant", "moderator", "admin"]  # admin last: it may change the others
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def api_server(settings) -> Iterator[str]:
    """A real API process (and a worker, so uploads and votes are processed as in production)."""
    logs = Path(BACKENDS.data_dir) / "contract"
    logs.mkdir(exist_ok=True)
    platform = Platform({**os.environ, **TEST_ENV}, logs)
    platform.start(beat=False)
    try:
        asyncio.run(_seed())
        yield platform.base_url
    finally:
        platform.stop()


async def _seed() -> None:
    """Something to find: an open contest with approved songs, so not every id the fuzzer tries is 404."""
    engine = create_engine(get_settings().database, pooled=False)
    try:
        async with create_sessionmaker(engine)() as session:
            await open_contest(session, songs=3)
    finally:
        await engine.dispose()


def _sign_in(base_url: str, role: str) -> list[str]:
    """Headers that make every request of the run come from a fresh account with ``role``."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.get("/api/auth/csrf")
        token = client.cookies["csrftoken"]
        if role != "anonymous":

            async def account() -> str:
                engine = create_engine(get_settings().database, pooled=False)
                try:
                    async with create_sessionmaker(engine)() as session:
                        name, _ = await create_account(session, *([] if role == "voter" else [role]))
                        return name
                finally:
                    await engine.dispose()

            name = asyncio.run(account())
            response = client.post(
                "/api/auth/login", json={"login": name, "password": PASSWORD}, headers={"x-csrftoken": token}
            )
            assert response.status_code == 200, response.text
            token = client.cookies.get("csrftoken") or token
        cookies = "; ".join(f"{key}={value}" for key, value in client.cookies.items())
    return ["-H", f"Cookie: {cookies}", "-H", f"X-CSRFToken: {token}"]


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_openapi_contract(api_server: str, role: str, tmp_path: Path) -> Any:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{api_server}/schema/openapi.json",
        *_sign_in(api_server, role),
    ]
    if role != "anonymous":
        # These change who the run is signed in as: logout ends the session, and a login or registration that
        # succeeds replaces it with another account. The anonymous run covers all three.
        for operation_id in ("logout", "login", "register"):
            command += ["--exclude-operation-id", operation_id]
    if role in ("voter", "contestant", "moderator"):
        # The coverage phase (the boundary values of every field and parameter: most of a run's time) runs
        # as anonymous and as admin, who reach every operation's logic. The roles between differ in what
        # they may do: the other phases fuzz that here, and test_authorization_matrix.py checks it exactly.
        command += ["--phases", "examples,fuzzing,stateful"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False, env=os.environ
    )
    assert done.returncode == 0, (
        f"schemathesis as {role} found failures:\n{_failures(done.stdout)}{done.stderr}"
    )


def _failures(output: str) -> str:
    """schemathesis's failure section (each operation, the check that failed, a curl to reproduce it) and
    its summary; the progress lines before them say nothing more."""
    start = output.find("=== FAILURES")
    report = output[start:] if start >= 0 else output
    return report[-40_000:]
