"""Helpers the benchmarks share: ports, a fresh PostgreSQL database."""

from __future__ import annotations

import socket

import asyncpg


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_dsn(admin_dsn: str, name: str) -> str:
    """The DSN of database ``name`` on the server of ``admin_dsn`` (``postgresql://...``)."""
    return admin_dsn.rsplit("/", 1)[0] + "/" + name


def sqlalchemy_url(dsn: str) -> str:
    """``postgresql://...`` as the async SQLAlchemy URL the platform takes."""
    return "postgresql+asyncpg://" + dsn.split("://", 1)[1]


async def recreate_database(admin_dsn: str, name: str) -> None:
    """Drop (with its connections) and create the benchmark's database, so every run starts empty."""
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
