"""The runtime of one treadmill: its connection, its programme engine and what entities show."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, override

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
import homeassistant.util.dt as dt_util

from .clock import HomeAssistantClock
from .const import (
    CONF_KEEP_CONNECTED,
    CONF_KIND,
    DOMAIN,
    EVENT_TREADREVERSE,
    Kind,
)
from .device import device_identifier
from .helpers import (
    device_error,
    programme_error,
    run_command,
    treadmill_error,
    validation_error,
)
from .options import engine_options, entry_options
from .programme.compiler import compile_programme
from .programme.engine import Engine, EngineSnapshot
from .programme.events import CueType, EngineEvent, EventType, ProgrammeStatus
from .programme.interlock import Origin
from .programme.schema import Programme, ProgrammeError
from .programme.session import SessionRecord, cut_off_session
from .programmes import resolve_programme
from .storage import PROGRAMMES_KEY, LifetimeTotals, TreadmillStore
from .treadmill.base import (
    CommandError,
    CommandFailure,
    LiveData,
    MachineEvent,
    MachineEventType,
    Treadmill,
    TreadmillError,
)

if TYPE_CHECKING:
    from .announcer import Announcer

_LOGGER = logging.getLogger(__name__)

DEFAULT_PROGRAMME = "first_steps"
# How often the running session is written down, so a crash loses at most this much walking.
CHECKPOINT_INTERVAL = timedelta(seconds=30)
# Besides, at each of these (through the store's delayed save, so bursts cost one write).
CHECKPOINT_EVENTS = frozenset(
    {
        EventType.PROGRAMME_STARTED,
        EventType.INTERVAL_STARTED,
        EventType.DIRECTION_CHANGED,
        EventType.PROGRAMME_PAUSED,
    }
)
# Advertisements come several times a second: one connection attempt per this at most.
ADVERTISEMENT_RETRY = timedelta(seconds=30)

ACTIVE_STATUSES = frozenset(
    {
        ProgrammeStatus.WAITING,
        ProgrammeStatus.COUNTDOWN,
        ProgrammeStatus.RUNNING,
        ProgrammeStatus.PAUSED,
        ProgrammeStatus.TURNING,
    }
)


@dataclass(frozen=True, slots=True)
class TreadmillState:
    """What the entities of one treadmill show."""

    connected: bool
    live: LiveData
    engine: EngineSnapshot
    totals: LifetimeTotals
    interval_label: str | None = None  # in the coaching language
    last_event: EngineEvent | None = None


@dataclass(kw_only=True)
class TreadReverseData:
    """Runtime data of one config entry."""

    coordinator: TreadmillCoordinator
    announcer: Announcer


type TreadReverseConfigEntry = ConfigEntry[TreadReverseData]


class TreadmillCoordinator(DataUpdateCoordinator[TreadmillState]):
    """Push-only coordinator: the treadmill and the engine tell it when something changed."""

    config_entry: TreadReverseConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TreadReverseConfigEntry,
        treadmill: Treadmill,
        store: TreadmillStore,
    ) -> None:
        """Wire one treadmill to its engine and store."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=entry.title, update_interval=None)
        self.kind = Kind(entry.data[CONF_KIND])
        self.options = entry_options(entry)
        self.treadmill = treadmill
        self.store = store
        self.clock = HomeAssistantClock(hass)
        # Options only change through a reload, so the engine's are computed once.
        self.engine_options = engine_options(self.options, self.kind)
        self.engine = Engine(
            treadmill,
            self.clock,
            self.engine_options,
            speaker_check=self._speakers_work,
            cue_receipts=True,  # the announcer reports which turn cues a speaker accepted
        )
        self.speaker_check: Callable[[], bool] = lambda: True
        # Names an interval in the coaching language; the announcer replaces it.
        self.label_fn: Callable[[str], str] = lambda key: key
        self.library = hass.data[PROGRAMMES_KEY]
        self.selected_programme: str = DEFAULT_PROGRAMME
        self._outage_logged = False
        self._checkpoints: Callable[[], None] | None = None  # cancels the periodic checkpoint
        self._checkpointed: tuple[float, float, float, float, int] | None = None  # last written
        self._closed = False
        self._starting = asyncio.Lock()
        self._link_losses = 0  # a start being prepared sees a loss (rule 6)
        self._release: asyncio.Task[None] | None = None  # keep_connected off, after a session
        self._connecting: asyncio.Task[None] | None = None  # a background connection attempt
        self._last_attempt: datetime | None = None
        # Whether the link should be up now: always with keep_connected, else for a programme.
        self._wants_link = self.keep_connected
        self._unsubscribers: list[Callable[[], None]] = []
        self.data = self._state()

    @property
    def keep_connected(self) -> bool:
        """Return whether the link stays up between programmes."""
        return self.kind is not Kind.FTMS or bool(self.options[CONF_KEEP_CONNECTED])

    @property
    def device_id(self) -> str | None:
        """Return this treadmill's device registry id (a Bluetooth one is known by address)."""
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            device_identifier(self.config_entry), self.config_entry.entry_id
        )
        return device.id if device else None

    @override
    async def _async_update_data(self) -> TreadmillState:
        """Return the current state: everything is pushed, so a refresh has nothing to fetch.

        homeassistant.update_entity lands here; without it the base class raises.
        """
        return self._state()

    def _speakers_work(self) -> bool:
        """Return whether a turn cue can be heard (rule 2); the announcer replaces this."""
        return self.speaker_check()

    async def async_start(self) -> None:
        """Subscribe to the treadmill and the engine, then record a session a restart cut off."""
        self._unsubscribers += [
            self.treadmill.subscribe(self._on_data, self._on_machine_event),
            self.engine.add_listener(self._on_engine_event),
            self.engine.add_session_listener(self._on_session_end),
        ]
        await self._async_record_interrupted_session()
        self._log_connection(self.treadmill.connected)
        self._publish()
        self._follow_the_treadmill()

    def _follow_the_treadmill(self) -> None:
        """Connect a Bluetooth treadmill set up without its link: now, and when it advertises."""
        if self.kind is not Kind.FTMS:
            return
        self._unsubscribers.append(
            bluetooth.async_register_callback(
                self.hass,
                self._on_advertisement,
                bluetooth.BluetoothCallbackMatcher(
                    address=self.config_entry.data[CONF_ADDRESS], connectable=True
                ),
                bluetooth.BluetoothScanningMode.PASSIVE,
            )
        )
        self._connect_in_background()

    @callback
    def _on_advertisement(
        self, _info: bluetooth.BluetoothServiceInfoBleak, _change: bluetooth.BluetoothChange
    ) -> None:
        """Connect when the link is wanted: the treadmill advertises, so it is switched on."""
        now = dt_util.utcnow()
        if self._last_attempt is not None and now - self._last_attempt < ADVERTISEMENT_RETRY:
            return  # it advertises but did not take the last attempt: not again at once
        if self._connect_in_background():
            self._last_attempt = now

    def _connect_in_background(self) -> bool:
        """Try to connect once, unless connected, not wanted or trying; return whether it tries."""
        if self._closed or not self._wants_link or self.treadmill.connected:
            return False
        if self._connecting is not None and not self._connecting.done():
            return False
        self._connecting = self.config_entry.async_create_background_task(
            self.hass, self._async_connect_quietly(), "treadreverse connect"
        )
        return True

    async def _async_connect_quietly(self) -> None:
        """Connect; a treadmill still switched off is no error (it connects when it is on)."""
        try:
            await self.treadmill.connect()
        except TreadmillError as err:
            _LOGGER.debug("%s is not reachable yet: %s", self.config_entry.title, err)

    async def async_start_programme(
        self,
        programme: str | Programme,
        *,
        speed_scale: float = 1.0,
        wait_for_person: bool = False,
        origin: Origin = Origin.PERSON,
    ) -> None:
        """Start a programme by key or definition; refuse while one runs or starts."""
        self._check_open()
        if self.engine.status in ACTIVE_STATUSES or self._starting.locked():
            raise validation_error(
                "programme_running", programme=self.engine.snapshot().programme_name
            )
        async with self._starting:
            await self._async_start_programme(programme, speed_scale, wait_for_person, origin)

    async def _async_start_programme(
        self,
        programme: str | Programme,
        speed_scale: float,
        wait_for_person: bool,
        origin: Origin,
    ) -> None:
        """Resolve, compile, prepare the cues, then run; a stop meanwhile cancels the start."""
        # Every stop counts, the console's too (finding 4): the interlock counts them.
        stops = self.engine.interlock.stops
        key: str | None = None
        if isinstance(programme, str):
            key, programme = resolve_programme(self.hass, programme)
        await self._async_ensure_connected()
        losses = self._link_losses
        options = self.engine_options
        try:
            timeline = compile_programme(
                programme, options, self.treadmill.capabilities, speed_scale
            )
        except ProgrammeError as err:
            raise programme_error(err) from err
        # The first cues are spoken the moment the programme starts: generate them first.
        await self.config_entry.runtime_data.announcer.async_prepare(
            timeline,
            options,
            lambda coro, name: self.config_entry.async_create_background_task(
                self.hass, coro, name
            ),
            key=key,
            advisory=not self.engine.can_control,
        )
        # Unloaded meanwhile: the closed engine must not start timers nobody cancels.
        self._check_open()
        if self.engine.interlock.stops != stops:
            return  # Stop wins (rule 7): pressed while the start was being prepared.
        if self._link_losses != losses:
            # Rule 6: a lost link drops what was pending, this start too; the link may be
            # back already, but the person starts again.
            raise treadmill_error(CommandError("start", CommandFailure.DISCONNECTED))
        ir.async_delete_issue(self.hass, DOMAIN, f"control_refused_{self.config_entry.entry_id}")
        await run_command(
            self.engine.run_timeline(
                timeline, key=key, wait_for_person=wait_for_person, origin=origin
            )
        )

    async def async_press_start(self, origin: Origin = Origin.PERSON) -> None:
        """Start from the dashboard: confirm a waiting start, resume, or start the selection."""
        status = self.engine.status
        if status is ProgrammeStatus.WAITING:
            self.engine.confirm_person(origin)
        elif status is ProgrammeStatus.PAUSED:
            await self._async_ensure_connected()
            await run_command(self.engine.resume(origin))
        elif status not in ACTIVE_STATUSES:
            await self.async_start_programme(
                self.selected_programme,
                wait_for_person=origin is not Origin.PERSON,
                origin=origin,
            )

    def _require_active(self) -> None:
        """Refuse a programme command when no programme is active."""
        if self.engine.status not in ACTIVE_STATUSES:
            raise validation_error("not_active")

    async def async_pause(self, origin: Origin = Origin.PERSON) -> None:
        """Pause the programme and the belt (accepted from everyone)."""
        self._require_active()
        await run_command(self.engine.pause("user", origin))

    async def async_skip(self) -> None:
        """Skip to the next interval (never past a turn)."""
        self._require_active()
        await run_command(self.engine.skip())

    async def async_resume(self, origin: Origin = Origin.PERSON) -> None:
        """Resume a paused programme, or confirm a waiting one (only a person, rule 9)."""
        self._require_active()
        if self.engine.status is ProgrammeStatus.WAITING:
            self.engine.confirm_person(origin)
            return
        await self._async_ensure_connected()
        await run_command(self.engine.resume(origin))

    async def async_stop(self, origin: Origin = Origin.PERSON) -> None:
        """Stop the belt and the programme (rule 7: accepted at any time, from everyone)."""
        try:
            await self.engine.stop("user", origin)
        except TreadmillError as err:
            raise device_error("stop_unreachable") from err

    def _check_open(self) -> None:
        """Refuse to go on once the entry is unloading."""
        if self._closed:
            raise device_error("entry_unloaded")

    async def _async_ensure_connected(self) -> None:
        """Connect on demand when the link is released between programmes."""
        # A release still under way would take the link away from under this start; one
        # a session's end (told on the next loop pass) is about to begin, too.
        self.engine.tell_pending()
        await self._async_release_done()
        self._check_open()
        if self.kind is Kind.MANUAL or self.treadmill.connected:
            return
        self._wants_link = True
        try:
            await self.treadmill.connect()
        except TreadmillError as err:
            # Not wanted between programmes after all: advertisements must not connect it.
            self._wants_link = self.keep_connected or self.engine.active
            raise treadmill_error(err) from err
        self._check_open()  # unloaded while connecting: the unload closes the link

    async def _async_release_done(self) -> None:
        """Wait for the release after the last session, without cancelling it."""
        if self._release is not None and not self._release.done():
            await asyncio.wait((self._release,))

    async def async_shutdown_runtime(self, reason: str) -> None:
        """Leave safely (rule 11): slow and pause the belt, record the session, release all."""
        if self._closed:
            return
        self._closed = True
        # A start being prepared sees the entry closed and gives up; wait for it, so the
        # engine is closed only after it (its timers would run on otherwise).
        async with self._starting:
            pass
        await self._async_release_done()
        if self.engine.status in ACTIVE_STATUSES:
            await self.engine.shutdown(reason)
        await self.engine.close()
        self._stop_checkpoints()
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()
        await self.engine.close_link()
        # After the writes of a session the shutdown ended (the store waits for them).
        await self.store.async_save_now()

    async def _async_record_interrupted_session(self) -> None:
        """Record a session a restart or crash cut off, once: as its last checkpoint held it.

        A session the log already holds ended and was logged, but the crash came before its
        totals were saved: it is counted, not logged again. The log is written first, so a
        crash during this start-up only repeats it.
        """
        store = self.store
        active = store.record.active_session
        if active is None:
            return
        session = await store.sessions.async_get(active["id"]) if "id" in active else None
        if session is None:
            session = self._interrupted(active)
            await store.sessions.async_append([session])
        store.record.totals.add(session)
        store.record.active_session = None
        # One write holds the totals with the session and no active session: counted once.
        await store.async_save_now()

    def _interrupted(self, active: dict[str, Any]) -> dict[str, Any]:
        """Return the session a checkpoint holds, as it is logged."""
        if active.get("outcome"):
            # It had ended (the main file names a finished session until the log has it).
            return active
        _LOGGER.warning(
            "The programme %s was running when Home Assistant stopped; recorded as aborted",
            active.get("programme_name"),
        )
        return cut_off_session(active, now=dt_util.utcnow().isoformat(), reason="restart")

    @callback
    def _on_data(self, data: LiveData) -> None:
        """Take new measurements."""
        self._publish()

    @callback
    def _on_machine_event(self, event: MachineEvent) -> None:
        """Follow the link state; the engine reacts to the rest itself."""
        if event.type in (MachineEventType.CONNECTED, MachineEventType.DISCONNECTED):
            self._log_connection(event.type is MachineEventType.CONNECTED)
        if event.type is MachineEventType.DISCONNECTED:
            self._link_losses += 1
        if event.type is MachineEventType.CONNECTED and self.kind is Kind.FTMS:
            self._last_attempt = None
            # The next start-up sets up without the link from what the machine says now.
            self.store.remember_capabilities(self.treadmill.capabilities)
        self._publish()

    @callback
    def _on_engine_event(self, event: EngineEvent) -> None:
        """Fire the bus event and keep the active session on disk for restarts."""
        if event.public:
            event = replace(event, data=self._public_data(event))
            self.hass.bus.async_fire(
                EVENT_TREADREVERSE,
                {"device_id": self.device_id, "type": str(event.type), **event.data},
            )
        if event.type is CueType.COMMAND_FAILED and event.data.get("reason") == (
            CommandFailure.CONTROL_NOT_PERMITTED
        ):
            self._raise_control_refused(str(event.data["reason"]))
        if event.type is EventType.PROGRAMME_STARTED:
            self._start_checkpoints()
        if event.type in CHECKPOINT_EVENTS:
            self._checkpoint()
        self._publish(event if event.public else None)

    def _start_checkpoints(self) -> None:
        """Write the running session down every CHECKPOINT_INTERVAL until it ends."""
        self._stop_checkpoints()
        self._checkpointed = None
        self._checkpoints = async_track_time_interval(
            self.hass,
            self._on_checkpoint_due,
            CHECKPOINT_INTERVAL,
            name="treadreverse session checkpoint",
        )

    def _stop_checkpoints(self) -> None:
        """Stop writing the session down (it ended, or the entry unloads)."""
        if self._checkpoints is not None:
            self._checkpoints()
            self._checkpoints = None

    @callback
    def _on_checkpoint_due(self, _now: datetime) -> None:
        """Write the running session down (a callback: it runs in the event loop)."""
        self._checkpoint()

    @callback
    def _checkpoint(self) -> None:
        """Keep the running session on disk as it stands, ending now, for a crash or restart."""
        if not self.engine.active or (session := self.engine.session) is None:
            return
        held = (
            session.forward_distance_m,
            session.forward_time_s,
            session.backward_distance_m,
            session.backward_time_s,
            len(session.segments),
        )
        if held == self._checkpointed and self.store.record.active_session is not None:
            return  # nothing walked since (paused, waiting): no disk write
        self._checkpointed = held
        self.store.record.active_session = session.to_dict() | {"end": dt_util.utcnow().isoformat()}
        self.store.schedule_save()

    def _public_data(self, event: EngineEvent) -> dict[str, Any]:
        """Return a public event's data with the programme and, at the end, the session's totals."""
        snapshot = self.engine.snapshot()
        data: dict[str, Any] = {
            "programme": snapshot.programme_key,
            "name": snapshot.programme_name,
        }
        if event.type in (EventType.PROGRAMME_COMPLETED, EventType.PROGRAMME_ABORTED):
            data |= {
                "distance_m": snapshot.distance_m,
                "backward_distance_m": snapshot.backward_distance_m,
                "backward_time_s": snapshot.backward_time_s,
            }
        return data | event.data

    @callback
    def _on_session_end(self, session: SessionRecord) -> None:
        """Add a finished session to the lifetime totals now, and store it."""
        self._stop_checkpoints()
        # Written at once, not after the save delay: a crash just after the end must not
        # turn the session into a cut-off one (recorded from its last checkpoint). The
        # unload's final save waits for these writes (the store's lock).
        self.config_entry.async_create_task(
            self.hass, self.store.end_session(session.to_dict()), "treadreverse save session"
        )
        self._publish()
        if not self.keep_connected:
            # Release the treadmill so the vendor's app can connect between programmes.
            # The interlock lets go only once the completion's stop is confirmed.
            self._release = self.config_entry.async_create_background_task(
                self.hass, self._async_release(), "treadreverse release treadmill"
            )

    async def _async_release(self) -> None:
        """Release the link between programmes; a stop that cannot reach it is logged."""
        self._wants_link = False
        try:
            await self.engine.release()
        except TreadmillError as err:
            self._wants_link = True  # kept: losing it now is an outage again
            _LOGGER.warning("%s: kept the link, the stop was not confirmed: %s", self.name, err)

    def _raise_control_refused(self, reason: str) -> None:
        """Tell the user the treadmill refuses to be controlled; they must act."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"control_refused_{self.config_entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="control_refused",
            translation_placeholders={"name": self.config_entry.title, "reason": reason},
        )

    def _log_connection(self, connected: bool) -> None:
        """Log an outage once at info, and its end once; a release between programmes is none."""
        if self.kind is Kind.MANUAL:
            return
        title = self.config_entry.title
        if connected:
            if self._outage_logged:
                _LOGGER.info("%s is connected again", title)
            self._outage_logged = False
        elif not self._wants_link:
            _LOGGER.debug("%s is released until a programme starts", title)
        elif not self._outage_logged:
            _LOGGER.info("%s is unavailable", title)
            self._outage_logged = True

    def _state(self, event: EngineEvent | None = None) -> TreadmillState:
        """Build what the entities show now (the engine keeps a finished session's totals)."""
        snapshot = self.engine.snapshot()
        key = snapshot.interval_label_key
        return TreadmillState(
            connected=self.treadmill.connected,
            live=self.treadmill.data,
            engine=snapshot,
            totals=self.store.record.totals,
            interval_label=self.label_fn(key) if key else snapshot.interval_label,
            last_event=event,
        )

    @callback
    def _publish(self, event: EngineEvent | None = None) -> None:
        """Hand a fresh state to the entities."""
        self.async_set_updated_data(self._state(event))
