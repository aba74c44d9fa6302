"""The FTMS client end to end against the simulated peripheral, on virtual time."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.treadreverse.programme.interlock import Interlock, Origin
from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.base import (
    CommandError,
    CommandFailure,
    DataField,
    MachineEvent,
    MachineEventType,
    Range,
    TreadmillConnectionError,
)
from custom_components.treadreverse.treadmill.client import (
    DEFAULT_INCLINE_RANGE,
    DEFAULT_SPEED_RANGE,
)
from custom_components.treadreverse.treadmill.clock import ManualClock, settle
from custom_components.treadreverse.treadmill.ftms import ControlOpcode, ResultCode
from custom_components.treadreverse.treadmill.simulator import (
    BeltState,
    create_simulated_treadmill,
)

from .conftest import Factory, Recorder, run, start_task

E = MachineEventType
CONTROL = ftms.request_control()


async def test_connect_reads_capabilities(simulated: Factory) -> None:
    treadmill, recorder = await simulated()
    assert treadmill.connected
    caps = treadmill.capabilities
    assert caps.controllable
    assert caps.speed == Range(0.5, 12.0, 0.1)
    assert caps.incline == Range(0.0, 12.0, 0.5)
    assert caps.fields == set(DataField)
    assert recorder.types() == [E.CONNECTED]
    # Control is requested before the first command, not on connect.
    assert treadmill.simulator.writes == []
    assert treadmill.training_status == ftms.TrainingStatus(ftms.TrainingStatusCode.IDLE)


async def test_notifications_at_one_hertz(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    await clock.advance(5)
    assert len(recorder.data) == 5
    assert recorder.data[-1].speed == 0.0
    assert treadmill.data is recorder.data[-1]
    await clock.advance(0.5)
    assert len(recorder.data) == 5


async def test_start_requests_control_then_ramps(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.set_speed(3.0))
    # A speed command never starts a stopped belt: it is stored for the start.
    await clock.advance(3)
    assert not sim.belt_running
    assert sim.writes == [CONTROL, ftms.set_target_speed(3.0)]
    await run(treadmill.start())
    await clock.advance(1)
    assert 0.6 <= sim.belt_speed <= 0.9  # ~0.8 km/h per s, a motor's rate
    await clock.advance(4)
    assert sim.belt_speed == 3.0
    assert treadmill.data.speed == 3.0
    assert treadmill.data.distance is not None
    assert treadmill.data.distance > 0
    assert treadmill.data.heart_rate is not None
    assert treadmill.data.steps is not None
    assert treadmill.data.steps > 0
    # Our own commands are confirmed by statuses that are NOT console events.
    assert recorder.types() == [E.CONNECTED]


async def test_start_without_target_uses_minimum(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    await run(treadmill.start())
    await clock.advance(3)
    assert treadmill.simulator.belt_speed == 0.5


async def test_own_speed_and_incline_changes_are_not_console_events(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    await run(treadmill.start())
    await run(treadmill.set_speed(4.0))
    await run(treadmill.set_incline(2.0))
    await run(treadmill.set_speed(3.14))  # the machine rounds to 3.1 and says so
    await clock.advance(10)
    assert treadmill.simulator.incline == 2.0
    assert treadmill.data.incline == 2.0
    assert treadmill.data.elevation_gain is not None
    assert treadmill.data.elevation_gain > 0
    assert recorder.types() == [E.CONNECTED]


async def test_console_actions_publish_events(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await run(treadmill.set_speed(3.0))
    await clock.advance(2)
    recorder.clear()
    sim.console_set_speed(3.5)
    sim.console_set_incline(1.0)
    sim.console_pause()
    sim.console_start()
    sim.console_stop()
    await clock.advance(0)
    assert recorder.events == [
        MachineEvent(E.TARGET_SPEED_CHANGED, 3.5),
        MachineEvent(E.TARGET_INCLINE_CHANGED, 1.0),
        MachineEvent(E.PAUSED),
        MachineEvent(E.STARTED),
        MachineEvent(E.STOPPED),
    ]


async def test_console_change_to_our_value_after_window_is_an_event(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    await run(treadmill.set_speed(3.0))
    await clock.advance(10)
    treadmill.simulator.console_set_speed(3.0)
    await clock.advance(0)
    assert recorder.events[-1] == MachineEvent(E.TARGET_SPEED_CHANGED, 3.0)


async def test_safety_key_stops_dead(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await run(treadmill.set_speed(4.0))
    await clock.advance(8)
    sim.safety_key()
    assert sim.belt_speed == 0.0
    assert sim.state is BeltState.STOPPED
    await clock.advance(1)
    assert recorder.types()[-1] == E.SAFETY_KEY
    assert treadmill.data.speed == 0.0


async def test_control_taken_back(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await clock.advance(2)
    sim.take_control_back()
    await clock.advance(0)
    assert recorder.types()[-1] == E.CONTROL_LOST
    sim.writes.clear()
    await run(treadmill.pause())
    # Control is requested again before the next command.
    assert sim.writes == [CONTROL, ftms.pause()]
    assert sim.state is BeltState.PAUSED


async def test_reset_by_another_app_is_control_lost(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    await run(treadmill.start())
    sim = treadmill.simulator
    # Another central on the same machine sends Reset: our control is gone.
    await clock.advance(2)
    sim.written(ftms.CONTROL_POINT, ftms.reset())
    await clock.advance(0.1)
    assert recorder.types()[-1] == E.CONTROL_LOST
    assert not sim.has_control


@pytest.mark.parametrize(
    ("result", "failure"),
    [
        (ResultCode.NOT_SUPPORTED, CommandFailure.NOT_SUPPORTED),
        (ResultCode.INVALID_PARAMETER, CommandFailure.INVALID_PARAMETER),
        (ResultCode.OPERATION_FAILED, CommandFailure.OPERATION_FAILED),
        (ResultCode.CONTROL_NOT_PERMITTED, CommandFailure.CONTROL_NOT_PERMITTED),
        (0x09, CommandFailure.OPERATION_FAILED),
    ],
)
async def test_rejected_opcode(simulated: Factory, result: int, failure: CommandFailure) -> None:
    treadmill, recorder = await simulated()
    treadmill.simulator.reject_opcode(ControlOpcode.START_OR_RESUME, result, times=1)  # type: ignore[arg-type]
    with pytest.raises(CommandError) as err:
        await run(treadmill.start())
    assert err.value.failure is failure
    assert err.value.command == "start"
    assert not treadmill.simulator.belt_running
    await run(treadmill.start())
    assert treadmill.simulator.state is BeltState.RUNNING
    assert recorder.types() == [E.CONNECTED]


async def test_control_refused(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.reject_opcode(ControlOpcode.REQUEST_CONTROL, ResultCode.CONTROL_NOT_PERMITTED)
    with pytest.raises(CommandError) as err:
        await run(treadmill.start())
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert sim.writes == [CONTROL]
    sim.clear_faults()
    await run(treadmill.start())
    assert sim.state is BeltState.RUNNING


async def test_lost_indication_times_out(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    treadmill.simulator.lose_indication(ControlOpcode.START_OR_RESUME)
    task = start_task(treadmill.start())
    await clock.advance(4.9)
    assert not task.done()
    await clock.advance(0.2)
    with pytest.raises(CommandError) as err:
        task.result()
    assert err.value.failure is CommandFailure.TIMEOUT
    # The machine did start: the indication was lost, not the request.
    assert treadmill.simulator.state is BeltState.RUNNING


async def test_delayed_indication(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.delay_indication(ControlOpcode.SET_TARGET_SPEED, 2.0)
    task = start_task(treadmill.set_speed(2.0))
    await clock.advance(1.9)
    assert not task.done()
    await clock.advance(0.2)
    assert task.done()
    task.result()
    sim.delay_indication(ControlOpcode.SET_TARGET_SPEED, 8.0)
    late = start_task(treadmill.set_speed(2.5))
    await clock.advance(10)
    with pytest.raises(CommandError) as err:
        late.result()
    assert err.value.failure is CommandFailure.TIMEOUT


async def test_garbled_packet_is_skipped(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    treadmill.simulator.garble_next_notification()
    await clock.advance(1)
    assert recorder.data == []
    await clock.advance(1)
    assert len(recorder.data) == 1


async def test_garbled_status_and_response_are_skipped(simulated: Factory) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim._notify(ftms.MACHINE_STATUS, b"\x05")
    sim._notify(ftms.CONTROL_POINT, b"\x80")
    sim._notify(ftms.CONTROL_POINT, bytes.fromhex("800701"))  # nobody waits for it
    sim._notify(ftms.TRAINING_STATUS, b"\x00")
    sim._notify(ftms.MACHINE_STATUS, b"\x42")  # a status we do not report
    await settle(20)
    assert recorder.types() == [E.CONNECTED]
    assert treadmill.connected


async def test_stop_jumps_a_stuck_queue(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await run(treadmill.set_speed(4.0))
    await clock.advance(6)
    assert sim.belt_speed == 4.0
    sim.lose_indication(ControlOpcode.SET_TARGET_SPEED)
    stuck = start_task(treadmill.set_speed(5.0))
    queued_speed = start_task(treadmill.set_speed(6.0))
    queued_incline = start_task(treadmill.set_incline(3.0))
    await settle(50)
    assert not stuck.done()
    # Stop reaches the belt at once, without waiting for the stuck command's timeout.
    await run(treadmill.stop())
    assert sim.state is BeltState.STOPPED
    for task in (queued_speed, queued_incline):
        with pytest.raises(CommandError) as err:
            task.result()
        assert err.value.failure is CommandFailure.SUPERSEDED
    assert ftms.set_target_speed(6.0) not in sim.writes
    await clock.advance(5)
    with pytest.raises(CommandError) as err:
        stuck.result()
    assert err.value.failure is CommandFailure.TIMEOUT
    assert sim.belt_speed == 0.0
    assert E.STOPPED not in recorder.types()


async def test_pause_jumps_a_stuck_command(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await run(treadmill.set_speed(4.0))
    sim.lose_indication(ControlOpcode.SET_TARGET_INCLINATION)
    stuck = start_task(treadmill.set_incline(2.0))
    await settle(50)
    assert not stuck.done()
    # The pause reaches the belt at once, not after the stuck command's reply timeout.
    await run(treadmill.pause())
    assert sim.state is BeltState.PAUSED
    await clock.advance(6)
    with pytest.raises(CommandError) as err:
        stuck.result()
    assert err.value.failure is CommandFailure.TIMEOUT


async def test_a_pause_supersedes_a_start_waiting_for_control(
    simulated: Factory, clock: ManualClock
) -> None:
    """A pause jumps the queue; a start handed over before it is never written after it.

    The start waits for the reply to its control request; the pause, written at once,
    reaches the machine first. Written afterwards, the start would run the belt the
    person (or a turn's timeout) had just paused.
    """
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 2.0)
    start = start_task(treadmill.start())
    await settle(50)
    assert not start.done()
    pause = start_task(treadmill.pause())
    await clock.advance(3)
    await settle(50)
    pause.result()
    with pytest.raises(CommandError) as err:
        start.result()
    assert err.value.failure is CommandFailure.SUPERSEDED
    assert ftms.start_or_resume() not in sim.writes
    assert sim.state is not BeltState.RUNNING
    # A start asked for after the pause goes out as usual.
    await run(treadmill.start())
    assert sim.state is BeltState.RUNNING


@pytest.mark.parametrize("halt", ["console_pause", "console_stop"])
async def test_a_console_halt_supersedes_a_start_waiting_for_control(
    simulated: Factory, clock: ManualClock, halt: str
) -> None:
    """The person's pause or stop on the console wins over a start of ours still waiting.

    Written once control is granted, the start would run the belt they just halted
    (rules 7 and 10; found by an adversarial review of the pause's epoch).
    """
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 2.0)
    start = start_task(treadmill.start())
    await settle(50)
    getattr(sim, halt)()
    await clock.advance(3)
    await settle(50)
    with pytest.raises(CommandError) as err:
        start.result()
    assert err.value.failure is CommandFailure.SUPERSEDED
    assert ftms.start_or_resume() not in sim.writes
    assert sim.state is not BeltState.RUNNING


async def test_a_pause_that_lowers_first_supersedes_a_start_waiting_for_control(
    simulated: Factory, clock: ManualClock
) -> None:
    """Rule 11's pause lowers the stored speed first: a start still waiting never slips out.

    The lowering queues behind the waiting start; without the interlock dropping that
    start at once, the machine got START, then the lowering, then the pause: the belt
    started as Home Assistant was leaving.
    """
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    lock = Interlock(treadmill, clock, max_backward_speed=2.0, may_move=lambda: True)
    await clock.advance(5)  # past the subscription's replay window
    sim.console_set_speed(3.0)
    await clock.advance(0.2)
    await settle(50)
    assert lock.stored_target == 3.0
    sim.delay_indication(ControlOpcode.REQUEST_CONTROL, 2.0)
    start = start_task(treadmill.start())
    await settle(50)
    before = len(sim.writes)
    pause = start_task(lock.pause(Origin.SAFETY, lower_to=1.0))
    for _ in range(100):
        await clock.advance(0.05)
        await settle(5)
    pause.result()
    assert ftms.start_or_resume() not in sim.writes[before:]
    assert sim.state is not BeltState.RUNNING
    assert start.done()
    lock.close()


async def test_stop_answered_first_when_a_pause_indication_is_lost(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    sim.lose_indication(ControlOpcode.STOP_OR_PAUSE)
    pause = start_task(treadmill.pause())
    await settle(50)
    sim.clear_faults()
    await run(treadmill.stop())
    assert sim.state is BeltState.STOPPED
    await clock.advance(6)
    with pytest.raises(CommandError):
        pause.result()


async def test_stop_requests_control_first(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    sim.console_start()
    await run(treadmill.stop())
    assert sim.writes == [CONTROL, ftms.stop()]
    assert sim.state is BeltState.STOPPED


async def test_stop_failure_raises(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    treadmill.simulator.reject_opcode(ControlOpcode.STOP_OR_PAUSE)
    await run(treadmill.start())
    with pytest.raises(CommandError) as err:
        await run(treadmill.stop())
    assert err.value.failure is CommandFailure.OPERATION_FAILED


async def test_link_loss_fails_pending_commands_at_once(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    sim.lose_indication(ControlOpcode.SET_TARGET_SPEED)
    stuck = start_task(treadmill.set_speed(3.0))
    queued = start_task(treadmill.set_incline(1.0))
    await settle(50)
    sim.drop_link()
    await settle(20)
    for task in (stuck, queued):
        with pytest.raises(CommandError) as err:
            task.result()
        assert err.value.failure is CommandFailure.DISCONNECTED
    assert recorder.types()[-1] == E.DISCONNECTED
    assert not treadmill.connected
    with pytest.raises(CommandError) as err:
        await treadmill.start()
    assert err.value.failure is CommandFailure.DISCONNECTED
    # The stop cannot reach the treadmill: it says so, so that HA can tell the person.
    with pytest.raises(CommandError) as err:
        await treadmill.stop()
    assert err.value.failure is CommandFailure.DISCONNECTED


async def test_reconnect_without_motion(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    await run(treadmill.set_speed(3.0))
    await run(treadmill.pause())
    await clock.advance(5)
    assert not sim.belt_running
    sim.drop_link_in(1.0)
    await clock.advance(1.5)
    assert recorder.types()[-1] == E.DISCONNECTED
    sim.writes.clear()
    await clock.advance(3)
    assert treadmill.connected
    assert recorder.types()[-1] == E.CONNECTED
    # Only control is re-requested: no speed, no start.
    assert sim.writes == [CONTROL]
    await clock.advance(30)
    assert sim.writes == [CONTROL]
    assert not sim.belt_running
    assert sim.state is BeltState.PAUSED
    # The "paused" status replayed on subscription is the one the last link ended on,
    # the belt at rest: old news, not reported; nothing else is either.
    assert recorder.types()[-2:] == [E.DISCONNECTED, E.CONNECTED]
    await run(treadmill.start())
    assert sim.writes == [CONTROL, ftms.start_or_resume()]


async def test_reconnect_without_control_requests_nothing(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.drop_link()
    await clock.advance(3)
    assert treadmill.connected
    assert sim.writes == []
    assert recorder.types() == [E.CONNECTED, E.DISCONNECTED, E.CONNECTED]


async def test_reconnect_control_refused_still_connects(
    simulated: Factory, clock: ManualClock
) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    sim.reject_opcode(ControlOpcode.REQUEST_CONTROL, ResultCode.CONTROL_NOT_PERMITTED)
    sim.drop_link()
    await clock.advance(3.1)
    assert treadmill.connected
    assert recorder.types()[-1] == E.CONNECTED


async def test_reconnect_backoff(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.reachable = False
    attempts = sim.connect_attempts
    sim.drop_link()
    for delay in (3, 10, 30, 60, 60):
        await clock.advance(delay - 0.1)
        assert sim.connect_attempts == attempts
        await clock.advance(0.1)
        attempts += 1
        assert sim.connect_attempts == attempts
    sim.reachable = True
    await clock.advance(60)
    assert treadmill.connected
    assert recorder.types()[-1] == E.CONNECTED


async def test_disconnect_stops_reconnecting(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.reachable = False
    sim.drop_link()
    await clock.advance(3)
    attempts = sim.connect_attempts
    await treadmill.disconnect()
    await treadmill.disconnect()
    await clock.advance(300)
    assert sim.connect_attempts == attempts
    assert not treadmill.connected
    assert recorder.types() == [E.CONNECTED, E.DISCONNECTED]


async def test_connect_on_demand(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated(keep_connected=False)
    sim = treadmill.simulator
    await run(treadmill.start())
    await treadmill.disconnect()
    assert not treadmill.connected
    assert not sim.connected
    assert recorder.types() == [E.CONNECTED, E.DISCONNECTED]
    await asyncio.gather(treadmill.connect(), treadmill.connect())
    assert sim.connect_attempts == 2
    sim.writes.clear()
    await run(treadmill.pause())
    # A fresh connection: control requested again before the first command.
    assert sim.writes == [CONTROL, ftms.pause()]
    await asyncio.gather(treadmill.disconnect(), treadmill.disconnect())
    assert recorder.types() == [E.CONNECTED, E.DISCONNECTED, E.CONNECTED, E.DISCONNECTED]


async def test_connect_failure(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock, keep_connected=False)
    treadmill.simulator.reachable = False
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()
    await clock.advance(100)
    assert treadmill.simulator.connect_attempts == 1
    await treadmill.disconnect()


async def test_connect_failure_keeps_trying(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock)
    recorder = Recorder(treadmill)
    treadmill.simulator.reachable = False
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()
    treadmill.simulator.reachable = True
    await clock.advance(3)
    assert treadmill.connected
    assert recorder.types() == [E.CONNECTED]
    await treadmill.connect()  # already connected: nothing happens
    assert treadmill.simulator.connect_attempts == 2
    await treadmill.disconnect()
    await settle(20)


async def test_read_only_treadmill(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated(control_point=False)
    caps = treadmill.capabilities
    assert not caps.controllable
    assert caps.speed == Range(0.5, 12.0, 0.1)
    for command in (treadmill.start(), treadmill.stop(), treadmill.set_speed(2.0)):
        with pytest.raises(CommandError) as err:
            await command
        assert err.value.failure is CommandFailure.NOT_CONTROLLABLE
    await clock.advance(2)
    treadmill.simulator.console_start()
    await clock.advance(3)
    assert recorder.types()[-1] == E.STARTED
    assert treadmill.data.speed is not None
    assert treadmill.data.speed > 0


async def test_minimal_treadmill(simulated: Factory, clock: ManualClock) -> None:
    # No ranges, no status, no training status: defaults, and everything still works.
    treadmill, recorder = await simulated(optional_characteristics=False)
    caps = treadmill.capabilities
    assert caps.speed == DEFAULT_SPEED_RANGE
    assert caps.incline == DEFAULT_INCLINE_RANGE
    assert treadmill.training_status is None
    await run(treadmill.start())
    await run(treadmill.set_speed(2.0))
    treadmill.simulator.console_pause()
    await clock.advance(2)
    assert recorder.types() == [E.CONNECTED]
    assert len(recorder.data) == 2


async def test_no_incline_motor(simulated: Factory) -> None:
    treadmill, _ = await simulated(incline_range=None, heart_rate=False, steps=False)
    assert treadmill.capabilities.incline is None
    assert DataField.INCLINE not in treadmill.capabilities.fields
    assert DataField.STEPS not in treadmill.capabilities.fields
    with pytest.raises(CommandError) as err:
        await treadmill.set_incline(1.0)
    assert err.value.failure is CommandFailure.NOT_SUPPORTED


async def test_out_of_range_is_refused_not_clipped(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    for command in (treadmill.set_speed(12.5), treadmill.set_incline(-1.0)):
        with pytest.raises(CommandError) as err:
            await command
        assert err.value.failure is CommandFailure.INVALID_PARAMETER
    assert treadmill.simulator.writes == []


async def test_multi_packet_records_are_merged(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated(split_records=True)
    await run(treadmill.start())
    await clock.advance(5)
    assert len(recorder.data) == 5
    last = recorder.data[-1]
    assert last.speed == 0.5
    assert last.distance is not None
    assert last.elapsed == 4  # the belt started 0.1 s in: control, then start, 50 ms each
    assert last.heart_rate is not None


async def test_stale_status_replay_is_skipped(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.console_pause()
    sim.console_start()
    await clock.advance(1)
    await treadmill.disconnect()
    recorder.clear()
    await treadmill.connect()
    await clock.advance(2)
    assert recorder.types() == [E.CONNECTED]  # the replayed "started" is old news
    sim.console_start()
    await clock.advance(0)
    assert recorder.types() == [E.CONNECTED, E.STARTED]


async def test_stale_safety_key_is_reported(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    treadmill.simulator.safety_key()
    await clock.advance(1)
    await treadmill.disconnect()
    recorder.clear()
    await treadmill.connect()
    await clock.advance(1)
    # A replayed safety key may be old news, but hiding a real one would be worse.
    assert recorder.types() == [E.CONNECTED, E.SAFETY_KEY]


async def test_console_takes_over_firmware_without_echoes(
    simulated: Factory, clock: ManualClock
) -> None:
    # Firmware that never confirms our commands leaves their echoes pending: the
    # person's own stop and start right after must both be reported.
    treadmill, recorder = await simulated(echo_status=False)
    sim = treadmill.simulator
    await clock.advance(2)
    await run(treadmill.start())
    await run(treadmill.set_speed(3.0))
    sim.console_stop()
    sim.console_start()
    sim.console_set_speed(3.0)
    await clock.advance(0)
    assert recorder.types() == [
        E.CONNECTED,
        E.STOPPED,
        E.STARTED,
        E.TARGET_SPEED_CHANGED,
    ]


async def test_cancelled_command_is_not_sent(simulated: Factory, clock: ManualClock) -> None:
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    sim.lose_indication(ControlOpcode.SET_TARGET_SPEED)
    stuck = start_task(treadmill.set_speed(2.0))
    waiting = start_task(treadmill.set_incline(4.0))
    await settle(50)
    waiting.cancel()
    await clock.advance(6)
    assert stuck.done()
    assert waiting.cancelled()
    assert ftms.set_target_inclination(4.0) not in sim.writes
