"""Machine statuses: the replay window, and our own statuses arriving late or out of order."""

from __future__ import annotations

import pytest

from custom_components.treadreverse.treadmill.base import MachineEvent, MachineEventType
from custom_components.treadreverse.treadmill.client import ECHO_LIFETIME, ECHO_WINDOW
from custom_components.treadreverse.treadmill.clock import ManualClock, settle
from custom_components.treadreverse.treadmill.ftms import MachineStatusCode
from custom_components.treadreverse.treadmill.simulator import (
    SimulatedTreadmill,
    create_simulated_treadmill,
)

from .conftest import Factory, Recorder, run

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


async def test_a_replayed_pause_already_seen_is_old_news(
    simulated: Factory, clock: ManualClock
) -> None:
    # The pause the last link ended on, replayed on the new link with the belt at rest, is
    # not reported again: it would end the start that opened the link as a console stop.
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.console_start()
    sim.console_pause()
    await clock.advance(5)
    await treadmill.disconnect()
    recorder.clear()
    await treadmill.connect()
    await clock.advance(2)
    assert recorder.events == [MachineEvent(E.CONNECTED)]


async def test_a_replayed_stop_not_seen_before_is_reported(
    simulated: Factory, clock: ManualClock
) -> None:
    # The person started and stopped the belt on the console while no link was up: the
    # replayed stop is news (a needless stop beats a hidden one).
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.console_start()
    await clock.advance(5)
    await treadmill.disconnect()
    sim.console_stop()
    recorder.clear()
    await treadmill.connect()
    await clock.advance(2)
    assert E.STOPPED in recorder.types() or E.PAUSED in recorder.types()


async def _learn_echoes(treadmill: SimulatedTreadmill, clock: ManualClock) -> None:
    """Start and pause once: the machine shows it confirms starts and pauses."""
    await clock.advance(1.5)  # past the replay window
    await run(treadmill.start())
    await run(treadmill.pause())


async def test_our_late_start_status_is_not_a_console_start(
    simulated: Factory, clock: ManualClock
) -> None:
    # A console that counts down before the belt moves confirms the start late.
    treadmill, recorder = await simulated()
    await _learn_echoes(treadmill, clock)
    treadmill.simulator.delay_status(MachineStatusCode.STARTED_OR_RESUMED, 6.0)
    await run(treadmill.start())
    await clock.advance(8)
    assert recorder.types() == [E.CONNECTED]


async def test_our_start_status_after_our_pause_status(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    await _learn_echoes(treadmill, clock)
    treadmill.simulator.delay_status(MachineStatusCode.STARTED_OR_RESUMED, 1.0)
    await run(treadmill.start())
    await run(treadmill.pause())
    await clock.advance(2)
    assert recorder.types() == [E.CONNECTED]


async def test_our_start_status_after_a_console_pause(
    simulated: Factory, clock: ManualClock
) -> None:
    # The person pauses during the countdown; our start's status comes after theirs.
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await _learn_echoes(treadmill, clock)
    sim.delay_status(MachineStatusCode.STARTED_OR_RESUMED, 1.0)
    await run(treadmill.start())
    sim.console_pause()
    await clock.advance(2)
    assert recorder.types() == [E.CONNECTED, E.PAUSED]
    # The person's own start after that is theirs, and reported.
    sim.console_start()
    await clock.advance(0.1)
    assert recorder.types() == [E.CONNECTED, E.PAUSED, E.STARTED]


async def test_console_start_after_our_start_status_went_missing(
    simulated: Factory, clock: ManualClock
) -> None:
    # Even on a machine that confirms starts, an unconfirmed start is expected for 30 s at most.
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await _learn_echoes(treadmill, clock)
    sim.delay_status(MachineStatusCode.STARTED_OR_RESUMED, 100.0)  # as good as lost
    await run(treadmill.start())
    await run(treadmill.pause())
    await clock.advance(ECHO_LIFETIME)
    sim.console_start()
    await clock.advance(0.1)
    assert recorder.types() == [E.CONNECTED, E.STARTED]


async def test_console_start_on_firmware_without_echoes(
    simulated: Factory, clock: ManualClock
) -> None:
    # A machine that never confirmed a start: ours is expected for the 5 s window only.
    treadmill, recorder = await simulated(echo_status=False)
    sim = treadmill.simulator
    await clock.advance(1.5)
    await run(treadmill.start())
    await run(treadmill.pause())
    await clock.advance(ECHO_WINDOW + 0.5)
    sim.console_start()
    await clock.advance(0.1)
    assert recorder.types() == [E.CONNECTED, E.STARTED]


async def test_first_start_confirmed_late_is_taken_for_the_person(
    simulated: Factory, clock: ManualClock
) -> None:
    # The known limit: with no start confirmed yet, a status after 5 s cannot be told
    # from the person's own start, and a console action is never hidden for longer.
    treadmill, recorder = await simulated()
    await clock.advance(1.5)
    treadmill.simulator.delay_status(MachineStatusCode.STARTED_OR_RESUMED, 6.0)
    await run(treadmill.start())
    await clock.advance(8)
    assert recorder.types() == [E.CONNECTED, E.STARTED]
