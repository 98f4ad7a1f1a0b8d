"""Where API processes read boards from: Redis in production, nothing (the database) in embedded mode.

A contest's board of one kind ("live", or "frozen": the freeze snapshot) is one Redis hash: a field per
country ("*" for the global board), each a msgpack-encoded ``BoardDoc`` holding the whole board in display
order. A reader gets its board in one round trip; a writer replaces the whole hash at once, and never with an
older version than the one there (a slow writer cannot put back a board a newer recompute replaced).
Changes are announced on a pub/sub channel per contest for the live feed; every feed of an API process
listens through one shared pub/sub connection (``ChangeListener``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Literal, Protocol

import msgspec
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.settings import Settings

log = logging.getLogger(__name__)

Kind = Literal["live", "frozen"]
GLOBAL_FIELD = "*"
REPAIRS_KEY = "ovation:leaderboard:repairs"  # hash: source -> repairs made by the integrity check
# song_id, rank, votes, title, artist_name
Entry = tuple[int, int, int, str, str]


class BoardDoc(msgspec.Struct, array_like=True, frozen=True):
    """One board (one country, or the global one), entries in display order."""

    version: int
    computed_at: datetime
    entries: list[Entry]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(BoardDoc)


def encode_doc(doc: BoardDoc) -> bytes:
    return _encoder.encode(doc)


def decode_doc(data: bytes) -> BoardDoc:
    return _decoder.decode(data)


def field_for(country: str) -> str:
    return country or GLOBAL_FIELD


def country_of(field: str) -> str:
    return "" if field == GLOBAL_FIELD else field


class Subscription(Protocol):
    async def wait(self, seconds: float) -> bool:
        """True when the contest's board changed (or may have); False on timeout."""


class BoardCache(Protocol):
    enabled: bool

    async def read(self, contest_id: int, kind: Kind, country: str) -> BoardDoc | None:
        """The board, an empty board when the country has none, or None when nothing is cached."""

    async def read_all(self, contest_id: int, kind: Kind) -> dict[str, BoardDoc] | None: ...

    async def store(self, contest_id: int, kind: Kind, version: int, docs: dict[str, BoardDoc]) -> None: ...

    async def drop(self, contest_id: int, kind: Kind) -> None: ...

    async def publish(self, contest_id: int, version: int) -> None: ...

    def subscribe(self, contest_id: int) -> AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...

    async def count_repair(self, source: str) -> None: ...


# Replace the hash unless it holds a newer version; a week's expiry bounds what ended contests leave behind.
# KEYS[1] = the hash; ARGV = version, field, value, field, value ...
_STORE_SCRIPT = """
local current = redis.call('HGET', KEYS[1], '#v')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '#v', ARGV[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], 604800)
return 1
"""


def board_key(contest_id: int, kind: Kind) -> str:
    return f"ovation:board:{contest_id}:{kind}"


def channel(contest_id: int) -> str:
    return f"ovation:board:{contest_id}:changed"


CHANNEL_PATTERN = "ovation:board:*:changed"
BOARD_CLIENT_NAME = "ovation-board"


def _contest_of(channel_name: bytes) -> int | None:
    middle = channel_name.decode(errors="replace").split(":")[2:3]
    return int(middle[0]) if middle and middle[0].isdigit() else None


class ChangeListener:
    """One Redis pub/sub connection per API process for every live feed (a pattern subscription to all
    contests' change channels): a thousand viewers cost one connection, not a thousand. A message wakes the
    feeds of its contest. While Redis is unreachable every feed is woken once a second, so feeds fall back
    to re-reading the board from the database instead of hanging."""

    def __init__(self, client: Redis, retry_seconds: float = 1.0) -> None:
        self._client = client
        self._retry_seconds = retry_seconds
        self._waiting: dict[int, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def subscribe(self, contest_id: int) -> AsyncIterator[Subscription]:
        event = asyncio.Event()
        self._waiting.setdefault(contest_id, set()).add(event)
        if self._task is None or self._task.done():
            # Runs for the rest of the process once started: stopping it when the last feed ends would race
            # with the next feed starting.
            self._task = asyncio.get_running_loop().create_task(self._listen())
        try:
            yield _Woken(event)
        finally:
            waiting = self._waiting.get(contest_id, set())
            waiting.discard(event)
            if not waiting:
                self._waiting.pop(contest_id, None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _wake(self, contest_ids: Iterable[int]) -> None:
        for contest_id in contest_ids:
            for event in self._waiting.get(contest_id, ()):
                event.set()

    async def _listen(self) -> None:
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(CHANNEL_PATTERN)
                self._wake(list(self._waiting))  # a change may have gone by while (re)connecting
                while True:
                    # Short reads: the socket timeout is short on purpose (a dead Redis must not hang reads).
                    message = await pubsub.get_message(timeout=0.4)
                    contest_id = _contest_of(message["channel"]) if message is not None else None
                    if contest_id is not None:
                        self._wake([contest_id])
            except (RedisError, OSError) as exc:
                log.warning(
                    "leaderboard feed: change notifications unavailable (%s); feeds poll meanwhile", exc
                )
                self._wake(list(self._waiting))
                await asyncio.sleep(self._retry_seconds)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]


class _Woken:
    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    async def wait(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class RedisBoardCache:
    enabled = True

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._store = client.register_script(_STORE_SCRIPT)
        self._changes = ChangeListener(client)
        # Last decoded board per (key, field): a read whose bytes did not change skips decoding 1,000 entries.
        self._decoded: dict[tuple[str, str], tuple[bytes, BoardDoc]] = {}

    def _decode(self, key: str, field: str, data: bytes) -> BoardDoc:
        known = self._decoded.get((key, field))
        if known is not None and known[0] == data:
            return known[1]
        doc = decode_doc(data)
        if len(self._decoded) > 1000:
            self._decoded.clear()
        self._decoded[(key, field)] = (data, doc)
        return doc

    async def read(self, contest_id: int, kind: Kind, country: str) -> BoardDoc | None:
        fields = [GLOBAL_FIELD] if not country else [GLOBAL_FIELD, country]
        key = board_key(contest_id, kind)
        values: list[bytes | None] = await self._client.hmget(key, fields)  # type: ignore[assignment]
        if values[0] is None:
            return None  # nothing cached: the global board is always stored with the others
        if not country:
            return self._decode(key, GLOBAL_FIELD, values[0])
        if values[1] is None:
            whole = self._decode(key, GLOBAL_FIELD, values[0])
            return BoardDoc(whole.version, whole.computed_at, [])  # no counted vote from that country
        return self._decode(key, country, values[1])

    async def read_all(self, contest_id: int, kind: Kind) -> dict[str, BoardDoc] | None:
        raw: dict[bytes, bytes] = await self._client.hgetall(board_key(contest_id, kind))  # type: ignore[assignment]
        if not raw:
            return None
        return {
            country_of(field.decode()): decode_doc(value) for field, value in raw.items() if field != b"#v"
        }

    async def store(self, contest_id: int, kind: Kind, version: int, docs: dict[str, BoardDoc]) -> None:
        args: list[str | bytes | int] = [version]
        for country, doc in docs.items():
            args += [field_for(country), encode_doc(doc)]
        await self._store(keys=[board_key(contest_id, kind)], args=args)

    async def drop(self, contest_id: int, kind: Kind) -> None:
        await self._client.delete(board_key(contest_id, kind))

    async def publish(self, contest_id: int, version: int) -> None:
        await self._client.publish(channel(contest_id), str(version))

    def subscribe(self, contest_id: int) -> AbstractAsyncContextManager[Subscription]:
        return self._changes.subscribe(contest_id)

    async def close(self) -> None:
        await self._changes.close()

    async def count_repair(self, source: str) -> None:
        await self._client.hincrby(REPAIRS_KEY, source, 1)


class DatabaseOnlyCache:
    """Embedded mode (no Redis): every read goes to the database; the live feed polls it."""

    enabled = False

    def __init__(self, poll_seconds: float = 1.0) -> None:
        self._poll_seconds = poll_seconds

    async def read(self, contest_id: int, kind: Kind, country: str) -> BoardDoc | None:
        return None

    async def read_all(self, contest_id: int, kind: Kind) -> dict[str, BoardDoc] | None:
        return None

    async def store(self, contest_id: int, kind: Kind, version: int, docs: dict[str, BoardDoc]) -> None:
        return None

    async def drop(self, contest_id: int, kind: Kind) -> None:
        return None

    async def publish(self, contest_id: int, version: int) -> None:
        return None

    @asynccontextmanager
    async def subscribe(self, contest_id: int) -> AsyncIterator[Subscription]:
        yield _Poll(self._poll_seconds)

    async def close(self) -> None:
        return None

    async def count_repair(self, source: str) -> None:
        return None  # the leaderboard_repairs rows are the record; /metrics reads them directly


class _Poll:
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def wait(self, seconds: float) -> bool:
        await asyncio.sleep(min(seconds, self._seconds))
        return True  # maybe: the caller compares versions


def open_board_cache(settings: Settings) -> BoardCache:
    if settings.broker.embedded:
        return DatabaseOnlyCache()
    client = Redis.from_url(
        settings.broker.redis_url,
        socket_connect_timeout=1,
        socket_timeout=1,
        client_name=BOARD_CLIENT_NAME,  # who is who in CLIENT LIST
    )
    return RedisBoardCache(client)


async def safely(action: str, operation: object) -> None:
    """Run a cache write; the database is the record, so a Redis failure is logged, not raised."""
    try:
        await operation  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        log.warning("leaderboard cache: could not %s: %s", action, exc)


class RepairsCollector(Collector):
    """``ovation_leaderboard_repairs_total{source}`` on the API's /metrics: the integrity check runs in a
    worker process, so the count is read from where that process writes it (Redis, or the SQLite file)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._redis = (
            None
            if settings.broker.embedded
            else SyncRedis.from_url(settings.broker.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        )

    def _counts(self) -> Iterable[tuple[str, int]]:
        if self._redis is not None:
            raw = self._redis.hgetall(REPAIRS_KEY)
            return [(key.decode(), int(value)) for key, value in raw.items()]  # type: ignore[union-attr]
        if self._settings.database.is_sqlite:
            path = self._settings.database.url.split(":///", 1)[1]
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
                return connection.execute(
                    "SELECT source, count(*) FROM leaderboard_repairs GROUP BY source"
                ).fetchall()
        return []

    def describe(self) -> Iterable[CounterMetricFamily]:
        # Registering asks for the metric's name: answer without reading the counts (no I/O at startup).
        return [self._family()]

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(
            "ovation_leaderboard_repairs",
            "Differences the leaderboard integrity check found and repaired",
            labels=["source"],
        )

    def collect(self) -> Iterable[CounterMetricFamily]:
        family = self._family()
        counts = {"database": 0, "cache": 0}
        try:
            counts.update(dict(self._counts()))
        except (RedisError, OSError, sqlite3.Error) as exc:
            log.warning("leaderboard repairs count unavailable: %s", exc)
            return []
        for source, value in sorted(counts.items()):
            family.add_metric([source], value)
        return [family]


_registered: list[RepairsCollector] = []


def register_repairs_metric(settings: Settings) -> None:
    """Once per process (several apps may run in one, as in the tests): /metrics shows the repairs count."""
    if not _registered:
        collector = RepairsCollector(settings)
        REGISTRY.register(collector)
        _registered.append(collector)
