"""Diagnostics of a treadmill, with its address and name redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ADDRESS, CONF_NAME
from homeassistant.core import HomeAssistant

from .coordinator import TreadReverseConfigEntry

# The treadmill's name is the title and also in the entry's data: both go.
TO_REDACT = {CONF_ADDRESS, CONF_NAME, "unique_id", "title", "serial_number"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: TreadReverseConfigEntry
) -> dict[str, Any]:
    """Return the entry, the treadmill, the engine, and the speakers' health and deliveries."""
    coordinator = entry.runtime_data.coordinator
    treadmill = coordinator.treadmill
    return async_redact_data(
        {
            "entry": {
                "data": dict(entry.data),
                "options": dict(entry.options),
                "title": entry.title,
                "unique_id": entry.unique_id,
            },
            "kind": coordinator.kind,
            "connected": treadmill.connected,
            "capabilities": {
                **asdict(treadmill.capabilities),
                "fields": sorted(treadmill.capabilities.fields),
            },
            "live": asdict(treadmill.data),
            "engine": asdict(coordinator.engine.snapshot()),
            "totals": asdict(coordinator.store.record.totals),
            "stored_sessions": await coordinator.store.sessions.async_count(),
            "speakers": entry.runtime_data.announcer.health(),
        },
        TO_REDACT,
    )
