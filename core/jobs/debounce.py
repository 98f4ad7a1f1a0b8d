"""At most one job per key per window: many votes in a second request one scoring run, not thousands."""

from __future__ import annotations

import threading
import time

import redis


class Debouncer:
    """Redis SET NX PX across every API process in production; a per-process table in embedded mode.

    The per-process table is also consulted first in production, so that within a window only the first
    request of each process pays the Redis round trip."""

    def __init__(self, redis_url: str) -> None:
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1) if redis_url else None
        )
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def recently_sent(self, key: str) -> bool:
        """True when this process sent (or saw sent) the key within its window: no I/O."""
        return self._until.get(key, 0.0) > time.monotonic()

    def acquire(self, key: str, seconds: float) -> bool:
        """True when the caller should send the job now; False when one was sent within the window."""
        now = time.monotonic()
        with self._lock:
            if self._until.get(key, 0.0) > now:
                return False
            self._until[key] = now + seconds
            if len(self._until) > 10_000:  # forget expired keys now and then
                self._until = {k: v for k, v in self._until.items() if v > now}
        if self._redis is not None:
            window_ms = max(1, int(seconds * 1000))
            return bool(self._redis.set(f"ovation:debounce:{key}", b"1", nx=True, px=window_ms))
        return True

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
