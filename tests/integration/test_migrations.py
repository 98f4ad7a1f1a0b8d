from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core import migrate
from core.db import create_engine
from core.models import Base
from core.settings import DatabaseSettings
from tests.support.environment import BACKENDS
from tests.support.services import TEST_DATABASE, recreate_database


def _database_urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"]
    if BACKENDS.production:
        # Named after the suite's database, so that two checkouts running their suites do not share it.
        urls.append(asyncio.run(recreate_database(f"{TEST_DATABASE}_migrations")))
    return urls


def _inspect(url: str) -> tuple[set[str], list[object]]:
    async def run() -> tuple[set[str], list[object]]:
        engine = create_engine(DatabaseSettings(url=url), pooled=False)
        try:
            async with engine.connect() as connection:

                def look(sync_connection):
                    tables = set(inspect(sync_connection).get_table_names())
                    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                    return tables, compare_metadata(context, Base.metadata)

                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_empty_database_to_head_and_back(backend: str, tmp_path: Path) -> None:
    urls = {url.split("+")[0]: url for url in _database_urls(tmp_path)}
    if backend not in urls:
        pytest.fail("PostgreSQL is not available") if BACKENDS.production else pytest.skip(
            "PostgreSQL unreachable outside CI: the embedded run covers SQLite only"
        )
    url = urls[backend]
    migrate.upgrade(url)
    tables, differences = _inspect(url)
    assert set(Base.metadata.tables) <= tables
    # The models and the migrations describe the same schema.
    assert differences == []

    migrate.downgrade(url, "base")
    tables, _ = _inspect(url)
    assert tables <= {"alembic_version"}

    migrate.upgrade(url)  # and up again: downgrades leave nothing behind that blocks a re-run
    assert set(Base.metadata.tables) <= _inspect(url)[0]
