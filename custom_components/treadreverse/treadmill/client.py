"""FTMS treadmill over Bluetooth (bleak, bleak-retry-connector), timed on an injected Clock.

Queue policy: Control Point writes run one at a time, each waiting for its indication.
`stop` jumps the queue: it is written at once, even while another command still waits
for its indication. Nothing submitted before a stop is ever written after it: every
command still queued, or taken from the queue but not yet written (e.g. waiting for
control), fails with CommandFailure.SUPERSEDED; a stop epoch is checked right before
each write. `pause` jumps the queue too, and a start submitted before it is superseded
the same way (written after the pause it would run a belt just paused). A stop never
waits for a control request already in flight: the machine carries requests out in
order, so the stop is written right behind it. Commands
submitted after the stop run normally, once the stop has been written and answered.
A lost link fails every pending command with CommandFailure.DISCONNECTED at once; a
reconnect only re-requests control (when we held it) and never re-sends a speed,
incline or start: nothing moves.

Status policy: the first Machine Status within 1 s of subscribing is the machine's
replay of an old one and is skipped, except a stop, pause or safety key: it may be a
person's, and a needless pause beats a hidden emergency.

Echo policy: a status that confirms our own command (same code, same target within half
a machine step) is not a console event and is not published. It is expected for 5 s
(ECHO_WINDOW), or for 30 s (ECHO_LIFETIME) when the machine confirmed that kind of
command with a status before: such a machine will confirm it, only late (a console that
counts down before the belt moves confirms the start late, after a pause or a console
action). A published console event ends every expectation, except one younger than 5 s
of a kind the machine confirms. Known limit: the very first start of a session whose
confirmation comes after 5 s, or after a console action, is taken for a console start.

Connection policy: `connect()` makes one attempt. When it fails and keep_connected is
set, attempts continue in the background (+3/+10/+30/+60 s, then every 60 s). A link
lost after a successful connect is re-established the same way in both modes until
`disconnect()` is called.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import partial
import logging
from typing import TYPE_CHECKING, NamedTuple, Protocol, override

from bleak.exc import BleakError

from . import ftms
from .base import (
    Capabilities,
    CommandError,
    CommandFailure,
    DataField,
    LiveData,
    MachineEvent,
    MachineEventType,
    Range,
    Treadmill,
    TreadmillConnectionError,
)
from .clock import Clock, sleep_until, wait_for
from .ftms import (
    ControlOpcode,
    ControlResponse,
    FtmsDecodeError,
    FtmsEncodeError,
    MachineStatus,
    MachineStatusCode,
    ResultCode,
    TreadmillData,
)

if TYPE_CHECKING:
    from bleak.backends.device import BLEDevice

_LOGGER = logging.getLogger(__name__)

DEFAULT_SPEED_RANGE = Range(1.0, 12.0, 0.1)  # when the machine has no 0x2AD4
DEFAULT_INCLINE_RANGE = Range(0.0, 10.0, 1.0)  # when it targets incline but has no 0x2AD5
BACKOFF = (3.0, 10.0, 30.0, 60.0)  # s between reconnection attempts; the last repeats
COMMAND_TIMEOUT = 5.0  # s for a write and its indication
STALE_STATUS_WINDOW = 1.0  # s after subscribing in which the first status is a replay
_AT_REST_KMH = 0.05  # a belt measured at or below this rests (the interlock's AT_REST_KMH)
ECHO_WINDOW = 5.0  # s in which a status may confirm our own command
ECHO_LIFETIME = 30.0  # s, instead, for a kind of status the machine did confirm before

_RECORD_FIELDS = tuple(f.name for f in fields(TreadmillData))
_LINK_ERRORS = (BleakError, TimeoutError, OSError, EOFError)

type NotifyCallback = Callable[[object, bytearray], None]
type DisconnectCallback = Callable[[], None]


class ServicesLike(Protocol):
    """The subset of BleakGATTServiceCollection we use."""

    def get_characteristic(self, specifier: str, /) -> object | None:
        """Return a characteristic by UUID, or None."""
        ...


class BleakClientLike(Protocol):
    """The subset of BleakClient we use; the simulator's fake client implements it too."""

    @property
    def is_connected(self) -> bool:
        """Return whether the link is up."""
        ...

    @property
    def services(self) -> ServicesLike:
        """Return the discovered GATT services."""
        ...

    async def start_notify(self, char_specifier: str, callback: NotifyCallback, /) -> None:
        """Subscribe to notifications or indications."""
        ...

    async def read_gatt_char(self, char_specifier: str, /) -> bytearray:
        """Read a characteristic."""
        ...

    async def write_gatt_char(self, char_specifier: str, data: bytes, /, response: bool) -> None:
        """Write a characteristic."""
        ...

    async def disconnect(self) -> None:
        """Drop the link."""
        ...


type Connector = Callable[[DisconnectCallback], Awaitable[BleakClientLike]]


def bleak_connector(ble_device: Callable[[], BLEDevice | None], name: str) -> Connector:
    """Return a connector that opens a fresh BleakClient to the latest BLEDevice."""

    async def connect(on_disconnect: DisconnectCallback) -> BleakClientLike:
        from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

        device = ble_device()
        if device is None:
            raise TreadmillConnectionError(f"{name} is not in range")
        client: BleakClientLike = await establish_connection(
            BleakClientWithServiceCache,
            device,
            name,
            disconnected_callback=lambda _client: on_disconnect(),
            ble_device_callback=lambda: ble_device() or device,
        )
        return client

    return connect


class _Epoch(NamedTuple):
    """When a command was handed over: stops (and, for a start, pauses) written since."""

    stops: int
    pauses: int | None  # None: a pause does not supersede it


@dataclass(slots=True)
class _Command:
    """A queued Control Point command and the caller waiting for it."""

    name: str
    payload: bytes
    echo: MachineStatus | None
    future: asyncio.Future[None]
    epoch: _Epoch  # the stop (and, for a start, pause) epoch it was submitted in


@dataclass(slots=True)
class _Waiter:
    """A written request waiting for its indication."""

    name: str
    opcode: int
    priority: bool
    future: asyncio.Future[ControlResponse]


@dataclass(slots=True)
class _Echo:
    """A status the machine will send to confirm our own command."""

    code: int
    value: float | None
    since: datetime


@dataclass(slots=True)
class _Session:
    """Per-link state, thrown away with the link."""

    partial: TreadmillData | None = None
    stale_until: datetime | None = None
    waiters: list[_Waiter] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)  # kinds of bad data already logged


_RESULT_FAILURES: dict[int, CommandFailure] = {
    ResultCode.NOT_SUPPORTED: CommandFailure.NOT_SUPPORTED,
    ResultCode.INVALID_PARAMETER: CommandFailure.INVALID_PARAMETER,
    ResultCode.OPERATION_FAILED: CommandFailure.OPERATION_FAILED,
    ResultCode.CONTROL_NOT_PERMITTED: CommandFailure.CONTROL_NOT_PERMITTED,
}


_CONTROL_LOST = (MachineStatusCode.CONTROL_PERMISSION_LOST, MachineStatusCode.RESET)

_REPORTED_WHEN_STALE = (
    MachineStatusCode.STOPPED_BY_SAFETY_KEY,
    MachineStatusCode.STOPPED_OR_PAUSED,
)

_HALTS = frozenset({MachineEventType.PAUSED, MachineEventType.STOPPED, MachineEventType.SAFETY_KEY})
_SIMPLE_EVENTS: dict[int, MachineEventType] = {
    MachineStatusCode.STOPPED_BY_SAFETY_KEY: MachineEventType.SAFETY_KEY,
    MachineStatusCode.STARTED_OR_RESUMED: MachineEventType.STARTED,
    MachineStatusCode.TARGET_SPEED_CHANGED: MachineEventType.TARGET_SPEED_CHANGED,
    MachineStatusCode.TARGET_INCLINE_CHANGED: MachineEventType.TARGET_INCLINE_CHANGED,
    MachineStatusCode.CONTROL_PERMISSION_LOST: MachineEventType.CONTROL_LOST,
    # After a reset the machine no longer grants us control either.
    MachineStatusCode.RESET: MachineEventType.CONTROL_LOST,
}


def _status_event(status: MachineStatus) -> MachineEvent | None:
    """Map a Fitness Machine Status onto a machine event (None: not one we report)."""
    if status.code == MachineStatusCode.STOPPED_OR_PAUSED:
        paused = status.value == ftms.PAUSE
        return MachineEvent(MachineEventType.PAUSED if paused else MachineEventType.STOPPED)
    kind = _SIMPLE_EVENTS.get(status.code)
    if kind is None:
        return None
    return MachineEvent(kind, status.value)


def _merge(old: TreadmillData, new: TreadmillData) -> TreadmillData:
    """Merge the next packet of a multi-packet record into what came before."""
    values = [
        getattr(new, name) if getattr(new, name) is not None else getattr(old, name)
        for name in _RECORD_FIELDS
    ]
    values[0] = new.more_data
    return TreadmillData(*values)


def _to_range(value: ftms.SupportedRange, default: Range) -> Range:
    """Return a supported range, or the default when the machine's is nonsense."""
    if value.minimum > value.maximum:
        return default
    step = value.step if value.step > 0 else default.step
    return Range(value.minimum, value.maximum, step)


class FtmsTreadmill(Treadmill):
    """A treadmill speaking the Fitness Machine Service through a bleak-like client."""

    def __init__(
        self,
        clock: Clock,
        connector: Connector,
        name: str = "treadmill",
        *,
        keep_connected: bool = True,
        command_timeout: float = COMMAND_TIMEOUT,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        """Remember how to reach the treadmill; nothing is opened until connect()."""
        super().__init__()
        self.name = name
        self.keep_connected = keep_connected
        self.training_status: ftms.TrainingStatus | None = None
        # Read once, at the first connection: it names the machine and does not change.
        self.device_information: ftms.DeviceInformation | None = None
        self._clock = clock
        self._connector = connector
        self._timeout = command_timeout
        self._backoff = tuple(backoff)
        self._client: BleakClientLike | None = None
        self._link = 0  # bumped per link, so callbacks of an old link are ignored
        self._wanted = False
        self._lock = asyncio.Lock()
        self._capabilities = Capabilities(controllable=False)
        self._has_control = False
        self._had_control = False
        self._queue: deque[_Command] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._queue_running = False
        self._reconnector: asyncio.Task[None] | None = None
        self._echoes: list[_Echo] = []
        self._echoed: set[int] = set()  # status codes the machine confirmed our commands with
        self._session = _Session()
        # The last Machine Status any link delivered: a new link's replay of it is old news.
        self._last_status: bytes | None = None
        self._stop_epoch = 0  # bumped by every stop: older commands are never written
        self._pause_epoch = 0  # bumped by every pause: an older start is never written
        self._stops: set[asyncio.Future[None]] = set()  # stops not answered yet
        self._control_request: asyncio.Future[None] | None = None  # in flight, shared
        self._taken_back = False  # the treadmill took control back (rule 10)

    # ------------------------------------------------------------ connection

    @property
    def capabilities(self) -> Capabilities:
        """Return what the machine said it can do at the last connection."""
        return self._capabilities

    @property
    def connected(self) -> bool:
        """Return whether the link is up."""
        return self._client is not None and self._client.is_connected

    @property
    def control_taken_back(self) -> bool:
        """Return whether the treadmill took control back and nobody asked for it since."""
        return self._taken_back

    async def connect(self) -> None:
        """Connect once; on failure keep trying in the background when keep_connected."""
        self._wanted = True
        async with self._lock:
            if self.connected:
                return
            try:
                await self._open()
            except TreadmillConnectionError:
                if self.keep_connected:
                    self._schedule_reconnect()
                raise
        self._publish_event(MachineEvent(MachineEventType.CONNECTED))

    async def disconnect(self) -> None:
        """Release the treadmill, fail pending commands and stop reconnecting."""
        self._wanted = False
        if self._reconnector is not None:
            self._reconnector.cancel()
            self._reconnector = None
        async with self._lock:
            client = self._client
            if client is None:
                return
            self._drop_link()
            self._had_control = False
            await _quietly_disconnect(client)
        self._publish_event(MachineEvent(MachineEventType.DISCONNECTED))

    async def _open(self) -> None:
        """Open a link, read features and ranges, and subscribe."""
        self._link += 1
        link = self._link
        try:
            client = await self._connector(partial(self._on_link_lost, link))
        except (*_LINK_ERRORS, TreadmillConnectionError) as err:
            raise TreadmillConnectionError(f"{self.name}: cannot connect: {err}") from err
        try:
            await self._setup(client, link)
        except (*_LINK_ERRORS, FtmsDecodeError, TreadmillConnectionError) as err:
            self._client = None
            await _quietly_disconnect(client)
            raise TreadmillConnectionError(f"{self.name}: set-up failed: {err}") from err
        except asyncio.CancelledError:
            # disconnect() cancelled a reconnection half-way: never leave a link open.
            self._client = None
            await _quietly_disconnect(client)
            raise

    async def _setup(self, client: BleakClientLike, link: int) -> None:
        """Read what the machine can do and subscribe to what it reports."""
        services = client.services

        def has(uuid: str) -> bool:
            return services.get_characteristic(uuid) is not None

        if not has(ftms.TREADMILL_DATA):
            raise TreadmillConnectionError("no Treadmill Data characteristic")
        self._capabilities = await self._read_capabilities(client, has)
        if self.device_information is None:
            self.device_information = await _read_device_information(client, has)
        self._session = _Session(stale_until=self._clock.now() + _seconds(STALE_STATUS_WINDOW))
        await client.start_notify(ftms.TREADMILL_DATA, partial(self._on_data, link))
        if has(ftms.MACHINE_STATUS):
            await client.start_notify(ftms.MACHINE_STATUS, partial(self._on_status, link))
        if self._capabilities.controllable:
            await client.start_notify(ftms.CONTROL_POINT, partial(self._on_response, link))
        if has(ftms.TRAINING_STATUS):
            await self._subscribe_training_status(client, link)
        if not client.is_connected:
            raise TreadmillConnectionError("link lost during set-up")
        self._client = client

    async def _read_capabilities(
        self, client: BleakClientLike, has: Callable[[str], bool]
    ) -> Capabilities:
        """Read Feature and the supported ranges; use defaults where one is missing."""
        feature = ftms.FitnessMachineFeature()
        if has(ftms.FITNESS_MACHINE_FEATURE):
            feature = ftms.decode_feature(await client.read_gatt_char(ftms.FITNESS_MACHINE_FEATURE))
        controllable = has(ftms.CONTROL_POINT)
        speed = DEFAULT_SPEED_RANGE if controllable else None
        if has(ftms.SUPPORTED_SPEED_RANGE):
            raw = ftms.decode_speed_range(await client.read_gatt_char(ftms.SUPPORTED_SPEED_RANGE))
            speed = _to_range(raw, DEFAULT_SPEED_RANGE)
        incline = None
        if controllable and feature.can_target(ftms.TargetFeature.INCLINATION):
            incline = DEFAULT_INCLINE_RANGE
        if has(ftms.SUPPORTED_INCLINATION_RANGE):
            data = await client.read_gatt_char(ftms.SUPPORTED_INCLINATION_RANGE)
            incline = _to_range(ftms.decode_inclination_range(data), DEFAULT_INCLINE_RANGE)
        fields = feature.data_fields() if feature.machine else frozenset({DataField.SPEED})
        return Capabilities(controllable, speed, incline, fields)

    async def _subscribe_training_status(self, client: BleakClientLike, link: int) -> None:
        """Subscribe to Training Status, which is optional: a failure is not fatal."""
        try:
            await client.start_notify(ftms.TRAINING_STATUS, partial(self._on_training, link))
        except BleakError as err:
            _LOGGER.debug("%s: no training status: %s", self.name, err)

    def _on_link_lost(self, link: int) -> None:
        """Report a lost link at once, drop pending commands and start reconnecting."""
        if link != self._link or self._client is None:
            return
        _LOGGER.info("%s: link lost", self.name)
        self._had_control = self._has_control
        self._drop_link()
        self._publish_event(MachineEvent(MachineEventType.DISCONNECTED))
        if self._wanted:
            self._schedule_reconnect()

    def _drop_link(self) -> None:
        """Forget the link and fail everything that waits on it."""
        self._client = None
        self._link += 1
        self._has_control = False
        self._echoes.clear()
        session, self._session = self._session, _Session()
        for waiter in session.waiters:
            _fail(waiter.future, CommandError(waiter.name, CommandFailure.DISCONNECTED))
        self._drop_queue(CommandFailure.DISCONNECTED)

    def _schedule_reconnect(self) -> None:
        """Start the background reconnection loop unless it runs already."""
        if self._reconnector is None or self._reconnector.done():
            self._reconnector = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        """Try to reconnect with backoff until connected or no longer wanted."""
        attempt = 0
        while self._should_reconnect():
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            attempt += 1
            await sleep_until(self._clock, self._clock.now() + _seconds(delay))
            async with self._lock:
                if not self._should_reconnect():
                    return
                try:
                    await self._open()
                except TreadmillConnectionError as err:
                    _LOGGER.debug("%s: reconnect attempt %d failed: %s", self.name, attempt, err)
                    continue
            await self._after_reconnect()

    def _should_reconnect(self) -> bool:
        """Return whether the link is wanted and down."""
        return self._wanted and not self.connected

    async def _after_reconnect(self) -> None:
        """Re-request control when we held it; nothing else is sent: nothing moves.

        Not once the treadmill took control back: then only a stop or pause asks again.
        """
        if self._had_control and not self._taken_back:
            try:
                await self._ensure_control("reconnect")
            except CommandError as err:
                _LOGGER.warning("%s: control not regained: %s", self.name, err)
        self._publish_event(MachineEvent(MachineEventType.CONNECTED))

    # ------------------------------------------------------------ notifications

    def _on_data(self, link: int, _sender: object, data: bytearray) -> None:
        """Decode Treadmill Data, merge multi-packet records and publish complete ones."""
        if link != self._link:
            return
        try:
            record = ftms.decode_treadmill_data(data)
        except FtmsDecodeError as err:
            # A broken packet breaks the record it belonged to: its other parts go too.
            self._session.partial = None
            self._drop("treadmill data", err)
            return
        partial_record = self._session.partial
        if partial_record is not None:
            record = _merge(partial_record, record)
        if record.more_data:
            self._session.partial = record
            return
        self._session.partial = None
        self._publish_data(self._live(record))

    def _live(self, record: TreadmillData) -> LiveData:
        """Turn a complete record into LiveData, keeping values this record lacks."""
        old = self.data
        heart_rate = old.heart_rate if record.heart_rate is None else record.heart_rate or None
        energy = record.total_energy
        elevation = record.positive_elevation_gain
        return LiveData(
            speed=_pick(record.speed, old.speed),
            incline=_pick(record.inclination, old.incline),
            distance=_pick(record.total_distance, old.distance),
            elapsed=_pick(record.elapsed_time, old.elapsed),
            energy=float(energy) if energy is not None else old.energy,
            heart_rate=heart_rate,  # 0 means "no contact": report nothing
            steps=_pick(record.step_count, old.steps),
            elevation_gain=_pick(elevation, old.elevation_gain),
        )

    def _on_status(self, link: int, _sender: object, data: bytearray) -> None:
        """Publish console actions; skip the stale replay and echoes of our own commands."""
        if link != self._link:
            return
        try:
            status = ftms.decode_machine_status(data)
        except FtmsDecodeError as err:
            self._drop("machine status", err)
            return
        seen, self._last_status = self._last_status, bytes(data)
        control_lost = status.code in _CONTROL_LOST
        if control_lost:
            # Even when stale: one needless control request costs less than a refused stop.
            self._has_control = False
        if self._is_echo(status):
            return
        stale_until, self._session.stale_until = self._session.stale_until, None
        stale = stale_until is not None and self._clock.now() <= stale_until
        if stale and (status.code not in _REPORTED_WHEN_STALE or self._old_stop(data, seen)):
            # Machines replay their last status on subscription: it is old news. A stop,
            # pause or safety key is reported all the same (it may be a person's, and a
            # needless pause beats a hidden emergency), unless it is the very status the
            # last link ended on and the belt rests: reported, it would end the start
            # that opened this link as a console stop.
            return
        if control_lost:
            # The treadmill took control back: from now on control is asked again only
            # to stop or pause, until a person starts again (request_control).
            self._taken_back = True
        event = _status_event(status)
        if event is None:
            return
        if event.type in _HALTS:
            # The person paused or stopped on the console (or pulled the key): a start of
            # ours still waiting (for control, say) would run the belt they just halted.
            self.drop_pending_start()
        # The person has taken over: from now on the machine's statuses are theirs, so no
        # status (e.g. a start after their stop) may pass for the echo of an older command;
        # except a recent one of a kind this machine confirms: its confirmation is on the way.
        now = self._clock.now()
        self._echoes = [
            echo
            for echo in self._echoes
            if echo.code in self._echoed and now - echo.since <= _seconds(ECHO_WINDOW)
        ]
        self._publish_event(event)

    def _old_stop(self, data: bytearray, seen: bytes | None) -> bool:
        """Return whether a replayed stop or pause is the one already seen, belt at rest."""
        if data[:1] != bytes([MachineStatusCode.STOPPED_OR_PAUSED]):
            return False  # a safety key is always reported
        speed = self.data.speed
        return seen == bytes(data) and (speed is None or speed <= _AT_REST_KMH)

    def _on_response(self, link: int, _sender: object, data: bytearray) -> None:
        """Hand a Control Point indication to the request waiting for it."""
        if link != self._link:
            return
        try:
            response = ftms.decode_response(data)
        except FtmsDecodeError as err:
            self._drop("control point response", err)
            return
        waiters = [
            w for w in self._session.waiters if w.opcode == response.opcode and not w.future.done()
        ]
        # A stop's indication goes to the stop first, so that a pause whose own
        # indication was lost can never make the stop wait for its timeout.
        # A pause jumps the queue too, but a stop still comes first.
        waiters.sort(key=lambda w: (w.name != "stop", not w.priority))
        if not waiters:
            # For no request in flight (another op code, or late): nothing to hand it to.
            self._drop("unexpected control point response", response)
            return
        self._session.waiters.remove(waiters[0])
        waiters[0].future.set_result(response)

    def _on_training(self, link: int, _sender: object, data: bytearray) -> None:
        """Keep the latest Training Status."""
        if link != self._link:
            return
        try:
            self.training_status = ftms.decode_training_status(data)
        except FtmsDecodeError as err:
            self._drop("training status", err)

    def _drop(self, kind: str, why: object) -> None:
        """Log data the client drops: once per kind and link at info, then at debug.

        A treadmill that keeps sending bad data would otherwise flood the log; the first
        one is worth knowing about, the rest are the same news.
        """
        if kind in self._session.dropped:
            _LOGGER.debug("%s: dropped %s: %s", self.name, kind, why)
            return
        self._session.dropped.add(kind)
        _LOGGER.info(
            "%s: dropped %s it cannot use (more of the kind are logged at debug): %s",
            self.name,
            kind,
            why,
        )

    def _expect(self, echo: MachineStatus) -> _Echo:
        """Remember that the machine will confirm our command with this status."""
        entry = _Echo(echo.code, echo.value, self._clock.now())
        self._echoes.append(entry)
        return entry

    def _expect_opt(self, echo: MachineStatus | None) -> _Echo | None:
        """Expect a command's confirming status, when it has one."""
        return self._expect(echo) if echo is not None else None

    def _is_echo(self, status: MachineStatus) -> bool:
        """Consume and return whether a status merely confirms our own command."""
        now = self._clock.now()
        self._echoes = [echo for echo in self._echoes if now - echo.since <= self._lifetime(echo)]
        tolerance = self._echo_tolerance(status.code)
        for echo in self._echoes:
            if echo.code != status.code:
                continue
            if echo.value is None or status.value is None:
                matches = echo.value == status.value
            else:
                matches = abs(echo.value - status.value) <= tolerance
            if matches:
                self._echoes.remove(echo)
                self._echoed.add(echo.code)
                return True
        return False

    def _lifetime(self, echo: _Echo) -> timedelta:
        """Return how long a status may still confirm our command.

        A kind of status this machine confirmed before will come (a console that counts
        down confirms a start late): it is expected for ECHO_LIFETIME. Another may never
        come (not all firmware confirms): only for ECHO_WINDOW, so that it cannot hide
        a person's action for long.
        """
        return _seconds(ECHO_LIFETIME if echo.code in self._echoed else ECHO_WINDOW)

    def _echo_tolerance(self, code: int) -> float:
        """Return how far a confirmed target may be from ours (machines round to steps)."""
        ranges: dict[int, Range | None] = {
            MachineStatusCode.TARGET_SPEED_CHANGED: self._capabilities.speed,
            MachineStatusCode.TARGET_INCLINE_CHANGED: self._capabilities.incline,
        }
        machine_range = ranges.get(code)
        step = machine_range.step if machine_range is not None else 0.0
        return max(step / 2, 0.01) + 1e-6

    # ------------------------------------------------------------ commands

    async def start(self) -> None:
        """Start or resume the belt."""
        echo = MachineStatus(MachineStatusCode.STARTED_OR_RESUMED)
        await self._submit("start", ftms.start_or_resume(), echo)

    async def pause(self) -> None:
        """Pause the belt, written ahead of a command still waiting for its reply.

        Like a stop it does not wait in the queue: behind a command whose indication was
        lost it would wait out the reply timeout, and a turn's safety pause would come
        seconds late (rule 1). Unlike a stop it leaves the queue alone; what the engine
        queued behind it is superseded by the interlock, not here; only a start handed
        over before it (waiting for control, say) is never written after it.
        """
        self._require_link("pause")
        self.drop_pending_start()
        echo = MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, ftms.PAUSE)
        await self._send("pause", ftms.pause(), echo, priority=True)

    async def set_speed(self, speed: float) -> None:
        """Set the target speed in km/h; out of the machine's range is refused."""
        payload = self._checked("set_speed", speed, self._capabilities.speed, ftms.set_target_speed)
        echo = MachineStatus(MachineStatusCode.TARGET_SPEED_CHANGED, speed)
        await self._submit("set_speed", payload, echo)

    async def set_incline(self, incline: float) -> None:
        """Set the target incline in %; out of the machine's range is refused."""
        machine_range = self._capabilities.incline
        if machine_range is None and self._capabilities.controllable:
            raise CommandError("set_incline", CommandFailure.NOT_SUPPORTED)
        payload = self._checked("set_incline", incline, machine_range, ftms.set_target_inclination)
        echo = MachineStatus(MachineStatusCode.TARGET_INCLINE_CHANGED, incline)
        await self._submit("set_incline", payload, echo)

    @override
    def drop_pending_start(self) -> None:
        """Supersede a start handed over before now that is not written yet."""
        self._pause_epoch += 1

    async def request_control(self) -> None:
        """Ask for control now (a person starts again) and end the taken-back state."""
        self._require_link("request_control")
        self._has_control = False  # ask even when we believe we hold it
        await self._ensure_control("request_control", join=True)
        self._taken_back = False

    async def stop(self) -> None:
        """Stop the belt at once: drop the queue and write ahead of any stuck command."""
        self._require_link("stop")
        self._stop_epoch += 1
        self._drop_queue(CommandFailure.SUPERSEDED)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stops.add(done)
        echo = MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, ftms.STOP)
        try:
            await self._send("stop", ftms.stop(), echo, priority=True)
        finally:
            self._stops.discard(done)
            _succeed(done)

    def _checked(
        self,
        name: str,
        value: float,
        machine_range: Range | None,
        encode: Callable[[float], bytes],
    ) -> bytes:
        """Encode a target, refusing (never clipping) values out of range."""
        self._require_link(name)
        if machine_range is not None and not (
            machine_range.minimum - 1e-6 <= value <= machine_range.maximum + 1e-6
        ):
            raise CommandError(name, CommandFailure.INVALID_PARAMETER)
        try:
            return encode(value)
        except FtmsEncodeError as err:
            raise CommandError(name, CommandFailure.INVALID_PARAMETER) from err

    def _require_link(self, name: str) -> None:
        """Refuse a command when there is no Control Point or no link."""
        if not self.connected:
            raise CommandError(name, CommandFailure.DISCONNECTED)
        if not self._capabilities.controllable:
            raise CommandError(name, CommandFailure.NOT_CONTROLLABLE)

    async def _submit(self, name: str, payload: bytes, echo: MachineStatus) -> None:
        """Queue a command and wait until the machine confirmed it."""
        self._require_link(name)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A start handed over before a pause (which jumps the queue) must not follow it.
        pauses = self._pause_epoch if payload[0] == ControlOpcode.START_OR_RESUME else None
        self._queue.append(_Command(name, payload, echo, future, _Epoch(self._stop_epoch, pauses)))
        if not self._queue_running:
            # Eager: the write leaves in this call, before work other callers queued.
            self._worker = asyncio.Task(
                self._run_queue(), loop=asyncio.get_running_loop(), eager_start=True
            )
        await future

    async def _run_queue(self) -> None:
        """Send queued commands one at a time (one runner: it takes what is queued meanwhile)."""
        self._queue_running = True
        try:
            while self._queue:
                command = self._queue.popleft()
                if command.future.done():
                    continue  # the caller gave up (cancelled): do not send it
                try:
                    await self._after_stops()
                    await self._send(command.name, command.payload, command.echo, command.epoch)
                except CommandError as err:
                    _fail(command.future, err)
                else:
                    _succeed(command.future)
        finally:
            self._queue_running = False

    async def _send(
        self,
        name: str,
        payload: bytes,
        echo: MachineStatus | None,
        epoch: _Epoch | None = None,
        *,
        priority: bool = False,
    ) -> None:
        """Write a command once we hold control and wait for its answer.

        A stop or pause refused with "control not permitted" (the machine dropped our
        control without a word) requests control and is sent once more: control may be
        asked again to stop or pause, always.
        """
        self._check_epoch(name, epoch)
        halts = payload[0] == ControlOpcode.STOP_OR_PAUSE
        if self._taken_back and not halts:
            # The console has control: only a stop or pause may ask for it again.
            raise CommandError(name, CommandFailure.CONTROL_NOT_PERMITTED)
        await self._ensure_control(name, priority=priority)
        try:
            await self._exchange(
                name, payload, self._expect_opt(echo), priority=priority, epoch=epoch
            )
        except CommandError as err:
            if not halts or err.failure is not CommandFailure.CONTROL_NOT_PERMITTED:
                raise
            _LOGGER.info("%s: %s refused without control: requesting it again", self.name, name)
            await self._ensure_control(name, priority=priority, join=True)
            await self._exchange(
                name, payload, self._expect_opt(echo), priority=priority, epoch=epoch
            )

    def _drop_queue(self, failure: CommandFailure) -> None:
        """Fail every command that is still queued."""
        while self._queue:
            command = self._queue.popleft()
            _fail(command.future, CommandError(command.name, failure))

    async def _after_stops(self) -> None:
        """Wait until every stop submitted so far has been written and answered."""
        while self._stops:
            await asyncio.shield(next(iter(self._stops)))

    def _check_epoch(self, name: str, epoch: _Epoch | None) -> None:
        """Refuse to write a command submitted before the latest stop (a start: or pause)."""
        if epoch is None:
            return
        if epoch.stops != self._stop_epoch or epoch.pauses not in (None, self._pause_epoch):
            raise CommandError(name, CommandFailure.SUPERSEDED)

    async def _ensure_control(
        self, name: str, *, priority: bool = False, join: bool = False
    ) -> None:
        """Request control unless we hold it; share a request already in flight.

        A stop (priority) does not wait for a request in flight unless told to `join`:
        the machine carries requests out in order, so the stop written behind it finds
        control granted.
        """
        if self._has_control:
            return
        pending = self._control_request
        if pending is not None:
            if priority and not join:
                return
            try:
                await asyncio.shield(pending)
            except CommandError as err:
                raise CommandError(name, err.failure) from err
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._control_request = future
        try:
            await self._exchange(name, ftms.request_control(), None, priority=priority)
            self._has_control = True
            _succeed(future)
        except CommandError as err:
            _fail(future, err)
            raise
        finally:
            self._control_request = None
            _fail(future, CommandError(name, CommandFailure.OPERATION_FAILED))  # cancelled

    async def _exchange(
        self,
        name: str,
        payload: bytes,
        echo: _Echo | None,
        *,
        priority: bool = False,
        epoch: _Epoch | None = None,
    ) -> None:
        """Write one request and wait for its indication; raise CommandError on failure."""
        client = self._client
        if client is None:
            raise CommandError(name, CommandFailure.DISCONNECTED)
        future: asyncio.Future[ControlResponse] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(name, payload[0], priority, future)
        session = self._session
        session.waiters.append(waiter)
        try:
            response = await wait_for(
                self._clock,
                self._write_and_wait(client, name, payload, future, epoch),
                self._timeout,
            )
        except TimeoutError:
            raise CommandError(name, CommandFailure.TIMEOUT) from None
        except CommandError:
            if echo is not None and echo in self._echoes:
                self._echoes.remove(echo)
            raise
        finally:
            if waiter in session.waiters:
                session.waiters.remove(waiter)
        self._check_result(name, response, echo)

    async def _write_and_wait(
        self,
        client: BleakClientLike,
        name: str,
        payload: bytes,
        future: asyncio.Future[ControlResponse],
        epoch: _Epoch | None,
    ) -> ControlResponse:
        """Check the stop epoch, write with response, then wait for the indication."""
        self._check_epoch(name, epoch)
        try:
            await client.write_gatt_char(ftms.CONTROL_POINT, payload, response=True)
        except _LINK_ERRORS as err:
            failure = CommandFailure.OPERATION_FAILED if self.connected else None
            raise CommandError(name, failure or CommandFailure.DISCONNECTED) from err
        return await future

    def _check_result(self, name: str, response: ControlResponse, echo: _Echo | None) -> None:
        """Raise the CommandFailure matching a result code other than success."""
        if response.ok:
            return
        if echo is not None and echo in self._echoes:
            self._echoes.remove(echo)
        if response.result == ResultCode.CONTROL_NOT_PERMITTED:
            self._has_control = False
        failure = _RESULT_FAILURES.get(response.result, CommandFailure.OPERATION_FAILED)
        raise CommandError(name, failure)


def create_ftms_treadmill(
    clock: Clock,
    ble_device: Callable[[], BLEDevice | None],
    name: str,
    *,
    keep_connected: bool = True,
) -> FtmsTreadmill:
    """Build an FTMS treadmill reached through the latest BLEDevice `ble_device` returns."""
    return FtmsTreadmill(
        clock, bleak_connector(ble_device, name), name, keep_connected=keep_connected
    )


async def _read_device_information(
    client: BleakClientLike, has: Callable[[str], bool]
) -> ftms.DeviceInformation:
    """Read the Device Information Service's strings; a missing or unreadable one is None."""
    values: dict[str, str | None] = {}
    for uuid, name in ftms.DEVICE_INFORMATION_FIELDS.items():
        if not has(uuid):
            continue
        try:
            values[name] = ftms.decode_information_string(await client.read_gatt_char(uuid))
        except BleakError as err:
            # Optional strings: some firmware lists a characteristic it refuses to read.
            _LOGGER.debug("device information %s not readable: %s", name, err)
    return ftms.DeviceInformation(**values)


def _pick[T](new: T | None, old: T | None) -> T | None:
    """Return the new value, or the old one when the new record lacks it."""
    return old if new is None else new


def _seconds(value: float) -> timedelta:
    """Return a timedelta of seconds."""
    return timedelta(seconds=value)


def _succeed(future: asyncio.Future[None]) -> None:
    """Resolve a future unless it is already done (its caller was cancelled)."""
    if not future.done():
        future.set_result(None)


def _fail[T](future: asyncio.Future[T], error: CommandError) -> None:
    """Fail a future unless it is already done."""
    if not future.done():
        future.set_exception(error)


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a shared future's exception as seen, so an unawaited one logs nothing."""
    if not future.cancelled():
        future.exception()


async def _quietly_disconnect(client: BleakClientLike) -> None:
    """Disconnect, ignoring errors of a link that is going away anyway."""
    try:
        await client.disconnect()
    except _LINK_ERRORS as err:
        _LOGGER.debug("disconnect failed: %s", err)
