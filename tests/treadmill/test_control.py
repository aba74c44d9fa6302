"""Stop, control and the order on the wire, through the simulator (50 ms per reply)."""

from __future__ import annotations

import pytest

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.base import (
    CommandError,
    CommandFailure,
    MachineEventType,
)
from custom_components.treadreverse.treadmill.clock import ManualClock
from custom_components.treadreverse.treadmill.ftms import ControlOpcode, ResultCode
from custom_components.treadreverse.treadmill.simulator import BeltState

from .conftest import Factory, run, start_task

E = MachineEventType
CONTROL = ftms.request_control()


async def test_stop_while_requesting_control(simulated: Factory, clock: ManualClock) -> None:
    # Finding 2: a start popped from the queue waits for control; a stop comes meanwhile.
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 1.0)
    start = start_task(treadmill.start())
    await clock.advance(0.01)
    assert sim.writes == [CONTROL]  # the start's control request is in flight
    stop = start_task(treadmill.stop())
    await clock.advance(2)
    # One control request, then the stop; the start submitted before it is never written.
    assert sim.writes == [CONTROL, ftms.stop()]
    assert stop.done()
    stop.result()
    with pytest.raises(CommandError) as err:
        start.result()
    assert err.value.failure is CommandFailure.SUPERSEDED
    assert sim.state is BeltState.STOPPED
    await clock.advance(10)
    assert sim.writes == [CONTROL, ftms.stop()]
    assert not sim.belt_running


async def test_commands_after_a_stop_follow_it(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 1.0)
    stop = start_task(treadmill.stop())
    await clock.advance(0.01)
    later = start_task(treadmill.set_speed(2.0))
    await clock.advance(2)
    stop.result()
    later.result()
    # Submitted after the stop: written after it, on the control the stop asked for.
    assert sim.writes == [CONTROL, ftms.stop(), ftms.set_target_speed(2.0)]
    assert not sim.belt_running


async def test_commands_share_a_control_request_in_flight(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.pause())
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 1.0)
    sim.drop_link()
    sim.writes.clear()
    await clock.advance(3.01)  # reconnected; control re-requested, its answer pending
    assert treadmill.connected
    speed = start_task(treadmill.set_speed(2.0))
    await clock.advance(2)
    speed.result()
    assert sim.writes == [CONTROL, ftms.set_target_speed(2.0)]
    assert recorder.types()[-1] == E.CONNECTED


async def test_shared_control_request_refused(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.pause())
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 1.0)
    sim.reject_opcode(ControlOpcode.REQUEST_CONTROL, ResultCode.OPERATION_FAILED, times=1)
    sim.drop_link()
    await clock.advance(3.01)
    speed = start_task(treadmill.set_speed(2.0))
    await clock.advance(2)
    with pytest.raises(CommandError) as err:
        speed.result()
    assert err.value.command == "set_speed"
    assert err.value.failure is CommandFailure.OPERATION_FAILED


@pytest.mark.parametrize(
    ("command", "payload", "state"),
    [("stop", ftms.stop(), BeltState.STOPPED), ("pause", ftms.pause(), BeltState.PAUSED)],
)
async def test_refused_stop_or_pause_requests_control_and_retries(
    simulated: Factory, clock: ManualClock, command: str, payload: bytes, state: BeltState
) -> None:
    # Finding 20: the machine dropped our control without a word; the stop is refused.
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await clock.advance(3)
    sim.has_control = False
    sim.writes.clear()
    await run(getattr(treadmill, command)())
    assert sim.writes == [payload, CONTROL, payload]
    assert sim.state is state


async def test_stop_refused_twice_raises(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    sim.reject_opcode(ControlOpcode.STOP_OR_PAUSE, ResultCode.CONTROL_NOT_PERMITTED)
    sim.writes.clear()
    with pytest.raises(CommandError) as err:
        await run(treadmill.stop())
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    # Asked for control once and retried once: no loop.
    assert sim.writes == [ftms.stop(), CONTROL, ftms.stop()]


async def test_refused_start_is_not_retried(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.pause())
    sim.has_control = False
    sim.writes.clear()
    with pytest.raises(CommandError) as err:
        await run(treadmill.start())
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert sim.writes == [ftms.start_or_resume()]
    assert not sim.belt_running


@pytest.mark.parametrize("how", ["control_lost", "reset"])
async def test_control_taken_back_is_not_taken_again(
    simulated: Factory, clock: ManualClock, how: str
) -> None:
    # Finding 17: after the treadmill takes control back, only a stop or pause asks again.
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await clock.advance(3)
    if how == "reset":
        sim.written(ftms.CONTROL_POINT, ftms.reset())  # another central resets the machine
    else:
        sim.take_control_back()
    await clock.advance(0.1)
    assert recorder.types()[-1] == E.CONTROL_LOST
    sim.writes.clear()
    for command in (treadmill.set_speed(3.0), treadmill.set_incline(1.0), treadmill.start()):
        with pytest.raises(CommandError) as err:
            await run(command)
        assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert sim.writes == []


async def test_after_control_taken_back_stop_and_pause_still_ask(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await clock.advance(1.5)  # past the window of the replayed status
    await run(treadmill.start())
    assert not treadmill.control_taken_back
    sim.take_control_back()
    await clock.advance(0.1)
    assert treadmill.control_taken_back
    sim.writes.clear()
    await run(treadmill.pause())
    assert sim.writes == [CONTROL, ftms.pause()]
    assert sim.state is BeltState.PAUSED
    sim.take_control_back()
    await clock.advance(0.1)
    await run(treadmill.stop())
    assert sim.writes == [CONTROL, ftms.pause(), CONTROL, ftms.stop()]
    assert sim.state is BeltState.STOPPED
    # Holding control again for the stop does not end the taken-back state.
    assert treadmill.control_taken_back
    with pytest.raises(CommandError) as err:
        await run(treadmill.set_speed(2.0))
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED


async def test_request_control_ends_the_taken_back_state(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await clock.advance(1.5)  # past the window of the replayed status
    await run(treadmill.start())
    sim.take_control_back()
    await clock.advance(0.1)
    sim.writes.clear()
    sim.reject_opcode(ControlOpcode.REQUEST_CONTROL, ResultCode.CONTROL_NOT_PERMITTED, times=1)
    with pytest.raises(CommandError) as err:
        await run(treadmill.request_control())
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert treadmill.control_taken_back  # refused: still the console's
    await run(treadmill.request_control())
    assert not treadmill.control_taken_back
    await run(treadmill.set_speed(2.0))
    assert sim.writes == [CONTROL, CONTROL, ftms.set_target_speed(2.0)]
    # Asked explicitly even while we hold control.
    await run(treadmill.request_control())
    assert sim.writes[-1] == CONTROL


async def test_control_taken_back_while_a_command_is_queued(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await clock.advance(1.5)  # past the window of the replayed status
    await run(treadmill.start())
    sim.delay_indication(ControlOpcode.SET_TARGET_SPEED, 1.0)
    first = start_task(treadmill.set_speed(2.0))
    queued = start_task(treadmill.set_incline(1.0))
    await clock.advance(0.5)
    sim.take_control_back()
    await clock.advance(2)
    first.result()  # written before control was taken back
    with pytest.raises(CommandError) as err:
        queued.result()
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert ftms.set_target_inclination(1.0) not in sim.writes


async def test_no_control_request_on_reconnect_after_control_taken_back(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await clock.advance(1.5)  # past the window of the replayed status
    await run(treadmill.start())
    sim.take_control_back()
    await clock.advance(0.1)
    await run(treadmill.pause())  # control asked again to pause: we hold it now
    sim.writes.clear()
    sim.drop_link()
    await clock.advance(3.5)
    # The pause the last link ended on, replayed on the new one: old news, not reported.
    assert recorder.types()[-2:] == [E.DISCONNECTED, E.CONNECTED]
    assert sim.writes == []
    assert treadmill.control_taken_back


async def test_stale_control_lost_is_not_taken_back(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await clock.advance(1.5)  # past the window of the replayed status
    await run(treadmill.start())
    sim.take_control_back()
    await clock.advance(0.1)
    await run(treadmill.request_control())
    await treadmill.disconnect()
    recorder.clear()
    await treadmill.connect()  # the machine replays its last status: "control lost"
    await clock.advance(2)
    assert recorder.types() == [E.CONNECTED]
    assert not treadmill.control_taken_back
    sim.writes.clear()
    await run(treadmill.set_speed(2.0))
    assert sim.writes == [CONTROL, ftms.set_target_speed(2.0)]


async def test_stop_while_a_start_waits_with_replies_reordered(
    simulated: Factory, clock: ManualClock
) -> None:
    # The start's replies are held back; the stop's come first, then the start's.
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await clock.advance(1.5)
    await run(treadmill.pause())
    sim.reorder_next_replies()
    start = start_task(treadmill.start())
    await clock.advance(0.2)
    assert not start.done()
    await run(treadmill.stop())
    await clock.advance(0.2)
    start.result()  # written before the stop: it was carried out, then stopped
    assert sim.writes[-2:] == [ftms.start_or_resume(), ftms.stop()]
    assert sim.state is BeltState.STOPPED
    # Both statuses were ours, whatever their order: no console event.
    assert recorder.types() == [E.CONNECTED]
