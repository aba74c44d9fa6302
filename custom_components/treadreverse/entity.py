"""Base entity of treadreverse: one device per treadmill, state written only on change."""

from __future__ import annotations

from typing import Any, override

from homeassistant.const import CONF_ADDRESS
from homeassistant.helpers.device_registry import CONNECTION_BLUETOOTH, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, Kind
from .coordinator import TreadmillCoordinator

MODELS = {
    Kind.FTMS: "Bluetooth FTMS treadmill",
    Kind.SIMULATED: "Simulated treadmill",
    Kind.MANUAL: "Treadmill without connection",
}


class TreadReverseEntity(CoordinatorEntity[TreadmillCoordinator]):
    """An entity of one treadmill that writes its state only when what it shows changed."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: TreadmillCoordinator, description: EntityDescription) -> None:
        """Attach the entity to its treadmill's device."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.unique_id or entry.entry_id}_{description.key}"
        address = entry.data.get(CONF_ADDRESS)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            connections={(CONNECTION_BLUETOOTH, address)} if address else set(),
            name=entry.title,
            manufacturer="TreadReverse",
            model=MODELS[coordinator.kind],
        )
        self._written: Any = None
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
        """Remember what was written first."""
        await super().async_added_to_hass()
        self._written = (self.available, self.shown())
