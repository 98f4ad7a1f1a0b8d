"""Importing any module of the platform starts nothing: no connection, no file, no folder.

Clients, pools and folders are built in the API's lifespan and the worker's process init. The check runs in a
fresh interpreter whose settings point at a listening socket (as database and Redis) and at a data directory
that does not exist yet: an import that connected or created a folder would show.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "core", "workers", "ovation", "fraud", "uploads")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":  # runs the command line: importing it is running it
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_platform_module_is_listed() -> None:
    assert {"api.app", "core.jobs.dispatch", "workers.app", "workers.runtime", "workers.tasks.ops"} <= set(
        _modules()
    )


def test_importing_any_module_connects_to_nothing_and_creates_nothing(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "OVATION_DATABASE_URL": f"postgresql+asyncpg://nobody@127.0.0.1:{port}/ovation",
        "OVATION_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "OVATION_SECRET_KEY": "x" * 40,
        "OVATION_DATA_DIR": str(data_dir),
        "OVATION_UPLOAD_DIR": str(data_dir / "uploads"),
    }
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    try:
        result = subprocess.run(
            [sys.executable, "-c", script, *_modules()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            connection = None
        assert connection is None, "a module connected to the database or Redis while being imported"
    finally:
        listener.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "importing created files or folders"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_api_imports_nothing_from_the_workers() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imports(path) if name.split(".")[0] == "workers"
        )
        for path in (ROOT / "api").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
