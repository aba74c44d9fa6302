"""Base entity of treadreverse: one device per treadmill, state written only on change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .coordinator import TreadmillCoordinator
from .device import current_information, device_info

# Entities Assist also knows by their own name, without the treadmill's in front: "turn on
# backward intervals" (product.md). Home Assistant's default agent matches only the full
# name ("simulated treadmill backward intervals") and the entity's aliases.
ASSIST_ALIASED_KEYS = frozenset({"backward_intervals"})


@callback
def async_alias_registered_entities(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Give entities registered by an older release their alias, unless the user set aliases."""
    registry = er.async_get(hass)
    for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
        if registered.translation_key not in ASSIST_ALIASED_KEYS:
            continue
        if registered.aliases != [er.COMPUTED_NAME] or not registered.original_name:
            continue  # changed by the user, who decides what Assist calls it
        aliases: list[er.AliasEntry] = [er.COMPUTED_NAME, registered.original_name]
        registry.async_update_entity(registered.entity_id, aliases=aliases)


class TreadReverseEntity(CoordinatorEntity[TreadmillCoordinator]):
    """An entity of one treadmill that writes its state only when what it shows changed."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: TreadmillCoordinator, description: EntityDescription) -> None:
        """Attach the entity to its treadmill's device."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.unique_id or entry.entry_id}_{description.key}"
        self._attr_device_info = device_info(
            entry, current_information(entry, coordinator.treadmill)
        )
        self._written: Any = None
        self._constructed_at: datetime = dt_util.utcnow()
        # Measurements need the link; controls (stop above all) stay available without it.
        self.needs_connection: bool = getattr(description, "needs_connection", False)

    @property
    @override
    def available(self) -> bool:
        """Return False for measurements while the treadmill is disconnected."""
        return not self.needs_connection or self.coordinator.data.connected

    def shown(self) -> Any:
        """Return what the entity shows; a state is written only when this changes."""
        return None

    @override
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what it shows changed, so the recorder is not flooded."""
        shown = (self.available, self.shown())
        if shown == self._written:
            return
        self._written = shown
        self.async_write_ha_state()

    @override
    async def async_added_to_hass(self) -> None:
        """Remember what was written first; give the switch its Assist alias."""
        await super().async_added_to_hass()
        self._async_add_assist_alias()

    @callback
    def _async_add_assist_alias(self) -> None:
        """Give a new entity its own name as an alias, once: the user may change it later."""
        entry = self.registry_entry
        if self.entity_description.key not in ASSIST_ALIASED_KEYS or entry is None:
            return
        if entry.created_at < self._constructed_at or not isinstance(self.name, str):
            return  # registered before (the user's aliases stand), or nameless
        aliases = [*entry.aliases, self.name]  # after the full name, which keeps working
        er.async_get(self.hass).async_update_entity(self.entity_id, aliases=aliases)
        self._written = (self.available, self.shown())
