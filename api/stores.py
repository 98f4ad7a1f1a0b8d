"""Litestar stores: login sessions in the database; rate limits in Redis, failing open when Redis is down."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
from litestar.stores.base import NamespacedStore, Store
from litestar.stores.redis import RedisStore
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.batching import MicroBatcher
from core.db_dialect import upsert
from core.models import HttpSession

log = logging.getLogger(__name__)

_READ_SESSIONS = "SELECT key, value, expires_at FROM http_sessions WHERE key = ANY($1::varchar[])"

SessionRow = tuple[bytes, datetime | None]


class SessionReads:
    """Session reads of concurrent requests in one query (and one transaction) on the plain pool: under load
    the vote path's session reads cost a fraction of a round trip and a commit each."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.batcher: MicroBatcher[str, SessionRow | None] = MicroBatcher(self._read, max_wait=0.0)

    async def get(self, key: str) -> SessionRow | None:
        return await self.batcher.submit(key)

    async def _read(self, keys: list[str]) -> list[SessionRow | None]:
        async with self._pool.acquire() as connection:
            records = await connection.fetch(_READ_SESSIONS, list(set(keys)))
        found = {record["key"]: (bytes(record["value"]), record["expires_at"]) for record in records}
        return [found.get(key) for key in keys]


def _seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DatabaseSessionStore(Store):
    """Sessions in the ``http_sessions`` table.

    Litestar writes the session back on every response; rewriting an unchanged row on every request would put
    an UPDATE on the vote path, so a write that changes nothing (same bytes, expiry still more than half its
    lifetime away) is skipped, using what this process last read or wrote for the key.
    """

    def __init__(self, cache_size: int = 10_000, read_ttl: float = 2.0) -> None:
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._batched_reads: SessionReads | None = None
        self._recent: OrderedDict[str, tuple[bytes, datetime | None]] = OrderedDict()
        # Reads served from memory for a moment: a voter's burst of requests costs one query, and a logout
        # or expiry seen by another API process applies within ``read_ttl`` seconds.
        self._read_at: dict[str, float] = {}
        self._read_ttl = read_ttl
        self._cache_size = cache_size

    def bind(
        self, sessionmaker: async_sessionmaker[AsyncSession], raw_pool: asyncpg.Pool | None = None
    ) -> None:
        self._sessionmaker = sessionmaker
        # Every signed-in request reads its session: on PostgreSQL, batched on the plain pool.
        self._batched_reads = SessionReads(raw_pool) if raw_pool is not None else None

    @property
    def _db(self) -> async_sessionmaker[AsyncSession]:
        if self._sessionmaker is None:
            raise RuntimeError("DatabaseSessionStore used before the app started")
        return self._sessionmaker

    def _remember(self, key: str, value: bytes, expires_at: datetime | None) -> None:
        self._recent[key] = (value, expires_at)
        self._read_at[key] = time.monotonic()
        self._recent.move_to_end(key)
        while len(self._recent) > self._cache_size:
            old, _ = self._recent.popitem(last=False)
            self._read_at.pop(old, None)

    def _forget(self, key: str) -> None:
        self._recent.pop(key, None)
        self._read_at.pop(key, None)

    def _fresh(self, key: str) -> bytes | None:
        known = self._recent.get(key)
        if known is None or time.monotonic() - self._read_at.get(key, 0.0) > self._read_ttl:
            return None
        value, expires_at = known
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        return value

    def is_current(self, key: str, value: bytes, expires_in: int | timedelta | None) -> bool:
        """Whether writing ``value`` would change nothing this process knows of: the same bytes, and the
        stored expiry still more than half of ``expires_in`` away."""
        known = self._recent.get(key)
        if known is None or known[0] != value:
            return False
        lifetime, known_expiry = _seconds(expires_in), known[1]
        if lifetime is None or known_expiry is None:
            return lifetime is None and known_expiry is None
        return (known_expiry - datetime.now(UTC)).total_seconds() > lifetime / 2

    async def set(
        self,
        key: str,
        value: str | bytes,
        expires_in: int | timedelta | None = None,
        *,
        user_id: int | None = None,
    ) -> None:
        """Store a session; ``user_id`` records whose it is (see ``delete_for_user``)."""
        data = value.encode() if isinstance(value, str) else value
        if self.is_current(key, data, expires_in):
            return
        lifetime = _seconds(expires_in)
        expires_at = datetime.now(UTC) + timedelta(seconds=lifetime) if lifetime is not None else None
        async with self._db() as session:
            statement = upsert(session, HttpSession).values(
                key=key, value=data, expires_at=expires_at, user_id=user_id
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"],
                    # A write without an owner (a renewal of the expiry) keeps the one recorded.
                    set_={"value": data, "expires_at": expires_at}
                    | ({"user_id": user_id} if user_id is not None else {}),
                )
            )
            await session.commit()
        self._remember(key, data, expires_at)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if renew_for is None and (cached := self._fresh(key)) is not None:
            return cached
        row = await self._read(key)
        if row is None:
            self._forget(key)
            return None
        value, expires_at = row
        if expires_at is not None and expires_at <= datetime.now(UTC):
            await self.delete(key)
            return None
        self._remember(key, value, expires_at)
        if renew_for is not None:
            await self.set(key, value, renew_for)
        return value

    async def _read(self, key: str) -> SessionRow | None:
        if self._batched_reads is not None:
            return await self._batched_reads.get(key)
        async with self._db() as session:
            row = (
                await session.execute(
                    select(HttpSession.value, HttpSession.expires_at).where(HttpSession.key == key)
                )
            ).first()
        return (bytes(row.value), row.expires_at) if row is not None else None

    async def delete(self, key: str) -> None:
        self._forget(key)
        async with self._db() as session:
            await session.execute(delete(HttpSession).where(HttpSession.key == key))
            await session.commit()

    def forget(self, keys: list[str]) -> None:
        """Drop what this process remembers of sessions deleted elsewhere (see core.services.sessions)."""
        for key in keys:
            self._forget(key)

    async def delete_all(self) -> None:
        self._recent.clear()
        self._read_at.clear()
        async with self._db() as session:
            await session.execute(delete(HttpSession))
            await session.commit()

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self._db() as session:
            expires_at = await session.scalar(select(HttpSession.expires_at).where(HttpSession.key == key))
        if expires_at is None:
            return None
        return max(0, int((expires_at - datetime.now(UTC)).total_seconds()))


# Check and record requests against their budgets (fixed windows, as Litestar's limiter keeps them) in one
# step. Each budget's key holds "<count> <reset>": O(1) however high its limit, where Litestar's JSON list of
# request times grew with it. KEYS are the budgets of one or more requests; ARGV[1] is now, then per key its
# limit, window and request number. A request's budgets are taken in order: the first one already used up is
# reported, and neither it nor the request's later ones record it (-1 for those). Returns {count before,
# reset} per key.
_RECORD_REQUEST = """
local now = tonumber(ARGV[1])
local out, refused = {}, {}
for i, key in ipairs(KEYS) do
  local limit, window, request = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), ARGV[3 * i + 1]
  if refused[request] then
    out[#out + 1] = -1
    out[#out + 1] = 0
  else
    local count, reset = 0, now + window
    local stored = redis.call('GET', key)
    if stored then
      local c, r = string.match(stored, '^(%d+) (%d+)$')
      if c and tonumber(r) > now then count, reset = tonumber(c), tonumber(r) end
    end
    out[#out + 1] = count
    out[#out + 1] = reset
    if count >= limit then
      refused[request] = true
    else
      redis.call('SET', key, (count + 1) .. ' ' .. reset, 'EX', reset - now)
    end
  end
end
return out
"""

# (store key, limit) in; (requests counted before this one, window's end as a Unix time) out.
Budget = tuple[str, int]
Usage = tuple[int, int]

RATE_LIMITS_UNAVAILABLE = Counter(
    "ovation_rate_limit_store_unavailable",
    "Rate-limit checks let through unlimited because Redis could not be reached",
)


class RateLimitStore(RedisStore):
    """Litestar's Redis store plus one atomic check-and-record for ``api.ratelimit``: one round trip per
    request for all the limits it passes, and no request slips through between a read and a write when
    several API processes share a limit."""

    def __init__(
        self, redis: Redis, namespace: str | None = "LITESTAR", handle_client_shutdown: bool = False
    ) -> None:
        super().__init__(redis, namespace=namespace, handle_client_shutdown=handle_client_shutdown)
        self._record_request_script = self._redis.register_script(_RECORD_REQUEST)
        # Concurrent requests of the process share one script call (one round trip, one command to pack
        # and parse), in the order they arrived.
        self._batcher: MicroBatcher[tuple[Sequence[Budget], int, int], list[Usage]] = MicroBatcher(
            self._record_batch, max_size=128, max_wait=0.0
        )

    def with_namespace(self, namespace: str) -> RateLimitStore:
        return cast(RateLimitStore, super().with_namespace(namespace))  # built as type(self)

    def qualified(self, key: str) -> str:
        """The key as stored in Redis (with this store's namespace), for :meth:`record_requests`."""
        return self._make_key(key)

    async def record_requests(
        self, budgets: Sequence[Budget], *, now: int, window: int
    ) -> list[Usage] | None:
        """``budgets`` hold qualified keys: budgets of other namespaces of the same Redis may be passed.
        Returns the usage of each budget up to the first one already used up (which refuses the request)."""
        return await self._batcher.submit((budgets, now, window))

    async def _record_batch(self, requests: list[tuple[Sequence[Budget], int, int]]) -> list[list[Usage]]:
        keys: list[str] = []
        args: list[int] = [max(now for _, now, _ in requests)]
        for number, (budgets, _, window) in enumerate(requests):
            for key, limit in budgets:
                keys.append(key)
                args += [limit, window, number]
        flat = [int(value) for value in await self._record_request_script(keys=keys, args=args)]
        usage = iter(zip(flat[::2], flat[1::2], strict=True))
        results: list[list[Usage]] = []
        for budgets, _, _ in requests:
            taken = [next(usage) for _ in budgets]
            results.append([(count, reset) for count, reset in taken if count >= 0])
        return results


class FailOpenStore(NamespacedStore):
    """Wraps the rate-limit store: when Redis is unreachable, limits are not enforced (logged) rather than
    every request failing. The database still enforces the contest's vote limits."""

    def __init__(self, inner: RateLimitStore) -> None:
        self._inner = inner
        self._warned_at = 0.0

    def with_namespace(self, namespace: str) -> FailOpenStore:
        return FailOpenStore(self._inner.with_namespace(namespace))

    def qualified(self, key: str) -> str:
        return self._inner.qualified(key)

    def _warn(self, exc: Exception) -> None:
        RATE_LIMITS_UNAVAILABLE.inc()
        now = datetime.now(UTC).timestamp()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("rate-limit store unreachable (%s): limits are off until it is back", exc)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        try:
            await self._inner.set(key, value, expires_in)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self._warn(exc)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        try:
            return await self._inner.get(key, renew_for)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self._warn(exc)
            return None

    async def record_requests(
        self, budgets: Sequence[Budget], *, now: int, window: int
    ) -> list[Usage] | None:
        """None when Redis is unreachable: the caller lets the request through (fail open)."""
        try:
            return await self._inner.record_requests(budgets, now=now, window=window)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self._warn(exc)
            return None

    async def delete(self, key: str) -> None:
        await self._inner.delete(key)

    async def delete_all(self) -> None:
        await self._inner.delete_all()

    async def exists(self, key: str) -> bool:
        return await self._inner.exists(key)

    async def expires_in(self, key: str) -> int | None:
        return await self._inner.expires_in(key)
