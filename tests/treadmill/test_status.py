"""Machine statuses: the replay window, and our own statuses arriving late or out of order."""

from __future__ import annotations

import pytest

from custom_components.treadreverse.treadmill.base import MachineEvent, MachineEventType
from custom_components.treadreverse.treadmill.clock import ManualClock, settle
from custom_components.treadreverse.treadmill.simulator import create_simulated_treadmill

from .conftest import Factory, Recorder

E = MachineEventType


@pytest.mark.parametrize(
    ("press", "event"), [("console_pause", E.PAUSED), ("console_stop", E.STOPPED)]
)
async def test_console_stop_or_pause_right_after_connecting_is_reported(
    clock: ManualClock, press: str, event: MachineEventType
) -> None:
    # A person's stop or pause in the first second must not pass for a stale replay.
    treadmill = create_simulated_treadmill(clock)
    recorder = Recorder(treadmill)
    await treadmill.connect()
    await clock.advance(0.5)
    getattr(treadmill.simulator, press)()
    await clock.advance(0.1)
    assert recorder.types() == [E.CONNECTED, event]
    await treadmill.disconnect()
    treadmill.simulator.close()
    await settle()


async def test_replayed_stop_or_pause_is_reported_again(
    simulated: Factory, clock: ManualClock
) -> None:
    # The replay of an old pause is reported again: a needless pause beats a hidden one.
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.console_start()
    sim.console_pause()
    await clock.advance(1)
    await treadmill.disconnect()
    recorder.clear()
    await treadmill.connect()
    await clock.advance(2)
    assert recorder.events == [MachineEvent(E.CONNECTED), MachineEvent(E.PAUSED)]
