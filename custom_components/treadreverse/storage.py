"""What treadreverse keeps across restarts, in Home Assistant's storage helper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, MAX_STORED_SESSIONS
from .treadmill.base import Capabilities, DataField, Range

STORAGE_VERSION = 1
SAVE_DELAY = 5


@dataclass(slots=True)
class LifetimeTotals:
    """Lifetime totals of one treadmill; never derived from the bounded session log."""

    backward_distance_m: float = 0.0
    backward_time_s: float = 0.0
    sessions_completed: int = 0

    def add(self, session: Mapping[str, Any]) -> None:
        """Count a finished session (in its stored form)."""
        self.backward_distance_m += float(session.get("backward_distance_m") or 0.0)
        self.backward_time_s += float(session.get("backward_time_s") or 0.0)
        if session.get("outcome") == "completed":
            self.sessions_completed += 1


@dataclass(slots=True)
class TreadmillRecord:
    """Everything stored for one treadmill in its main file (the sessions have their own)."""

    totals: LifetimeTotals = field(default_factory=LifetimeTotals)
    active_session: dict[str, Any] | None = None
    # What a Bluetooth treadmill said it can do at its last connection: the entry sets up
    # without the link when the machine is off at start-up.
    capabilities: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Ending:
    """A finished session counted in memory whose writes are not done yet."""

    session: dict[str, Any]
    totals_before: LifetimeTotals


class SessionLog:
    """The finished sessions of one treadmill, oldest first, in their own file.

    Read from the file at each call and never kept in memory: a long programme's session
    holds hundreds of segments, and MAX_STORED_SESSIONS of them would stay resident (and be
    written again with every checkpoint of a running programme) if they shared the main file.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one log file per config entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}.sessions",
            private=True,
            # Up to MAX_STORED_SESSIONS long sessions: encoded in the executor, not the loop.
            serialize_in_event_loop=False,
        )
        # One reader or writer at a time: an append is a read, a change and a write.
        self._lock = asyncio.Lock()

    async def async_append(self, sessions: Iterable[dict[str, Any]]) -> None:
        """Append the sessions not logged yet (by id), keep the newest, and write at once."""
        async with self._lock:
            logged = await self._async_read()
            ids = {session.get("id") for session in logged}
            new = []
            for session in sessions:
                if (session_id := session.get("id")) is None or session_id not in ids:
                    new.append(session)
                    ids.add(session_id)
            if not new:
                return
            logged += new
            await self._store.async_save({"sessions": logged[-MAX_STORED_SESSIONS:]})

    async def async_get(self, session_id: str) -> dict[str, Any] | None:
        """Return the logged session with this id, if any."""
        async with self._lock:
            logged = await self._async_read()
        return next((session for session in logged if session.get("id") == session_id), None)

    async def async_newest(self, limit: int) -> list[dict[str, Any]]:
        """Return the newest `limit` sessions, newest first."""
        async with self._lock:
            logged = await self._async_read()
        return logged[::-1][:limit]

    async def async_count(self) -> int:
        """Return how many sessions are logged."""
        async with self._lock:
            return len(await self._async_read())

    async def async_remove(self) -> None:
        """Delete the log."""
        async with self._lock:
            await self._store.async_remove()

    async def _async_read(self) -> list[dict[str, Any]]:
        """Read the log from its file (the storage helper keeps no copy after a write)."""
        data = await self._store.async_load() or {}
        return list(data.get("sessions", []))


class TreadmillStore:
    """Lifetime totals, the running session and the capabilities of one treadmill.

    Its finished sessions are in `sessions`, a log of their own. Each finished session is
    counted exactly once, whatever write a crash interrupts: the main file names it as the
    running session, then the log gets it, then the main file gets the totals with it
    (start-up adds a logged session's walk to the totals if the main file still names it).
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one storage file per config entry, and one for its sessions."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True
        )
        self.sessions = SessionLog(hass, entry_id)
        self.record = TreadmillRecord()
        self._ending: list[_Ending] = []  # finished, counted in memory, not yet written
        self._recording = asyncio.Lock()  # one finished session's writes at a time

    async def async_load(self) -> None:
        """Read the record; sessions stored with it by an older release move to the log."""
        data = await self._store.async_load() or {}
        self.record = TreadmillRecord(
            totals=LifetimeTotals(**data.get("totals", {})),
            active_session=data.get("active_session"),
            capabilities=data.get("capabilities"),
        )
        if "sessions" in data:
            # The log first: a crash before the record is saved repeats this, and the log
            # skips the sessions it already holds.
            await self.sessions.async_append(data["sessions"])
            await self.async_save_now()

    @property
    def capabilities(self) -> Capabilities | None:
        """Return the capabilities remembered from the last connection, if any."""
        stored = self.record.capabilities
        return capabilities_from_dict(stored) if stored is not None else None

    def remember_capabilities(self, capabilities: Capabilities) -> None:
        """Remember what the machine can do (saved only when it changed)."""
        stored = capabilities_to_dict(capabilities)
        if stored != self.record.capabilities:
            self.record.capabilities = stored
            self.schedule_save()

    @callback
    def end_session(self, session: dict[str, Any]) -> Coroutine[Any, Any, None]:
        """Count a finished session in the totals now; return its writes to run (a coroutine).

        The totals shown include it at once; the files get it in order (class docstring).
        """
        self._ending.append(_Ending(session, replace(self.record.totals)))
        self.record.totals.add(session)
        self.record.active_session = None
        return self._async_write_ended(session)

    async def _async_write_ended(self, session: dict[str, Any]) -> None:
        """Write a finished session: named in the main file, then logged, then in the totals."""
        async with self._recording:
            # Until the log has it, the main file holds it as the running session and the
            # totals without it: a crash now makes the next start-up record it, once.
            await self._store.async_save(self._data())
            await self.sessions.async_append([session])
            self._ending = [ending for ending in self._ending if ending.session is not session]
            await self._store.async_save(self._data())

    def schedule_save(self) -> None:
        """Save a little later, coalescing bursts of changes."""
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_save_now(self) -> None:
        """Save at once (unload, safety records), after the writes of a finished session."""
        async with self._recording:
            await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the stored record and the session log."""
        await self._store.async_remove()
        await self.sessions.async_remove()

    def _data(self) -> dict[str, Any]:
        """Return the JSON-able record, as consistent with the log as the disk must be."""
        data = asdict(self.record)
        if self._ending:
            # The first finished session not yet logged stays the running one on disk.
            first = self._ending[0]
            data |= {"totals": asdict(first.totals_before), "active_session": first.session}
        return data


def capabilities_to_dict(capabilities: Capabilities) -> dict[str, Any]:
    """Return capabilities in their stored (JSON) form."""
    return {
        "controllable": capabilities.controllable,
        "speed": asdict(capabilities.speed) if capabilities.speed else None,
        "incline": asdict(capabilities.incline) if capabilities.incline else None,
        "fields": sorted(capabilities.fields),
    }


def capabilities_from_dict(data: dict[str, Any]) -> Capabilities:
    """Return capabilities from their stored form."""
    speed, incline = data.get("speed"), data.get("incline")
    return Capabilities(
        controllable=bool(data["controllable"]),
        speed=Range(**speed) if speed else None,
        incline=Range(**incline) if incline else None,
        fields=frozenset(DataField(name) for name in data.get("fields", [])),
    )


PROGRAMMES_KEY: HassKey[ProgrammeLibrary] = HassKey(f"{DOMAIN}_programmes")


class ProgrammeLibrary:
    """Saved programmes, shared by all treadmills, keyed by the slug of their name."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Use one storage file for the whole integration."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.programmes")
        self.programmes: dict[str, dict[str, Any]] = {}
        self._listeners: list[Callable[[], None]] = []

    async def async_load(self) -> None:
        """Read saved programmes."""
        data = await self._store.async_load() or {}
        self.programmes = dict(data.get("programmes", {}))

    async def async_put(self, key: str, definition: dict[str, Any]) -> None:
        """Save or replace a programme."""
        self.programmes[key] = definition
        await self._async_changed()

    async def async_delete(self, key: str) -> None:
        """Delete a programme."""
        del self.programmes[key]
        await self._async_changed()

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` whenever the library changes; return a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def _async_changed(self) -> None:
        """Persist and tell listeners (the programme selects)."""
        await self._store.async_save({"programmes": self.programmes})
        for listener in list(self._listeners):
            listener()
