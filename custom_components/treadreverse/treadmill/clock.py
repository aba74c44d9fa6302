"""Injected time: a clock that tells the time and calls back at a UTC moment.

Nothing in the treadmill or programme layers reads loop.time() or sleeps for its
timing; it asks a Clock. In Home Assistant the clock is dt_util.utcnow plus HA's
event helpers; alone it is a LoopClock (real time) or a ManualClock (tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import heapq
import itertools
from typing import Protocol

type Cancel = Callable[[], None]


class Clock(Protocol):
    """Tell the time and schedule callbacks at absolute UTC times."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        ...

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Cancel:
        """Call back at `when` (at once if it has passed); return a cancel function."""
        ...


def call_later(clock: Clock, seconds: float, callback: Callable[[], None]) -> Cancel:
    """Call back `seconds` from now."""
    return clock.call_at(clock.now() + timedelta(seconds=seconds), callback)


async def sleep_until(clock: Clock, when: datetime) -> None:
    """Wait until the clock reaches `when`."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    cancel = clock.call_at(when, wake)
    try:
        await future
    finally:
        cancel()


async def wait_for[T](clock: Clock, awaitable: Awaitable[T], seconds: float) -> T:
    """Await with a timeout measured on the clock; raise TimeoutError when it runs out."""
    # Eager: a write inside starts now, not after everything else queued on the loop.
    task = asyncio.Task(_awaited(awaitable), loop=asyncio.get_running_loop(), eager_start=True)

    def expire() -> None:
        if not task.done():
            task.cancel("clock timeout")

    cancel = call_later(clock, seconds, expire)
    try:
        return await task
    except asyncio.CancelledError:
        if task.cancelled() and not _current_task_cancelling():
            raise TimeoutError from None
        raise
    finally:
        cancel()


async def _awaited[T](awaitable: Awaitable[T]) -> T:
    """Await anything awaitable (a Task needs a coroutine)."""
    return await awaitable


def _current_task_cancelling() -> bool:
    """Return whether the running task itself is being cancelled."""
    current = asyncio.current_task()
    return current is not None and current.cancelling() > 0


class LoopClock:
    """Real time on the running asyncio loop."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Cancel:
        """Call back at `when` using the loop's own timer."""
        loop = asyncio.get_running_loop()
        delay = (when - self.now()).total_seconds()
        handle = loop.call_at(loop.time() + max(delay, 0.0), callback)
        return handle.cancel


class ManualClock:
    """Virtual time for tests: nothing happens until `advance` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        """Start at a fixed moment."""
        self._now = start or datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()

    def now(self) -> datetime:
        """Return the virtual time."""
        return self._now

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Cancel:
        """Queue a callback at a virtual moment."""
        ident = next(self._ids)
        heapq.heappush(self._heap, (when, ident, callback))
        return lambda: self._cancelled.add(ident)

    async def advance(self, seconds: float) -> None:
        """Move time forward, running due callbacks in order and letting tasks run."""
        target = self._now + timedelta(seconds=seconds)
        await settle()
        while self._heap and self._heap[0][0] <= target:
            when, ident, callback = heapq.heappop(self._heap)
            if ident in self._cancelled:
                self._cancelled.discard(ident)
                continue
            self._now = max(self._now, when)
            callback()
            await settle()
        self._now = target
        await settle()


async def settle(rounds: int = 20) -> None:
    """Let ready tasks and callbacks on the loop run."""
    for _ in range(rounds):
        await asyncio.sleep(0)
