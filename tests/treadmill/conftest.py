"""Fixtures for the treadmill layer: a manual clock and a simulated treadmill."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any

import pytest

from custom_components.treadreverse.treadmill.base import (
    LiveData,
    MachineEvent,
    MachineEventType,
    Treadmill,
)
from custom_components.treadreverse.treadmill.clock import ManualClock, settle
from custom_components.treadreverse.treadmill.simulator import (
    REALISTIC_LATENCY,
    SimulatedTreadmill,
    SimulatorConfig,
    create_simulated_treadmill,
)


class Recorder:
    """Collect what a treadmill publishes."""

    def __init__(self, treadmill: Treadmill) -> None:
        """Subscribe to data and events."""
        self.data: list[LiveData] = []
        self.events: list[MachineEvent] = []
        treadmill.subscribe(self.data.append, self.events.append)

    def types(self) -> list[MachineEventType]:
        """Return the event types received so far."""
        return [event.type for event in self.events]

    def clear(self) -> None:
        """Forget what was received."""
        self.data.clear()
        self.events.clear()


_CLOCKS: list[ManualClock] = []  # the current test's clock, for `run`


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """Return virtual time."""
    manual = ManualClock()
    _CLOCKS.append(manual)
    yield manual
    _CLOCKS.remove(manual)


type Factory = Callable[..., Awaitable[tuple[SimulatedTreadmill, Recorder]]]


@pytest.fixture
async def simulated(clock: ManualClock) -> AsyncIterator[Factory]:
    """Return a factory of connected simulated treadmills; disconnect them afterwards."""
    made: list[SimulatedTreadmill] = []

    async def make(
        *, keep_connected: bool = True, **config: Any
    ) -> tuple[SimulatedTreadmill, Recorder]:
        config.setdefault("latency", REALISTIC_LATENCY)  # every reply comes late
        treadmill = create_simulated_treadmill(
            clock, SimulatorConfig(**config), keep_connected=keep_connected
        )
        made.append(treadmill)
        recorder = Recorder(treadmill)
        await treadmill.connect()
        await settle(50)
        return treadmill, recorder

    yield make
    for treadmill in made:
        await treadmill.disconnect()
        treadmill.simulator.close()
    await settle(50)


REPLY_TIME = 0.5  # s of virtual time `run` lets pass for the simulator's replies


async def run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run a command and let every reply it causes arrive (the simulator has latency).

    Virtual time moves on in 10 ms steps until the command is done, at most REPLY_TIME.
    """
    task = asyncio.ensure_future(coro)
    await settle(100)
    waited = 0.0
    while not task.done() and _CLOCKS and waited < REPLY_TIME:
        await _CLOCKS[-1].advance(0.01)
        waited += 0.01
    assert task.done(), "the command is still waiting"
    return task.result()


def start_task[T](coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Start a command in the background."""
    return asyncio.ensure_future(coro)
