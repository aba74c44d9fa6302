"""Binary sensors of a treadmill: the link and the belt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import Kind
from .coordinator import TreadmillState, TreadReverseConfigEntry
from .entity import TreadReverseEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TreadReverseBinarySensorDescription(BinarySensorEntityDescription):
    """A treadmill binary sensor."""

    value_fn: Callable[[TreadmillState], bool | None]
    needs_connection: bool = False


BINARY_SENSORS: tuple[TreadReverseBinarySensorDescription, ...] = (
    TreadReverseBinarySensorDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.connected,
    ),
    TreadReverseBinarySensorDescription(
        key="belt_running",
        translation_key="belt_running",
        device_class=BinarySensorDeviceClass.RUNNING,
        needs_connection=True,
        value_fn=lambda s: None if s.live.speed is None else s.live.speed > 0,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors; a treadmill without connection has none."""
    coordinator = entry.runtime_data.coordinator
    if coordinator.kind is Kind.MANUAL:
        return
    async_add_entities(TreadReverseBinarySensor(coordinator, d) for d in BINARY_SENSORS)


class TreadReverseBinarySensor(TreadReverseEntity, BinarySensorEntity):
    """A treadmill binary sensor."""

    entity_description: TreadReverseBinarySensorDescription

    @override
    def shown(self) -> bool | None:
        """Return the current value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    @override
    def is_on(self) -> bool | None:
        """Return the current value."""
        return self.shown()
