"""The simulated treadmill itself: a hostile, realistic machine, driven with raw FTMS bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.clock import ManualClock
from custom_components.treadreverse.treadmill.ftms import (
    ControlOpcode,
    MachineStatus,
    MachineStatusCode,
    ResultCode,
)
from custom_components.treadreverse.treadmill.simulator import (
    REALISTIC_LATENCY,
    REORDER_HOLD,
    WRITES_KEPT,
    BeltState,
    SimulatedBleakClient,
    SimulatedFtmsPeripheral,
    SimulatorConfig,
)

STARTED = MachineStatus(MachineStatusCode.STARTED_OR_RESUMED)
PAUSED = MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, ftms.PAUSE)


class Central:
    """A raw central: writes bytes and records every reply in arrival order."""

    def __init__(self, sim: SimulatedFtmsPeripheral, client: SimulatedBleakClient) -> None:
        """Remember the link."""
        self.sim = sim
        self.client = client
        self.replies: list[tuple[str, bytes]] = []

    async def subscribe(self) -> None:
        """Subscribe to the Control Point and Machine Status."""
        for uuid in (ftms.CONTROL_POINT, ftms.MACHINE_STATUS):
            await self.client.start_notify(uuid, self._recorder(uuid))

    def _recorder(self, uuid: str) -> Any:
        def record(_sender: object, data: bytearray) -> None:
            self.replies.append((uuid, bytes(data)))

        return record

    async def write(self, data: bytes) -> None:
        """Write to the Control Point."""
        await self.client.write_gatt_char(ftms.CONTROL_POINT, data, response=True)

    def decoded(self) -> list[object]:
        """Return the replies decoded, in arrival order."""
        return [
            ftms.decode_response(bytearray(data))
            if uuid == ftms.CONTROL_POINT
            else ftms.decode_machine_status(bytearray(data))
            for uuid, data in self.replies
        ]

    def results(self) -> list[tuple[int, int]]:
        """Return (op code, result) of every indication, in arrival order."""
        return [
            (response.opcode, response.result)
            for response in self.decoded()
            if isinstance(response, ftms.ControlResponse)
        ]

    def statuses(self) -> list[MachineStatus]:
        """Return every status, in arrival order."""
        return [status for status in self.decoded() if isinstance(status, MachineStatus)]


@pytest.fixture
async def machine(clock: ManualClock) -> AsyncIterator[Central]:
    """Return a central connected to a simulated treadmill, with control."""
    sim = SimulatedFtmsPeripheral(clock, SimulatorConfig(latency=REALISTIC_LATENCY))
    central = Central(sim, await sim.connect(lambda: None))
    await central.subscribe()
    await central.write(ftms.request_control())
    await clock.advance(0.1)
    central.replies.clear()
    yield central
    sim.close()


async def test_replies_arrive_after_the_latency(machine: Central, clock: ManualClock) -> None:
    await machine.write(ftms.set_target_speed(3.0))
    await clock.advance(0.04)
    assert machine.replies == []
    await clock.advance(0.02)
    # The indication first, then the status the request caused.
    assert machine.decoded() == [
        ftms.ControlResponse(ControlOpcode.SET_TARGET_SPEED, ResultCode.SUCCESS),
        MachineStatus(MachineStatusCode.TARGET_SPEED_CHANGED, 3.0),
    ]


async def test_latency_is_configurable(clock: ManualClock) -> None:
    sim = SimulatedFtmsPeripheral(clock, SimulatorConfig(latency=0.3))
    central = Central(sim, await sim.connect(lambda: None))
    await central.subscribe()
    await central.write(ftms.request_control())
    await clock.advance(0.29)
    assert central.replies == []
    await clock.advance(0.02)
    assert central.results() == [(ControlOpcode.REQUEST_CONTROL, ResultCode.SUCCESS)]
    sim.close()
    instant = SimulatedFtmsPeripheral(clock)  # the default: no latency
    central = Central(instant, await instant.connect(lambda: None))
    await central.subscribe()
    await central.write(ftms.request_control())
    await clock.advance(0)
    assert central.results() == [(ControlOpcode.REQUEST_CONTROL, ResultCode.SUCCESS)]
    instant.close()


async def test_stored_target_speed(machine: Central, clock: ManualClock) -> None:
    sim = machine.sim
    # Set while stopped: stored, the belt does not move.
    await machine.write(ftms.set_target_speed(3.0))
    await clock.advance(3)
    assert sim.target_speed == 3.0
    assert not sim.belt_running
    assert sim.state is BeltState.STOPPED
    await machine.write(ftms.start_or_resume())
    await clock.advance(6)
    assert sim.belt_speed == 3.0
    # Pause keeps the target; set while paused stores a new one without starting.
    await machine.write(ftms.pause())
    await clock.advance(4)
    assert not sim.belt_running
    assert sim.target_speed == 3.0
    await machine.write(ftms.set_target_speed(2.0))
    await clock.advance(4)
    assert sim.state is BeltState.PAUSED
    assert not sim.belt_running
    assert sim.target_speed == 2.0
    # Our start resumes at the stored target.
    await machine.write(ftms.start_or_resume())
    await clock.advance(5)
    assert sim.belt_speed == 2.0
    # So does the console's start, after a console pause.
    sim.console_pause()
    await clock.advance(4)
    assert not sim.belt_running
    sim.console_set_speed(2.5)
    await clock.advance(2)
    assert not sim.belt_running
    sim.console_start()
    await clock.advance(5)
    assert sim.belt_speed == 2.5
    # After a stop, too: the next session starts at the stored target.
    await machine.write(ftms.stop())
    await clock.advance(4)
    assert sim.state is BeltState.STOPPED
    assert sim.target_speed == 2.5
    await machine.write(ftms.set_target_speed(1.5))
    await clock.advance(2)
    assert not sim.belt_running
    sim.console_start()
    await clock.advance(4)
    assert sim.belt_speed == 1.5


async def test_control_taken_back_refuses_until_requested(
    machine: Central, clock: ManualClock
) -> None:
    sim = machine.sim
    await machine.write(ftms.start_or_resume())
    await clock.advance(2)
    sim.take_control_back()
    await clock.advance(0)
    assert machine.statuses()[-1] == MachineStatus(MachineStatusCode.CONTROL_PERMISSION_LOST)
    machine.replies.clear()
    for request in (
        ftms.set_target_speed(3.0),
        ftms.set_target_inclination(1.0),
        ftms.start_or_resume(),
        ftms.pause(),
        ftms.stop(),
    ):
        await machine.write(request)
    await clock.advance(0.1)
    assert [result for _opcode, result in machine.results()] == [
        ResultCode.CONTROL_NOT_PERMITTED
    ] * 5
    assert machine.statuses() == []
    assert sim.state is BeltState.RUNNING
    machine.replies.clear()
    await machine.write(ftms.request_control())
    await machine.write(ftms.stop())
    await clock.advance(0.1)
    assert machine.results() == [
        (ControlOpcode.REQUEST_CONTROL, ResultCode.SUCCESS),
        (ControlOpcode.STOP_OR_PAUSE, ResultCode.SUCCESS),
    ]
    assert sim.state is BeltState.STOPPED


async def test_reordered_replies(machine: Central, clock: ManualClock) -> None:
    machine.sim.reorder_next_replies()
    await machine.write(ftms.start_or_resume())
    await clock.advance(0.5)
    assert machine.replies == []  # held back for the next write
    await machine.write(ftms.pause())
    await clock.advance(0.2)
    # The pause's replies first, then the start's.
    assert machine.decoded() == [
        ftms.ControlResponse(ControlOpcode.STOP_OR_PAUSE, ResultCode.SUCCESS),
        PAUSED,
        ftms.ControlResponse(ControlOpcode.START_OR_RESUME, ResultCode.SUCCESS),
        STARTED,
    ]
    assert machine.sim.state is BeltState.PAUSED  # carried out in order all the same


async def test_held_replies_go_anyway(machine: Central, clock: ManualClock) -> None:
    machine.sim.reorder_next_replies()
    await machine.write(ftms.start_or_resume())
    await clock.advance(REORDER_HOLD - 0.01)
    assert machine.replies == []
    await clock.advance(0.1)
    assert machine.statuses() == [STARTED]


async def test_late_status(machine: Central, clock: ManualClock) -> None:
    machine.sim.delay_status(MachineStatusCode.STARTED_OR_RESUMED, 6.0)
    await machine.write(ftms.start_or_resume())
    await machine.write(ftms.pause())
    await clock.advance(1)
    # The start is acknowledged at once; its status comes after the pause's.
    assert machine.statuses() == [PAUSED]
    await clock.advance(6)
    assert machine.statuses() == [PAUSED, STARTED]


async def test_replies_die_with_the_link(machine: Central, clock: ManualClock) -> None:
    sim = machine.sim
    await machine.write(ftms.start_or_resume())
    sim.drop_link()
    await clock.advance(1)
    assert machine.replies == []
    # A reply held back by a reorder fault dies with its link too.
    client = await sim.connect(lambda: None)
    central = Central(sim, client)
    await central.subscribe()
    sim.reorder_next_replies()
    await central.write(ftms.request_control())
    sim.drop_link()
    await clock.advance(REORDER_HOLD + 1)
    assert central.replies == []


async def test_distance_counter_faults(machine: Central, clock: ManualClock) -> None:
    sim = machine.sim
    await machine.write(ftms.set_target_speed(6.0))
    await machine.write(ftms.start_or_resume())
    await clock.advance(20)
    sim.freeze_distance(True)
    moved = sim.distance
    assert moved > 20
    await clock.advance(10)
    assert sim.belt_speed == 6.0
    assert sim.distance == moved  # the belt runs, the counter does not
    assert sim._record().total_distance == int(moved)
    sim.freeze_distance(False)
    await clock.advance(10)
    assert sim.distance > moved + 15
    sim.reset_distance()
    assert sim.distance == 0.0
    await clock.advance(1)
    assert 0 < sim.distance < 2
    sim.freeze_distance(True)
    sim.clear_faults()
    assert not sim.distance_frozen


async def test_a_long_running_simulator_keeps_only_the_latest_writes(machine: Central) -> None:
    """Days of `scripts/develop`: the write log stays bounded, the latest writes kept."""
    for _ in range(3 * WRITES_KEPT):
        machine.sim.written(ftms.CONTROL_POINT, ftms.set_target_speed(2.0))
    machine.sim.written(ftms.CONTROL_POINT, ftms.stop())
    assert WRITES_KEPT <= len(machine.sim.writes) <= 2 * WRITES_KEPT
    assert machine.sim.writes[-1] == ftms.stop()
