"""Shared by every test. Unit tests (tests/unit) need no services; integration tests set theirs up in
tests/integration/conftest.py."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Say which backends the integration tests really ran against, so an embedded fallback is never silent.
    integration = sys.modules.get("tests.support.environment")
    backends = getattr(integration, "BACKENDS", None)
    if backends is not None:
        mode = (
            "PostgreSQL + Redis"
            if backends.production
            else "EMBEDDED SQLite + file broker (services missing)"
        )
        terminalreporter.write_line(f"integration tests ran on: {mode} ({backends.database_url})")
