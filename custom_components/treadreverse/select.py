"""The programme select: built-in and saved programmes."""

from __future__ import annotations

from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .coordinator import TreadmillCoordinator, TreadReverseConfigEntry
from .entity import TreadReverseEntity
from .programmes import programme_keys

# No platform-wide queue: Home Assistant would hold a Stop behind any press in progress.
# The engine and its interlock serialise belt commands themselves, and Stop goes first.
PARALLEL_UPDATES = 0

PROGRAMME_SELECT = SelectEntityDescription(key="programme", translation_key="programme")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the programme select."""
    async_add_entities([ProgrammeSelect(entry.runtime_data.coordinator)])


class ProgrammeSelect(TreadReverseEntity, SelectEntity, RestoreEntity):
    """Which programme start and the backward_intervals switch run."""

    def __init__(self, coordinator: TreadmillCoordinator) -> None:
        """Describe the select."""
        super().__init__(coordinator, PROGRAMME_SELECT)

    @override
    async def async_added_to_hass(self) -> None:
        """Restore the last choice and follow changes of the saved programmes."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state in programme_keys(self.hass):
            self.coordinator.selected_programme = last.state
        self.async_on_remove(self.coordinator.library.add_listener(self._library_changed))
        self._written = (self.available, self.shown())

    @callback
    def _library_changed(self) -> None:
        """Show the new list of programmes."""
        if self.coordinator.selected_programme not in programme_keys(self.hass):
            self.coordinator.selected_programme = programme_keys(self.hass)[0]
        self._handle_coordinator_update()

    @override
    def shown(self) -> tuple[str, tuple[str, ...]]:
        """Return the choice and the choices."""
        return self.coordinator.selected_programme, tuple(programme_keys(self.hass))

    @property
    @override
    def options(self) -> list[str]:
        """Return built-in keys, then saved programmes."""
        return programme_keys(self.hass)

    @property
    @override
    def current_option(self) -> str:
        """Return the selected programme."""
        return self.coordinator.selected_programme

    @override
    async def async_select_option(self, option: str) -> None:
        """Select a programme for the next start."""
        self.coordinator.selected_programme = option
        self._handle_coordinator_update()
