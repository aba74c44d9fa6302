"""What treadreverse keeps across restarts, in Home Assistant's storage helper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant
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


@dataclass(slots=True)
class TreadmillRecord:
    """Everything stored for one treadmill."""

    totals: LifetimeTotals = field(default_factory=LifetimeTotals)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    active_session: dict[str, Any] | None = None
    # What a Bluetooth treadmill said it can do at its last connection: the entry sets up
    # without the link when the machine is off at start-up.
    capabilities: dict[str, Any] | None = None


class TreadmillStore:
    """Stored sessions, lifetime totals and the running session of one treadmill."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one storage file per config entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True
        )
        self.record = TreadmillRecord()

    async def async_load(self) -> None:
        """Read the record (the storage helper reads in the executor)."""
        data = await self._store.async_load() or {}
        self.record = TreadmillRecord(
            totals=LifetimeTotals(**data.get("totals", {})),
            sessions=list(data.get("sessions", [])),
            active_session=data.get("active_session"),
            capabilities=data.get("capabilities"),
        )

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

    def add_session(self, session: dict[str, Any]) -> None:
        """Append a finished session, keeping the newest ones."""
        self.record.sessions.append(session)
        del self.record.sessions[:-MAX_STORED_SESSIONS]
        self.schedule_save()

    def schedule_save(self) -> None:
        """Save a little later, coalescing bursts of changes."""
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_save_now(self) -> None:
        """Save at once (unload, safety records)."""
        await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the stored record."""
        await self._store.async_remove()

    def _data(self) -> dict[str, Any]:
        """Return the JSON-able record."""
        return asdict(self.record)


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
