"""Edge cases: the real connector, broken set-ups, stale callbacks, echoes, the manual kind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bleak.exc import BleakError
import pytest

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.base import (
    Capabilities,
    CommandError,
    CommandFailure,
    DataField,
    LiveData,
    MachineEvent,
    MachineEventType,
    Range,
    TreadmillConnectionError,
)
from custom_components.treadreverse.treadmill.client import (
    DEFAULT_INCLINE_RANGE,
    DEFAULT_SPEED_RANGE,
    create_ftms_treadmill,
)
from custom_components.treadreverse.treadmill.clock import (
    LoopClock,
    ManualClock,
    settle,
    wait_for,
)
from custom_components.treadreverse.treadmill.ftms import MachineStatus, MachineStatusCode
from custom_components.treadreverse.treadmill.manual import ManualTreadmill
from custom_components.treadreverse.treadmill.simulator import (
    SimulatedBleakClient,
    SimulatedFtmsPeripheral,
    _Services as Services,
    create_simulated_treadmill,
)

from .conftest import Factory, Recorder, run

E = MachineEventType


# ---------------------------------------------------------------- the real connector


async def test_bleak_connector(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    import bleak_retry_connector

    peripheral = SimulatedFtmsPeripheral(clock)
    devices: list[object] = ["device-1"]
    calls: dict[str, Any] = {}

    async def establish_connection(
        client_class: type,
        device: object,
        name: str,
        disconnected_callback: Callable[[object], None],
        ble_device_callback: Callable[[], object],
    ) -> SimulatedBleakClient:
        calls.update(cls=client_class, device=device, name=name)
        calls["latest"] = ble_device_callback
        return await peripheral.connect(lambda: disconnected_callback(None))

    monkeypatch.setattr(bleak_retry_connector, "establish_connection", establish_connection)
    treadmill = create_ftms_treadmill(clock, lambda: devices[0], "Walker")  # type: ignore[arg-type,return-value]
    recorder = Recorder(treadmill)
    await treadmill.connect()
    assert calls["cls"] is bleak_retry_connector.BleakClientWithServiceCache
    assert (calls["device"], calls["name"]) == ("device-1", "Walker")
    devices[0] = "device-2"
    assert calls["latest"]() == "device-2"
    devices[0] = None  # type: ignore[assignment]
    assert calls["latest"]() == "device-1"  # the last one known is better than nothing
    peripheral.drop_link()
    assert recorder.types() == [E.CONNECTED, E.DISCONNECTED]
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()  # no BLEDevice: out of range
    await treadmill.disconnect()
    peripheral.close()


# ---------------------------------------------------------------- broken set-ups


def _fail_subscribe(peripheral: SimulatedFtmsPeripheral, uuid: str) -> None:
    """Make subscribing to one characteristic fail like bleak does."""
    original = peripheral.subscribed

    def subscribed(which: str) -> None:
        if which == uuid:
            raise BleakError("subscribe failed")
        original(which)

    peripheral.subscribed = subscribed  # type: ignore[method-assign]


async def test_training_status_failure_is_not_fatal(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock)
    _fail_subscribe(treadmill.simulator, ftms.TRAINING_STATUS)
    await treadmill.connect()
    assert treadmill.connected
    assert treadmill.training_status is None
    await treadmill.disconnect()


async def test_subscribe_failure_is_a_connection_error(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock, keep_connected=False)
    _fail_subscribe(treadmill.simulator, ftms.TREADMILL_DATA)
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()
    assert not treadmill.connected
    assert not treadmill.simulator.connected


async def test_link_lost_during_setup(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock, keep_connected=False)
    recorder = Recorder(treadmill)
    sim = treadmill.simulator

    def subscribed(which: str) -> None:
        if which == ftms.TRAINING_STATUS:  # the last subscription succeeds, then the link goes
            sim.drop_link()

    sim.subscribed = subscribed  # type: ignore[method-assign]
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()
    assert recorder.types() == []


async def test_not_a_treadmill(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock, keep_connected=False)
    treadmill.simulator.services = Services(frozenset({ftms.FITNESS_MACHINE_FEATURE}))
    with pytest.raises(TreadmillConnectionError, match="Treadmill Data"):
        await treadmill.connect()


async def test_read_failure(clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    treadmill = create_simulated_treadmill(clock, keep_connected=False)

    def read(uuid: str) -> bytes:
        raise BleakError("read failed")

    async def disconnect(self: SimulatedBleakClient) -> None:
        self.link_lost()
        raise BleakError("already gone")

    monkeypatch.setattr(treadmill.simulator, "read", read)
    monkeypatch.setattr(SimulatedBleakClient, "disconnect", disconnect)
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()
    assert not treadmill.simulator.connected


async def test_no_feature_and_nonsense_ranges(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock)
    sim = treadmill.simulator
    uuids = {
        ftms.TREADMILL_DATA,
        ftms.CONTROL_POINT,
        ftms.SUPPORTED_SPEED_RANGE,
        ftms.SUPPORTED_INCLINATION_RANGE,
    }
    sim.services = Services(frozenset(uuids))
    values = {
        ftms.SUPPORTED_SPEED_RANGE: ftms.encode_speed_range(ftms.SupportedRange(5.0, 1.0, 0.1)),
        ftms.SUPPORTED_INCLINATION_RANGE: ftms.encode_inclination_range(
            ftms.SupportedRange(0.0, 5.0, 0.0)
        ),
    }
    sim.read = values.__getitem__  # type: ignore[method-assign]
    await treadmill.connect()
    caps = treadmill.capabilities
    assert caps.fields == {DataField.SPEED}
    assert caps.speed == DEFAULT_SPEED_RANGE
    assert caps.incline == Range(0.0, 5.0, DEFAULT_INCLINE_RANGE.step)
    await treadmill.disconnect()


async def test_disconnect_during_reconnect_setup(clock: ManualClock) -> None:
    treadmill = create_simulated_treadmill(clock)
    sim = treadmill.simulator
    await treadmill.connect()
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    original = SimulatedBleakClient.read_gatt_char

    async def slow_read(self: SimulatedBleakClient, uuid: str, /) -> bytearray:
        await gate  # a reconnection stuck half-way through its set-up
        return await original(self, uuid)

    SimulatedBleakClient.read_gatt_char = slow_read  # type: ignore[method-assign]
    try:
        sim.drop_link()
        await clock.advance(3)
        assert sim.connected  # the link is open, the set-up is not finished
        await treadmill.disconnect()
        await settle(20)
        assert not sim.connected
        assert not treadmill.connected
    finally:
        SimulatedBleakClient.read_gatt_char = original  # type: ignore[method-assign]


# ---------------------------------------------------------------- commands at the edges


async def test_write_failure_while_connected(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await run(treadmill.start())
    original = sim.written

    def written(uuid: str, data: bytes) -> None:
        raise BleakError("ATT error")

    sim.written = written  # type: ignore[method-assign]
    with pytest.raises(CommandError) as err:
        await run(treadmill.set_speed(3.0))
    assert err.value.failure is CommandFailure.OPERATION_FAILED
    sim.written = original  # type: ignore[method-assign]
    await clock.advance(2)
    # The echo expected for the failed command is forgotten: a console change is reported.
    sim.console_set_speed(3.0)
    await clock.advance(0)
    assert recorder.events[-1] == MachineEvent(E.TARGET_SPEED_CHANGED, 3.0)


async def test_value_that_does_not_encode(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    treadmill._capabilities = Capabilities(True, Range(0.0, 1000.0, 1.0))
    with pytest.raises(CommandError) as err:
        await treadmill.set_speed(700.0)
    assert err.value.failure is CommandFailure.INVALID_PARAMETER


async def test_exchange_without_link(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    await treadmill.disconnect()
    with pytest.raises(CommandError) as err:
        await treadmill._exchange("start", ftms.start_or_resume(), None)
    assert err.value.failure is CommandFailure.DISCONNECTED


async def test_callbacks_of_an_old_link_are_ignored(simulated: Factory) -> None:
    treadmill, recorder = await simulated()
    old = treadmill._link - 1
    treadmill._on_data(old, None, bytearray(b"\x00\x00\x10\x00"))
    treadmill._on_status(old, None, bytearray(b"\x03"))
    treadmill._on_response(old, None, bytearray(b"\x80\x00\x01"))
    treadmill._on_training(old, None, bytearray(b"\x00\x0d"))
    assert recorder.data == []
    assert recorder.types() == [E.CONNECTED]
    assert treadmill.training_status == ftms.TrainingStatus(ftms.TrainingStatusCode.IDLE)


async def test_echoes_only_match_their_own_status(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    await clock.advance(2)
    treadmill._expect(MachineStatus(MachineStatusCode.TARGET_SPEED_CHANGED, 3.0))
    sim.written(ftms.CONTROL_POINT, b"\x11")  # unknown op code: answered "not supported"
    sim._send_status(MachineStatus(0x42))  # another code: not the echo, not an event
    sim.console_set_speed(5.0)  # another value: the person's
    await clock.advance(0)
    treadmill._expect(MachineStatus(MachineStatusCode.TARGET_SPEED_CHANGED, 3.0))
    sim.console_set_speed(3.0)  # our value, within the window: taken for the echo
    await clock.advance(0)
    assert recorder.events[1:] == [MachineEvent(E.TARGET_SPEED_CHANGED, 5.0)]


async def test_connect_while_reconnecting(simulated: Factory, clock: ManualClock) -> None:
    treadmill, recorder = await simulated()
    sim = treadmill.simulator
    sim.reachable = False
    sim.drop_link()
    await settle(5)
    with pytest.raises(TreadmillConnectionError):
        await treadmill.connect()
    sim.reachable = True
    await treadmill.connect()
    attempts = sim.connect_attempts
    await clock.advance(100)
    assert sim.connect_attempts == attempts
    assert recorder.types() == [E.CONNECTED, E.DISCONNECTED, E.CONNECTED]


# ---------------------------------------------------------------- simulator itself


async def test_simulator_requests(clock: ManualClock) -> None:
    sim = SimulatedFtmsPeripheral(clock)
    responses: list[bytes] = []
    client = await sim.connect(lambda: None)
    await client.start_notify(ftms.CONTROL_POINT, lambda _s, data: responses.append(bytes(data)))

    async def send(data: bytes) -> int:
        await client.write_gatt_char(ftms.CONTROL_POINT, data, response=True)
        await clock.advance(0.1)
        return responses[-1][2]

    assert await send(ftms.start_or_resume()) == ftms.ResultCode.CONTROL_NOT_PERMITTED
    assert await send(ftms.request_control()) == ftms.ResultCode.SUCCESS
    assert await send(ftms.set_target_speed(20.0)) == ftms.ResultCode.INVALID_PARAMETER
    assert await send(ftms.set_target_inclination(30.0)) == ftms.ResultCode.INVALID_PARAMETER
    assert await send(b"\x08\x03") == ftms.ResultCode.INVALID_PARAMETER
    assert await send(ftms.set_target_distance(5000)) == ftms.ResultCode.SUCCESS
    assert await send(ftms.set_target_time(1800)) == ftms.ResultCode.SUCCESS
    assert (sim.target_distance, sim.target_time) == (5000, 1800)
    assert await send(b"") == ftms.ResultCode.NOT_SUPPORTED
    sim.reject_opcode(ftms.ControlOpcode.START_OR_RESUME, times=2)
    assert await send(ftms.start_or_resume()) == ftms.ResultCode.OPERATION_FAILED
    assert await send(ftms.start_or_resume()) == ftms.ResultCode.OPERATION_FAILED
    assert await send(ftms.start_or_resume()) == ftms.ResultCode.SUCCESS
    with pytest.raises(BleakError):
        await client.write_gatt_char(ftms.TREADMILL_DATA, b"\x00", response=True)
    with pytest.raises(BleakError):
        await client.read_gatt_char(ftms.TREADMILL_DATA)
    with pytest.raises(BleakError):
        await client.read_gatt_char(ftms.uuid16(0x2A00))
    sim.close()
    with pytest.raises(BleakError):
        await client.read_gatt_char(ftms.FITNESS_MACHINE_FEATURE)
    sim.close()


async def test_simulator_without_incline_motor(clock: ManualClock) -> None:
    sim = SimulatedFtmsPeripheral(clock, client_module_config(incline_range=None))
    sim.has_control = True
    assert sim._set_incline(1.0)[0] == ftms.ResultCode.NOT_SUPPORTED
    with pytest.raises(BleakError):
        sim.read(ftms.SUPPORTED_INCLINATION_RANGE)


def client_module_config(**values: Any) -> Any:
    """Return a simulator configuration."""
    from custom_components.treadreverse.treadmill.simulator import SimulatorConfig

    return SimulatorConfig(**values)


async def test_simulator_physics(clock: ManualClock) -> None:
    sim = SimulatedFtmsPeripheral(clock, client_module_config(body_mass=80.0))
    await sim.connect(lambda: None)
    sim.console_set_speed(10.0)  # running: the ACSM running equation applies
    sim.console_set_incline(2.0)
    sim.console_start()
    await clock.advance(60)
    assert sim.belt_speed == 10.0
    assert sim.incline == 2.0
    # About 1 minute at 10 km/h after a ~12 s ramp: roughly 140 m.
    assert 120 < sim.distance < 160
    # ACSM running at 10 km/h, 2 %, 80 kg: about 15 kcal/min gross.
    assert 10 < sim.energy < 16
    assert sim.elevation_gain > 2
    assert 140 < sim.heart_rate < 160
    sim.console_stop()
    await clock.advance(10)
    assert not sim.belt_running
    sim.console_start()  # a new session after a stop
    assert sim.distance == 0.0
    sim.close()
    ticks = len(sim.writes)
    await clock.advance(5)
    assert len(sim.writes) == ticks


async def test_late_indication_after_reconnect_is_dropped(clock: ManualClock) -> None:
    sim = SimulatedFtmsPeripheral(clock)
    responses: list[bytes] = []
    first = await sim.connect(lambda: None)
    await first.start_notify(ftms.CONTROL_POINT, lambda _s, data: responses.append(bytes(data)))
    sim.delay_indication(ftms.ControlOpcode.REQUEST_CONTROL, 1.0)
    await first.write_gatt_char(ftms.CONTROL_POINT, ftms.request_control(), response=True)
    second = await sim.connect(lambda: None)  # one central at a time: the first is dropped
    assert not first.is_connected
    await clock.advance(2)
    assert responses == []
    assert second.is_connected
    sim.close()


# ---------------------------------------------------------------- manual treadmill


async def test_manual_treadmill() -> None:
    treadmill = ManualTreadmill()
    assert treadmill.capabilities == Capabilities(controllable=False)
    assert treadmill.connected
    await treadmill.connect()
    await treadmill.disconnect()
    assert treadmill.connected
    commands = (
        treadmill.start(),
        treadmill.pause(),
        treadmill.stop(),
        treadmill.set_speed(2.0),
        treadmill.set_incline(1.0),
    )
    for command in commands:
        with pytest.raises(CommandError) as err:
            await command
        assert err.value.failure is CommandFailure.NOT_CONTROLLABLE
    assert treadmill.data == LiveData()


def test_unsubscribe() -> None:
    treadmill = ManualTreadmill()
    recorder = Recorder(treadmill)
    data: list[LiveData] = []
    unsubscribe = treadmill.subscribe(data.append)
    treadmill._publish_data(LiveData(speed=1.0))
    unsubscribe()
    unsubscribe()
    treadmill._publish_data(LiveData(speed=2.0))
    assert [d.speed for d in data] == [1.0]
    assert [d.speed for d in recorder.data] == [1.0, 2.0]


# ---------------------------------------------------------------- clock helpers


async def test_loop_clock_calls_back() -> None:
    clock = LoopClock()
    called = asyncio.Event()
    clock.call_at(clock.now() - timedelta(seconds=1), called.set)
    await asyncio.wait_for(called.wait(), 1)
    cancel = clock.call_at(clock.now() + timedelta(hours=1), called.clear)
    cancel()


async def test_wait_for_outer_cancel(clock: ManualClock) -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(wait_for(clock, never, 10))
    await settle(5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_manual_treadmill_has_no_control_to_ask_for() -> None:
    treadmill = ManualTreadmill()
    assert not treadmill.control_taken_back
    await treadmill.request_control()
    assert not treadmill.control_taken_back


async def test_request_control_without_link(simulated: Factory) -> None:
    treadmill, _ = await simulated()
    await treadmill.disconnect()
    with pytest.raises(CommandError) as err:
        await treadmill.request_control()
    assert err.value.failure is CommandFailure.DISCONNECTED


def test_subscribe_events_only() -> None:
    treadmill = ManualTreadmill()
    events: list[MachineEvent] = []
    unsubscribe = treadmill.subscribe(on_event=events.append)
    treadmill._publish_data(LiveData(speed=1.0))
    treadmill._publish_event(MachineEvent(E.STARTED))
    unsubscribe()
    treadmill._publish_event(MachineEvent(E.PAUSED))
    assert events == [MachineEvent(E.STARTED)]
