"""Target speed and incline of a treadmill; the interlock refuses speeds above the backward cap."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, UnitOfSpeed
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import Kind
from .coordinator import TreadmillCoordinator, TreadmillState, TreadReverseConfigEntry
from .entity import TreadReverseEntity
from .helpers import origin_of, run_command
from .programme.interlock import Origin
from .services import finite
from .treadmill.base import Capabilities, Range

# No platform-wide queue: Home Assistant would hold a Stop behind any press in progress.
# The engine and its interlock serialise belt commands themselves, and Stop goes first.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TreadReverseNumberDescription(NumberEntityDescription):
    """A treadmill target: its range and how it is set."""

    range_fn: Callable[[Capabilities], Range | None]
    value_fn: Callable[[TreadmillState], float | None]
    set_fn: Callable[[TreadmillCoordinator, float, Origin], Coroutine[Any, Any, None]]


NUMBERS: tuple[TreadReverseNumberDescription, ...] = (
    TreadReverseNumberDescription(
        key="target_speed",
        translation_key="target_speed",
        device_class=NumberDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        mode=NumberMode.BOX,
        range_fn=lambda c: c.speed,
        value_fn=lambda s: s.engine.target_speed,
        set_fn=lambda c, v, o: c.engine.set_speed(v, o),
    ),
    TreadReverseNumberDescription(
        key="target_incline",
        translation_key="target_incline",
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.BOX,
        range_fn=lambda c: c.incline,
        value_fn=lambda s: s.engine.target_incline,
        set_fn=lambda c, v, o: c.engine.set_incline(v, o),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the targets a controllable treadmill has."""
    coordinator = entry.runtime_data.coordinator
    if coordinator.kind is Kind.MANUAL:
        return
    capabilities = coordinator.treadmill.capabilities
    async_add_entities(
        TreadReverseNumber(coordinator, description, machine_range)
        for description in NUMBERS
        if (machine_range := description.range_fn(capabilities)) is not None
    )


class TreadReverseNumber(TreadReverseEntity, NumberEntity):
    """A treadmill target."""

    entity_description: TreadReverseNumberDescription

    def __init__(
        self,
        coordinator: TreadmillCoordinator,
        description: TreadReverseNumberDescription,
        machine_range: Range,
    ) -> None:
        """Take the range from the machine.

        The range stays the machine's for good: it is written to the entity registry
        as a capability, and following the backward cap at every turn would rewrite
        the registry a few hundred times an hour. Rule 3 holds all the same: the
        interlock refuses a speed above the cap, from this number as from anywhere.
        """
        super().__init__(coordinator, description)
        self._attr_native_min_value = machine_range.minimum
        self._attr_native_max_value = machine_range.maximum
        self._attr_native_step = machine_range.step

    @override
    def shown(self) -> float | None:
        """Return the current target."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    @override
    def native_value(self) -> float | None:
        """Return the current target."""
        return self.shown()

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Set the target; the engine refuses speeds above the backward cap."""
        # Home Assistant's range check lets NaN through (every comparison with it is false).
        value = finite("value", value)
        origin = origin_of(self._context)
        await run_command(self.entity_description.set_fn(self.coordinator, value, origin))
