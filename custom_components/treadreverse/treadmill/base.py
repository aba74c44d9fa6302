"""The typed interface that everything above uses for "a treadmill"."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class TreadmillError(Exception):
    """Base of every error the treadmill layer raises."""


class TreadmillConnectionError(TreadmillError):
    """The treadmill could not be reached or the link broke."""


class CommandFailure(StrEnum):
    """Why a command did not take effect."""

    NOT_SUPPORTED = "not_supported"
    INVALID_PARAMETER = "invalid_parameter"
    OPERATION_FAILED = "operation_failed"
    CONTROL_NOT_PERMITTED = "control_not_permitted"
    TIMEOUT = "timeout"
    DISCONNECTED = "disconnected"
    NOT_CONTROLLABLE = "not_controllable"
    SUPERSEDED = "superseded"  # still queued when a stop jumped the queue: dropped


class CommandError(TreadmillError):
    """A command was refused, timed out or was dropped."""

    def __init__(self, command: str, failure: CommandFailure) -> None:
        """Remember which command failed and why."""
        super().__init__(f"{command}: {failure.value}")
        self.command = command
        self.failure = failure


class DataField(StrEnum):
    """Measurements a treadmill may report."""

    SPEED = "speed"
    INCLINE = "incline"
    DISTANCE = "distance"
    ELAPSED = "elapsed"
    ENERGY = "energy"
    HEART_RATE = "heart_rate"
    STEPS = "steps"
    ELEVATION_GAIN = "elevation_gain"


@dataclass(frozen=True, slots=True)
class Range:
    """A settable range: minimum, maximum and the machine's step."""

    minimum: float
    maximum: float
    step: float


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a treadmill can do and report."""

    controllable: bool
    speed: Range | None = None  # km/h
    incline: Range | None = None  # %
    fields: frozenset[DataField] = frozenset()


@dataclass(frozen=True, slots=True)
class LiveData:
    """The latest measurements; None where the machine does not report a field."""

    speed: float | None = None  # km/h
    incline: float | None = None  # %
    distance: float | None = None  # m since the machine's session start
    elapsed: int | None = None  # s
    energy: float | None = None  # kcal
    heart_rate: int | None = None  # bpm
    steps: int | None = None
    elevation_gain: float | None = None  # m


class MachineEventType(StrEnum):
    """Things the machine or the link tell us about."""

    STARTED = "started"  # started or resumed by the person on the console
    PAUSED = "paused"  # paused by the person on the console
    STOPPED = "stopped"  # stopped by the person on the console
    SAFETY_KEY = "safety_key"  # stopped by the safety key
    TARGET_SPEED_CHANGED = "target_speed_changed"  # on the console, not by us
    TARGET_INCLINE_CHANGED = "target_incline_changed"  # on the console, not by us
    CONTROL_LOST = "control_lost"  # the machine took control back
    CONNECTED = "connected"  # link up (again); control re-requested, nothing moved
    DISCONNECTED = "disconnected"  # link lost; pending commands were dropped


@dataclass(frozen=True, slots=True)
class MachineEvent:
    """One machine status event, with the new target where there is one."""

    type: MachineEventType
    value: float | None = None


type DataListener = Callable[[LiveData], None]
type EventListener = Callable[[MachineEvent], None]


@dataclass(slots=True)
class _Listeners:
    """Registered data and event listeners."""

    data: list[DataListener] = field(default_factory=list)
    events: list[EventListener] = field(default_factory=list)


class Treadmill(ABC):
    """A treadmill: connection, capabilities, live data, events and commands.

    Commands return when the machine confirmed them and raise CommandError otherwise.
    `stop` jumps any queue of commands. No command is re-sent by the layer after a
    reconnect: nothing moves by itself.
    """

    def __init__(self) -> None:
        """Start with no listeners and no data."""
        self._listeners = _Listeners()
        self.data = LiveData()

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities:
        """Return what this treadmill can do and report."""

    @property
    @abstractmethod
    def connected(self) -> bool:
        """Return whether the link is up (always True for a manual treadmill)."""

    @property
    def control_taken_back(self) -> bool:
        """Return whether the treadmill took control back (then only stop or pause ask again).

        Always False for treadmills without remote control.
        """
        return False

    def drop_pending_start(self) -> None:
        """Never write a start handed over and still waiting (a pause is on its way).

        A pause that first lowers the stored speed (rules 3 and 11) goes out behind that
        lowering; a start still waiting for control must not slip out before them.
        Treadmills that write at once have nothing waiting: nothing happens.
        """
        return

    async def request_control(self) -> None:
        """Ask the treadmill for control again, e.g. when a person starts a new programme.

        This ends the "control taken back" state. Treadmills without remote control (the
        manual kind) have nothing to ask for: nothing happens.
        """
        return

    @abstractmethod
    async def connect(self) -> None:
        """Connect (or keep connecting in the background); raise TreadmillConnectionError."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Release the treadmill and stop reconnecting."""

    @abstractmethod
    async def start(self) -> None:
        """Start or resume the belt."""

    @abstractmethod
    async def pause(self) -> None:
        """Pause the belt (the session continues)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop the belt at once, ahead of anything queued."""

    @abstractmethod
    async def set_speed(self, speed: float) -> None:
        """Set the target speed in km/h (never starts a stopped belt)."""

    @abstractmethod
    async def set_incline(self, incline: float) -> None:
        """Set the target incline in %."""

    def subscribe(
        self, on_data: DataListener | None = None, on_event: EventListener | None = None
    ) -> Callable[[], None]:
        """Register listeners; return a function that removes them."""
        if on_data:
            self._listeners.data.append(on_data)
        if on_event:
            self._listeners.events.append(on_event)

        def unsubscribe() -> None:
            if on_data and on_data in self._listeners.data:
                self._listeners.data.remove(on_data)
            if on_event and on_event in self._listeners.events:
                self._listeners.events.remove(on_event)

        return unsubscribe

    def _publish_data(self, data: LiveData) -> None:
        """Store and hand new measurements to every listener."""
        self.data = data
        for listener in list(self._listeners.data):
            listener(data)

    def _publish_event(self, event: MachineEvent) -> None:
        """Hand a machine event to every listener."""
        for listener in list(self._listeners.events):
            listener(event)
