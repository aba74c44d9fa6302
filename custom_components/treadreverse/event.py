"""The programme_event entity: one event per programme milestone."""

from __future__ import annotations

from typing import override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import TreadmillCoordinator, TreadReverseConfigEntry
from .entity import TreadReverseEntity
from .programme.events import PUBLIC_EVENT_TYPES, EngineEvent

PARALLEL_UPDATES = 0

PROGRAMME_EVENT = EventEntityDescription(
    key="programme_event",
    translation_key="programme_event",
    event_types=list(PUBLIC_EVENT_TYPES),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the programme event entity."""
    async_add_entities([ProgrammeEventEntity(entry.runtime_data.coordinator)])


class ProgrammeEventEntity(TreadReverseEntity, EventEntity):
    """Fires the public programme events with the interval's data."""

    def __init__(self, coordinator: TreadmillCoordinator) -> None:
        """Describe the entity."""
        super().__init__(coordinator, PROGRAMME_EVENT)

    @override
    def shown(self) -> EngineEvent | None:
        """Return the newest event; a new one is a new state."""
        return self.coordinator.data.last_event

    @override
    def _handle_coordinator_update(self) -> None:
        """Trigger on each new public event only."""
        event = self.coordinator.data.last_event
        if event is None or event is self._written:
            return
        self._written = event
        self._trigger_event(str(event.type), event.data)
        self.async_write_ha_state()

    @override
    async def async_added_to_hass(self) -> None:
        """Start with no event."""
        await super().async_added_to_hass()
        self._written = None
