"""A simulated FTMS treadmill: a peripheral that speaks real FTMS bytes to the real client.

The peripheral models a belt that ramps at a motor's rate, an incline motor, distance,
elevation, energy (ACSM walking/running equations), steps and heart rate, notified at
1 Hz on the injected clock. A fake bleak client carries the bytes, so FtmsTreadmill runs
unchanged against it. Every reply to a write (the Control Point indication, then the
status it causes) arrives after `latency` (REALISTIC_LATENCY in the treadmill tests).
Faults can be injected (link drops, rejected op codes, lost, late or reordered replies,
late statuses, garbled packets, console actions, safety key, control taken back, a
frozen or reset distance counter).

Like a real console, the machine keeps one stored target speed: a set speed while paused
or stopped only stores it, and a start (ours or the console's) runs the belt up to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bleak.exc import BleakError

from . import ftms
from .base import Range
from .client import DisconnectCallback, FtmsTreadmill, NotifyCallback
from .clock import Cancel, Clock, call_later
from .ftms import (
    ControlOpcode,
    ControlRequest,
    ControlResponse,
    FtmsDecodeError,
    MachineFeature,
    MachineStatus,
    MachineStatusCode,
    ResultCode,
    TargetFeature,
    TreadmillData,
)

WALK_RUN_THRESHOLD = 8.0  # km/h where ACSM switches from walking to running
RESTING_HEART_RATE = 70.0
# s before each reply to a write on a realistic link. Not the default: Home Assistant's
# point-in-time tracker never fires under a frozen test clock, so callers opt in.
REALISTIC_LATENCY = 0.05
REORDER_HOLD = 1.0  # s a held reply waits for the next write's replies before it goes anyway
WRITES_KEPT = 1000  # Control Point writes the simulator remembers (tests read the latest)
SPEED_RANGE = Range(0.5, 12.0, 0.1)
INCLINE_RANGE = Range(0.0, 12.0, 0.5)
# What the simulated machine's Device Information Service says about itself.
DEVICE_INFORMATION = ftms.DeviceInformation(
    manufacturer="TreadReverse",
    model="Simulated FTMS treadmill",
    serial_number="SIM-0001",
    firmware="1.0.0",
)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How the simulated treadmill behaves."""

    speed_range: Range = SPEED_RANGE  # km/h
    incline_range: Range | None = INCLINE_RANGE  # %; None: no incline motor
    acceleration: float = 0.8  # km/h per s
    deceleration: float = 1.5  # km/h per s (stop, pause)
    incline_rate: float = 0.5  # % per s
    body_mass: float = 70.0  # kg, for energy
    interval: float = 1.0  # s between Treadmill Data notifications
    heart_rate: bool = True  # a chest strap paired with the console
    steps: bool = True  # the vendor step count (flag bit 13)
    split_records: bool = False  # send each record as two "More Data" packets
    control_point: bool = True  # False: a read-only FTMS treadmill
    optional_characteristics: bool = True  # ranges, status, training status
    replay_status: bool = True  # replay the last status on subscription, as machines do
    echo_status: bool = True  # confirm Control Point changes with a status (not all firmware does)
    latency: float = 0.0  # s before each reply to a write (indication, then status)
    device_information: ftms.DeviceInformation | None = DEVICE_INFORMATION  # None: no 0x180A


class BeltState(StrEnum):
    """What the console shows."""

    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


@dataclass(slots=True)
class _Faults:
    """Injected faults, consumed as they fire."""

    rejects: dict[int, tuple[ResultCode, int | None]]  # opcode -> (result, times left)
    lost: dict[int, int]  # opcode -> indications still to lose
    delays: dict[int, float]  # opcode -> s before the indication
    garbled: int = 0  # Treadmill Data notifications still to garble
    status_delays: dict[int, float] = field(default_factory=dict)  # status code -> extra s
    reorder: bool = False  # hold the next write's replies until the following write's went


type _Reply = tuple[str, bytes, float]  # characteristic, bytes, seconds after the write


class _Characteristic:
    """A characteristic of the fake GATT table."""

    def __init__(self, uuid: str) -> None:
        """Remember the UUID."""
        self.uuid = uuid


class _Services:
    """The fake GATT table: only the characteristics this treadmill has."""

    def __init__(self, uuids: frozenset[str]) -> None:
        """Build the table."""
        self._chars = {uuid: _Characteristic(uuid) for uuid in uuids}

    def get_characteristic(self, specifier: str, /) -> _Characteristic | None:
        """Return a characteristic by UUID, or None."""
        return self._chars.get(specifier)


class SimulatedBleakClient:
    """A fake BleakClient connected to a simulated peripheral."""

    def __init__(
        self, peripheral: SimulatedFtmsPeripheral, on_disconnect: DisconnectCallback
    ) -> None:
        """Open the fake link."""
        self._peripheral = peripheral
        self._on_disconnect = on_disconnect
        self._connected = True
        self._callbacks: dict[str, NotifyCallback] = {}

    @property
    def is_connected(self) -> bool:
        """Return whether the fake link is up."""
        return self._connected

    @property
    def services(self) -> _Services:
        """Return the peripheral's GATT table."""
        return self._peripheral.services

    async def start_notify(self, char_specifier: str, callback: NotifyCallback, /) -> None:
        """Subscribe to a characteristic."""
        self._check(char_specifier)
        self._callbacks[char_specifier] = callback
        self._peripheral.subscribed(char_specifier)

    async def read_gatt_char(self, char_specifier: str, /) -> bytearray:
        """Read a characteristic."""
        self._check(char_specifier)
        return bytearray(self._peripheral.read(char_specifier))

    async def write_gatt_char(self, char_specifier: str, data: bytes, /, response: bool) -> None:
        """Write a characteristic (the peripheral answers through an indication)."""
        self._check(char_specifier)
        self._peripheral.written(char_specifier, bytes(data))

    async def disconnect(self) -> None:
        """Drop the link from our side."""
        self.link_lost()

    def link_lost(self) -> None:
        """Mark the link down and tell the client, as bleak's disconnected callback does."""
        if not self._connected:
            return
        self._connected = False
        self._peripheral.detached(self)
        self._on_disconnect()

    def notify(self, uuid: str, data: bytes) -> None:
        """Deliver a notification on the loop, as bleak does."""
        callback = self._callbacks.get(uuid)
        if callback is None or not self._connected:
            return
        sender = self._peripheral.services.get_characteristic(uuid)
        asyncio.get_running_loop().call_soon(self._deliver, callback, sender, bytearray(data))

    def _deliver(self, callback: NotifyCallback, sender: object, data: bytearray) -> None:
        """Run a notification callback unless the link went down meanwhile."""
        if self._connected:
            callback(sender, data)

    def _check(self, uuid: str) -> None:
        """Raise like bleak on a dead link or an unknown characteristic."""
        if not self._connected:
            raise BleakError("Not connected")
        if self._peripheral.services.get_characteristic(uuid) is None:
            raise BleakError(f"Characteristic {uuid} was not found")


class SimulatedFtmsPeripheral:
    """A simulated FTMS treadmill with a realistic belt; the state is the truth for tests."""

    def __init__(self, clock: Clock, config: SimulatorConfig | None = None) -> None:
        """Power on with the belt stopped."""
        self.config = config or SimulatorConfig()
        self._clock = clock
        self.services = _Services(self._characteristics())
        self.state = BeltState.STOPPED
        self.belt_speed = 0.0  # km/h, what the belt actually does
        self.target_speed: float | None = None  # stored target, applied at the next start
        self.incline = 0.0
        self.target_incline = 0.0
        self.has_control = False  # a client holds control
        self.reachable = True  # False: connection attempts fail
        self.connect_attempts = 0
        self.writes: list[bytes] = []  # every Control Point write received
        self.target_distance: int | None = None
        self.target_time: int | None = None
        self._reset_session()
        self._faults = _Faults({}, {}, {})
        self._held: list[_Reply] = []  # replies held back by a reorder fault
        self._cancel_held: Cancel | None = None
        self.distance_frozen = False  # the distance counter does not advance
        self._client: SimulatedBleakClient | None = None
        self._last_status: bytes | None = None
        self._last_tick: datetime | None = None
        self._cancel_tick: Cancel | None = None
        self._session_over = False

    # ------------------------------------------------------------ truth for tests

    @property
    def belt_running(self) -> bool:
        """Return whether the belt is moving at all."""
        return self.belt_speed > 0

    @property
    def connected(self) -> bool:
        """Return whether a client is connected."""
        return self._client is not None

    # ------------------------------------------------------------ link

    async def connect(self, on_disconnect: DisconnectCallback) -> SimulatedBleakClient:
        """Accept a connection (the connector FtmsTreadmill uses)."""
        self.connect_attempts += 1
        if not self.reachable:
            raise BleakError("simulated treadmill is out of range")
        if self._client is not None:
            # One central at a time, as real FTMS machines allow.
            self._client.link_lost()
        self._client = SimulatedBleakClient(self, on_disconnect)
        self._start_ticking()
        return self._client

    def detached(self, client: SimulatedBleakClient) -> None:
        """Forget a client whose link went down; control goes with it."""
        if self._client is client:
            self._client = None
            self.has_control = False

    def close(self) -> None:
        """Power off: drop the link and stop the clock callbacks."""
        self.drop_link()
        if self._cancel_tick is not None:
            self._cancel_tick()
            self._cancel_tick = None

    # ------------------------------------------------------------ GATT

    def _characteristics(self) -> frozenset[str]:
        """Return the UUIDs this configuration exposes."""
        uuids = {ftms.FITNESS_MACHINE_FEATURE, ftms.TREADMILL_DATA}
        if self.config.control_point:
            uuids.add(ftms.CONTROL_POINT)
        if self.config.optional_characteristics:
            uuids |= {ftms.SUPPORTED_SPEED_RANGE, ftms.MACHINE_STATUS, ftms.TRAINING_STATUS}
            if self.config.incline_range is not None:
                uuids.add(ftms.SUPPORTED_INCLINATION_RANGE)
        if (information := self.config.device_information) is not None:
            uuids |= {
                uuid
                for uuid, name in ftms.DEVICE_INFORMATION_FIELDS.items()
                if getattr(information, name) is not None
            }
        return frozenset(uuids)

    def feature(self) -> ftms.FitnessMachineFeature:
        """Return the Fitness Machine Feature this configuration announces."""
        machine = [
            MachineFeature.TOTAL_DISTANCE,
            MachineFeature.ELEVATION_GAIN,
            MachineFeature.EXPENDED_ENERGY,
            MachineFeature.ELAPSED_TIME,
        ]
        target = [TargetFeature.SPEED, TargetFeature.DISTANCE, TargetFeature.TRAINING_TIME]
        if self.config.incline_range is not None:
            machine.append(MachineFeature.INCLINATION)
            target.append(TargetFeature.INCLINATION)
        if self.config.heart_rate:
            machine.append(MachineFeature.HEART_RATE)
        if self.config.steps:
            machine.append(MachineFeature.STEP_COUNT)
        return ftms.FitnessMachineFeature(_mask(machine), _mask(target))

    def read(self, uuid: str) -> bytes:
        """Return the value of a readable characteristic."""
        config = self.config
        if uuid == ftms.SUPPORTED_SPEED_RANGE:
            speed = config.speed_range
            return ftms.encode_speed_range(
                ftms.SupportedRange(speed.minimum, speed.maximum, speed.step)
            )
        if uuid == ftms.SUPPORTED_INCLINATION_RANGE and config.incline_range is not None:
            incline = config.incline_range
            return ftms.encode_inclination_range(
                ftms.SupportedRange(incline.minimum, incline.maximum, incline.step)
            )
        if uuid == ftms.FITNESS_MACHINE_FEATURE:
            return ftms.encode_feature(self.feature())
        if (name := ftms.DEVICE_INFORMATION_FIELDS.get(uuid)) and config.device_information:
            return ftms.encode_information_string(getattr(config.device_information, name))
        raise BleakError(f"Characteristic {uuid} is not readable")

    def subscribed(self, uuid: str) -> None:
        """Replay the last status on subscription, as real machines do."""
        if uuid == ftms.MACHINE_STATUS and self.config.replay_status and self._last_status:
            self._notify(ftms.MACHINE_STATUS, self._last_status)
        if uuid == ftms.TRAINING_STATUS:
            self._notify(uuid, ftms.encode_training_status(self._training_status()))

    def written(self, uuid: str, data: bytes) -> None:
        """Handle a write: only the Control Point is writable."""
        if uuid != ftms.CONTROL_POINT:
            raise BleakError(f"Characteristic {uuid} is not writable")
        self.writes.append(data)
        if len(self.writes) > 2 * WRITES_KEPT:
            del self.writes[:-WRITES_KEPT]  # a simulator running for days keeps the latest
        self._integrate()
        try:
            request = ftms.decode_request(data)
        except FtmsDecodeError:
            self._reply(data[0] if data else 0, ResultCode.NOT_SUPPORTED, None)
            return
        result, status = self._rejected(request.opcode) or self._apply(request)
        self._reply(request.opcode, result, status)

    def _notify(self, uuid: str, data: bytes) -> None:
        """Send a notification or indication to the connected client, if any."""
        if self._client is not None:
            self._client.notify(uuid, data)

    # ------------------------------------------------------------ control point

    def _rejected(self, opcode: int) -> tuple[ResultCode, None] | None:
        """Return an injected rejection of this op code, consuming it."""
        reject = self._faults.rejects.get(opcode)
        if reject is None:
            return None
        result, times = reject
        if times is not None:
            if times <= 1:
                del self._faults.rejects[opcode]
            else:
                self._faults.rejects[opcode] = (result, times - 1)
        return result, None

    def _apply(self, request: ControlRequest) -> tuple[ResultCode, MachineStatus | None]:
        """Carry out a request; return its result and the status it causes."""
        if request.opcode == ControlOpcode.REQUEST_CONTROL:
            self.has_control = True
            return ResultCode.SUCCESS, None
        if not self.has_control:
            return ResultCode.CONTROL_NOT_PERMITTED, None
        handler = self._handlers()[request.opcode]
        return handler(request.value)

    def _handlers(
        self,
    ) -> dict[int, Callable[[float | None], tuple[ResultCode, MachineStatus | None]]]:
        """Return the request handlers by op code."""
        return {
            ControlOpcode.RESET: self._reset,
            ControlOpcode.SET_TARGET_SPEED: self._set_speed,
            ControlOpcode.SET_TARGET_INCLINATION: self._set_incline,
            ControlOpcode.START_OR_RESUME: self._start,
            ControlOpcode.STOP_OR_PAUSE: self._stop_or_pause,
            ControlOpcode.SET_TARGET_DISTANCE: self._set_target_distance,
            ControlOpcode.SET_TARGET_TIME: self._set_target_time,
        }

    def _reset(self, _value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Stop the belt, end the session and release control."""
        self.state = BeltState.STOPPED
        self._session_over = True
        self.has_control = False
        return ResultCode.SUCCESS, MachineStatus(MachineStatusCode.RESET)

    def _set_speed(self, value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Store a target speed; it never starts a stopped belt."""
        speed_range = self.config.speed_range
        if value is None or not speed_range.minimum <= value <= speed_range.maximum:
            return ResultCode.INVALID_PARAMETER, None
        self.target_speed = _to_step(value, speed_range)
        return ResultCode.SUCCESS, MachineStatus(
            MachineStatusCode.TARGET_SPEED_CHANGED, self.target_speed
        )

    def _set_incline(self, value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Set the incline target; the motor moves whether or not the belt runs."""
        incline_range = self.config.incline_range
        if incline_range is None:
            return ResultCode.NOT_SUPPORTED, None
        if value is None or not incline_range.minimum <= value <= incline_range.maximum:
            return ResultCode.INVALID_PARAMETER, None
        self.target_incline = _to_step(value, incline_range)
        return ResultCode.SUCCESS, MachineStatus(
            MachineStatusCode.TARGET_INCLINE_CHANGED, self.target_incline
        )

    def _start(self, _value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Start or resume: ramp to the stored target (or the minimum)."""
        self._run()
        return ResultCode.SUCCESS, MachineStatus(MachineStatusCode.STARTED_OR_RESUMED)

    def _stop_or_pause(self, value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Stop (ends the session) or pause (keeps it)."""
        if value == ftms.STOP:
            self._halt(BeltState.STOPPED)
        elif value == ftms.PAUSE:
            self._halt(BeltState.PAUSED)
        else:
            return ResultCode.INVALID_PARAMETER, None
        return ResultCode.SUCCESS, MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, value)

    def _set_target_distance(self, value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Store a target distance."""
        self.target_distance = int(value or 0)
        return ResultCode.SUCCESS, MachineStatus(MachineStatusCode.TARGET_DISTANCE_CHANGED, value)

    def _set_target_time(self, value: float | None) -> tuple[ResultCode, MachineStatus | None]:
        """Store a target time."""
        self.target_time = int(value or 0)
        return ResultCode.SUCCESS, MachineStatus(MachineStatusCode.TARGET_TIME_CHANGED, value)

    def _run(self) -> None:
        """Put the belt in motion (a new session after a stop)."""
        if self._session_over:
            self._reset_session()
            self._session_over = False
        if self.target_speed is None:
            self.target_speed = self.config.speed_range.minimum
        self.state = BeltState.RUNNING

    def _halt(self, state: BeltState) -> None:
        """Stop or pause the belt; it decelerates at the motor's rate."""
        self.state = state
        if state is BeltState.STOPPED:
            self._session_over = True

    def _reply(self, opcode: int, result: ResultCode, status: MachineStatus | None) -> None:
        """Send the indication, then the status the request caused, after the latency.

        Faults may lose or delay the indication, delay the status, or hold both back
        until the next write's replies went out first (reordered).
        """
        latency = self.config.latency
        replies: list[_Reply] = []
        lost = self._faults.lost.get(opcode, 0)
        if lost:
            self._faults.lost[opcode] = lost - 1
        else:
            delay = self._faults.delays.get(opcode, latency)
            replies.append((ftms.CONTROL_POINT, _response(opcode, result), delay))
        if status is not None and self.config.echo_status:
            delay = latency + self._faults.status_delays.get(status.code, 0.0)
            replies.append((ftms.MACHINE_STATUS, ftms.encode_machine_status(status), delay))
        if self._faults.reorder and not self._held:
            self._faults.reorder = False
            self._held = replies
            self._cancel_held = call_later(self._clock, REORDER_HOLD, self._release_held)
            return
        for reply in replies:
            self._send_later(*reply)
        self._release_held()

    def _release_held(self) -> None:
        """Send the replies a reorder fault held back (after whatever went before)."""
        held, self._held = self._held, []
        if self._cancel_held is not None:
            self._cancel_held()
            self._cancel_held = None
        for uuid, data, _delay in held:
            self._send_later(uuid, data, self.config.latency)

    def _send_later(self, uuid: str, data: bytes, delay: float) -> None:
        """Send a reply after a delay, on this link only."""
        client = self._client

        def send() -> None:
            if client is None or client is not self._client:
                return  # the link went down meanwhile: the reply is lost with it
            if uuid == ftms.MACHINE_STATUS:
                self._send_status_bytes(data)
            else:
                client.notify(uuid, data)

        if delay <= 0:
            send()
        else:
            call_later(self._clock, delay, send)

    def _send_status(self, status: MachineStatus) -> None:
        """Notify a Fitness Machine Status now."""
        self._send_status_bytes(ftms.encode_machine_status(status))

    def _send_status_bytes(self, data: bytes) -> None:
        """Notify an encoded status and remember it for the next replay."""
        if ftms.MACHINE_STATUS not in self._characteristics():
            return
        self._last_status = data
        self._notify(ftms.MACHINE_STATUS, data)

    # ------------------------------------------------------------ physics

    def _reset_session(self) -> None:
        """Zero the session counters."""
        self.distance = 0.0  # m
        self.elevation_gain = 0.0  # m
        self.elapsed = 0.0  # s
        self.energy = 0.0  # kcal
        self.steps = 0.0
        self.heart_rate = RESTING_HEART_RATE

    def _start_ticking(self) -> None:
        """Start the 1 Hz notifications unless they run already."""
        if self._cancel_tick is None:
            self._last_tick = self._clock.now()
            self._cancel_tick = call_later(self._clock, self.config.interval, self._tick)

    def _tick(self) -> None:
        """Move the world on and notify Treadmill Data."""
        self._cancel_tick = call_later(self._clock, self.config.interval, self._tick)
        self._integrate()
        for packet in self._packets():
            self._notify(ftms.TREADMILL_DATA, packet)

    def _integrate(self) -> None:
        """Integrate belt, incline and counters up to now."""
        now = self._clock.now()
        last, self._last_tick = self._last_tick or now, now
        seconds = (now - last).total_seconds()
        if seconds <= 0:
            return
        config = self.config
        goal = (self.target_speed or 0.0) if self.state is BeltState.RUNNING else 0.0
        rate = config.acceleration if goal > self.belt_speed else config.deceleration
        before = self.belt_speed
        self.belt_speed = _approach(before, goal, rate * seconds)
        self.incline = _approach(self.incline, self.target_incline, config.incline_rate * seconds)
        mean_speed = (before + self.belt_speed) / 2
        metres = mean_speed / 3.6 * seconds
        if not self.distance_frozen:
            self.distance += metres
        self.elevation_gain += metres * max(self.incline, 0.0) / 100
        if self.state is BeltState.RUNNING:
            self.elapsed += seconds
        if mean_speed > 0:
            self.energy += (
                _kcal_per_minute(mean_speed, self.incline, config.body_mass) * seconds / 60
            )
            self.steps += (85 + 7 * mean_speed) / 60 * seconds
        heart_goal = RESTING_HEART_RATE + 8 * self.belt_speed + 2 * max(self.incline, 0.0)
        self.heart_rate = _approach(self.heart_rate, heart_goal, 2.0 * seconds)

    def _record(self) -> TreadmillData:
        """Return the current Treadmill Data record."""
        config = self.config
        return TreadmillData(
            speed=round(self.belt_speed, 2),
            total_distance=int(self.distance),
            inclination=round(self.incline, 1) if config.incline_range else None,
            positive_elevation_gain=round(self.elevation_gain, 1),
            negative_elevation_gain=0.0,
            total_energy=int(self.energy),
            heart_rate=round(self.heart_rate) if config.heart_rate else None,
            elapsed_time=int(self.elapsed),
            step_count=int(self.steps) if config.steps else None,
        )

    def _packets(self) -> list[bytes]:
        """Encode the record, split over two packets when configured, garbled on demand."""
        record = self._record()
        if self.config.split_records:
            first = TreadmillData(
                more_data=True,
                total_distance=record.total_distance,
                total_energy=record.total_energy,
                elapsed_time=record.elapsed_time,
                step_count=record.step_count,
            )
            second = TreadmillData(
                speed=record.speed,
                inclination=record.inclination,
                positive_elevation_gain=record.positive_elevation_gain,
                negative_elevation_gain=record.negative_elevation_gain,
                heart_rate=record.heart_rate,
            )
            packets = [ftms.encode_treadmill_data(first), ftms.encode_treadmill_data(second)]
        else:
            packets = [ftms.encode_treadmill_data(record)]
        if self._faults.garbled:
            self._faults.garbled -= 1
            # Flags announcing every field, with the body cut short: undecodable.
            packets[0] = b"\xfe\x3f" + packets[0][2:5]
        return packets

    def _training_status(self) -> ftms.TrainingStatus:
        """Return the Training Status matching the belt state."""
        if self.state is BeltState.RUNNING:
            return ftms.TrainingStatus(ftms.TrainingStatusCode.MANUAL_MODE)
        return ftms.TrainingStatus(ftms.TrainingStatusCode.IDLE)

    # ------------------------------------------------------------ fault injection

    def drop_link(self) -> None:
        """Drop the link now (out of range, power glitch)."""
        if self._client is not None:
            self._client.link_lost()

    def drop_link_in(self, seconds: float) -> Cancel:
        """Drop the link at a later moment on the clock."""
        return call_later(self._clock, seconds, self.drop_link)

    def reject_opcode(
        self,
        opcode: int,
        result: ResultCode = ResultCode.OPERATION_FAILED,
        times: int | None = None,
    ) -> None:
        """Answer an op code with a failure result (always, or `times` times)."""
        self._faults.rejects[opcode] = (result, times)

    def lose_indication(self, opcode: int, times: int = 1) -> None:
        """Carry out the next request(s) with this op code but never indicate them."""
        self._faults.lost[opcode] = times

    def delay_indication(self, opcode: int, seconds: float) -> None:
        """Indicate requests with this op code only after a delay."""
        self._faults.delays[opcode] = seconds

    def garble_next_notification(self, times: int = 1) -> None:
        """Send the next Treadmill Data notification(s) as undecodable bytes."""
        self._faults.garbled = times

    def delay_status(self, code: int, seconds: float) -> None:
        """Send the statuses with this code that a write causes `seconds` later than usual."""
        self._faults.status_delays[code] = seconds

    def reorder_next_replies(self) -> None:
        """Hold the next write's replies back until the following write's replies went.

        They go anyway after REORDER_HOLD s when no other write comes.
        """
        self._faults.reorder = True

    def freeze_distance(self, on: bool) -> None:
        """Freeze the distance counter (it stops advancing while the belt runs), or thaw it."""
        self._integrate()
        self.distance_frozen = on

    def reset_distance(self) -> None:
        """Reset the distance counter to 0 mid-session, as some consoles do."""
        self._integrate()
        self.distance = 0.0

    def clear_faults(self) -> None:
        """Forget every injected fault (a held reply still goes out)."""
        self._faults = _Faults({}, {}, {})
        self.distance_frozen = False

    def safety_key(self) -> None:
        """Pull the safety key: the belt stops dead and the session ends."""
        self._integrate()
        self.belt_speed = 0.0
        self._halt(BeltState.STOPPED)
        self._send_status(MachineStatus(MachineStatusCode.STOPPED_BY_SAFETY_KEY))

    def console_start(self) -> None:
        """Press start or resume on the console."""
        self._integrate()
        self._run()
        self._send_status(MachineStatus(MachineStatusCode.STARTED_OR_RESUMED))

    def console_pause(self) -> None:
        """Press pause on the console."""
        self._integrate()
        self._halt(BeltState.PAUSED)
        self._send_status(MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, ftms.PAUSE))

    def console_stop(self) -> None:
        """Press stop on the console."""
        self._integrate()
        self._halt(BeltState.STOPPED)
        self._send_status(MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, ftms.STOP))

    def console_set_speed(self, speed: float) -> None:
        """Change the speed with the console's buttons."""
        self._integrate()
        self.target_speed = _to_step(speed, self.config.speed_range)
        status = MachineStatus(MachineStatusCode.TARGET_SPEED_CHANGED, self.target_speed)
        self._send_status(status)

    def console_set_incline(self, incline: float) -> None:
        """Change the incline with the console's buttons."""
        self._integrate()
        self.target_incline = incline
        self._send_status(MachineStatus(MachineStatusCode.TARGET_INCLINE_CHANGED, incline))

    def take_control_back(self) -> None:
        """Revoke the client's control, as a console key or another app does."""
        self.has_control = False
        self._send_status(MachineStatus(MachineStatusCode.CONTROL_PERMISSION_LOST))


class SimulatedTreadmill(FtmsTreadmill):
    """The real FTMS client wired to a simulated peripheral."""

    def __init__(
        self,
        clock: Clock,
        simulator: SimulatedFtmsPeripheral,
        name: str = "Simulated treadmill",
        *,
        keep_connected: bool = True,
    ) -> None:
        """Connect the client to the simulator through its fake bleak client."""
        super().__init__(clock, simulator.connect, name, keep_connected=keep_connected)
        self.simulator = simulator


def create_simulated_treadmill(
    clock: Clock,
    config: SimulatorConfig | None = None,
    *,
    name: str = "Simulated treadmill",
    keep_connected: bool = True,
) -> SimulatedTreadmill:
    """Build a simulated treadmill; `.simulator` is the peripheral (faults, belt truth)."""
    simulator = SimulatedFtmsPeripheral(clock, config)
    return SimulatedTreadmill(clock, simulator, name, keep_connected=keep_connected)


def _response(opcode: int, result: ResultCode) -> bytes:
    """Encode a Control Point indication."""
    return ftms.encode_response(ControlResponse(opcode, result))


def _approach(value: float, goal: float, step: float) -> float:
    """Move value towards goal by at most step."""
    if value < goal:
        return min(value + step, goal)
    return max(value - step, goal)


def _to_step(value: float, machine_range: Range) -> float:
    """Round a target to the machine's step, as consoles do."""
    steps = round((value - machine_range.minimum) / machine_range.step)
    return round(machine_range.minimum + steps * machine_range.step, 2)


def _kcal_per_minute(speed: float, incline: float, body_mass: float) -> float:
    """Return gross energy expenditure from the ACSM walking/running equations."""
    metres_per_minute = speed * 1000 / 60
    grade = max(incline, 0.0) / 100
    if speed < WALK_RUN_THRESHOLD:
        vo2 = 3.5 + 0.1 * metres_per_minute + 1.8 * metres_per_minute * grade
    else:
        vo2 = 3.5 + 0.2 * metres_per_minute + 0.9 * metres_per_minute * grade
    # ml O2/kg/min -> l/min, at about 5 kcal per litre of oxygen.
    return vo2 * body_mass / 1000 * 5


def _mask(bits: list[MachineFeature] | list[TargetFeature]) -> int:
    """Return a bit mask of feature bits."""
    mask = 0
    for bit in bits:
        mask |= 1 << bit
    return mask
