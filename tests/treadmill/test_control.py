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
from custom_components.treadreverse.treadmill.ftms import ControlOpcode
from custom_components.treadreverse.treadmill.simulator import BeltState

from .conftest import Factory, start_task

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
