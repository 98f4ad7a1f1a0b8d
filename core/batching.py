"""Micro-batches: concurrent callers of one process share one database round trip and one commit.

Written here rather than taken from a library: what the vote path needs is small (an asyncio future per
caller, a bounded number of batches in flight, a short wait for company) and the candidates on PyPI are
DataLoader ports keyed by id, which would de-duplicate identical votes instead of judging each one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# A batch returns, per item and in order, its result or the exception to raise to that item's caller.
BatchRunner = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class MicroBatcher(Generic[T, R]):
    """``await submit(item)`` returns the item's own result once its batch has run.

    A batch starts as soon as fewer than ``max_in_flight`` batches are running, after waiting up to
    ``max_wait`` seconds for more items while it is not full: items that arrive while the database works on
    one batch form the next. Under light load a caller waits at most ``max_wait``; under heavy load batches
    grow towards ``max_size`` and the round trips and commits per item fall accordingly.
    """

    def __init__(
        self, run: BatchRunner[T, R], *, max_size: int = 64, max_wait: float = 0.001, max_in_flight: int = 2
    ) -> None:
        self._run = run
        self._max_size = max(1, max_size)
        self._max_wait = max(0.0, max_wait)
        self._max_in_flight = max(1, max_in_flight)
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # What the benchmark reads: how many batches ran and how many items they carried.
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                if len(self._queue) < self._max_size and self._max_wait > 0:
                    await asyncio.sleep(self._max_wait)
                batch, self._queue = self._queue[: self._max_size], self._queue[self._max_size :]
                if batch:
                    await self._run_one(batch)
        finally:
            self._in_flight -= 1

    async def _run_one(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            outcomes = await self._run([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} returned {len(outcomes)} results")
        except BaseException as failure:  # every caller of the batch learns of it, then it goes on
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            if not isinstance(failure, Exception):
                raise
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the caller went away (client disconnected): nobody to tell
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def close(self) -> None:
        """Wait for the batches already running (the app stops after its last answer)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
