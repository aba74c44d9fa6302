"""Sensors of a treadmill: measurements, programme state, session and lifetime totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfSpeed,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import Kind
from .coordinator import TreadmillCoordinator, TreadmillState, TreadReverseConfigEntry
from .entity import TreadReverseEntity
from .programme.events import Direction, ProgrammeStatus
from .treadmill.base import DataField

PARALLEL_UPDATES = 0

type SensorValue = float | int | str | datetime | None


@dataclass(frozen=True, kw_only=True)
class TreadReverseSensorDescription(SensorEntityDescription):
    """A treadmill sensor: where its value comes from and how finely it is written."""

    value_fn: Callable[[TreadmillState], SensorValue]
    has_fn: Callable[[TreadmillCoordinator], bool] = lambda _: True
    # Written values are rounded to this step (what the display precision shows).
    step: float | None = None
    # Timestamps of the plan: written only when the plan moves by at least this much.
    min_move: timedelta | None = None
    needs_connection: bool = False


def _measures(field: DataField) -> Callable[[TreadmillCoordinator], bool]:
    """Return a has_fn: the treadmill reports this field."""
    return lambda c: c.kind is not Kind.MANUAL and field in c.treadmill.capabilities.fields


def _interval(state: TreadmillState) -> str | None:
    """Return e.g. "3/12 Backward walk", or None outside a programme."""
    snap = state.engine
    if snap.interval_index is None:
        return None
    return f"{snap.interval_index}/{snap.interval_count} {state.interval_label}"


SENSORS: tuple[TreadReverseSensorDescription, ...] = (
    TreadReverseSensorDescription(
        key="speed",
        translation_key="speed",
        device_class=SensorDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        step=0.1,
        needs_connection=True,
        has_fn=_measures(DataField.SPEED),
        value_fn=lambda s: s.live.speed,
    ),
    TreadReverseSensorDescription(
        key="incline",
        translation_key="incline",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        step=0.1,
        needs_connection=True,
        has_fn=_measures(DataField.INCLINE),
        value_fn=lambda s: s.live.incline,
    ),
    TreadReverseSensorDescription(
        key="distance",
        translation_key="distance",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.METERS,
        suggested_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        step=10,
        needs_connection=True,
        has_fn=_measures(DataField.DISTANCE),
        value_fn=lambda s: s.live.distance,
    ),
    TreadReverseSensorDescription(
        key="energy",
        translation_key="energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_CALORIE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0,
        step=1,
        needs_connection=True,
        has_fn=_measures(DataField.ENERGY),
        value_fn=lambda s: s.live.energy,
    ),
    TreadReverseSensorDescription(
        key="heart_rate",
        translation_key="heart_rate",
        native_unit_of_measurement="bpm",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        step=1,
        needs_connection=True,
        has_fn=_measures(DataField.HEART_RATE),
        value_fn=lambda s: s.live.heart_rate,
    ),
    TreadReverseSensorDescription(
        key="backward_distance",
        translation_key="backward_distance",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.METERS,
        suggested_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        step=10,
        value_fn=lambda s: s.engine.backward_distance_m,
    ),
    TreadReverseSensorDescription(
        key="backward_time",
        translation_key="backward_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        step=6,
        value_fn=lambda s: s.engine.backward_time_s,
    ),
    TreadReverseSensorDescription(
        key="direction",
        translation_key="direction",
        device_class=SensorDeviceClass.ENUM,
        options=[d.value for d in Direction],
        value_fn=lambda s: s.engine.direction,
    ),
    TreadReverseSensorDescription(
        key="programme_status",
        translation_key="programme_status",
        device_class=SensorDeviceClass.ENUM,
        options=[p.value for p in ProgrammeStatus],
        value_fn=lambda s: s.engine.status,
    ),
    TreadReverseSensorDescription(
        key="current_interval",
        translation_key="current_interval",
        value_fn=_interval,
    ),
    TreadReverseSensorDescription(
        key="interval_ends_at",
        translation_key="interval_ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda s: s.engine.interval_ends_at,
    ),
    TreadReverseSensorDescription(
        key="programme_ends_at",
        translation_key="programme_ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        min_move=timedelta(seconds=2),
        value_fn=lambda s: s.engine.programme_ends_at,
    ),
    TreadReverseSensorDescription(
        key="programme_progress",
        translation_key="programme_progress",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        step=1,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.engine.progress,
    ),
    TreadReverseSensorDescription(
        key="total_backward_distance",
        translation_key="total_backward_distance",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        step=0.01,
        value_fn=lambda s: s.totals.backward_distance_m / 1000,
    ),
    TreadReverseSensorDescription(
        key="total_backward_time",
        translation_key="total_backward_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        step=36,
        value_fn=lambda s: s.totals.backward_time_s,
    ),
    TreadReverseSensorDescription(
        key="sessions_completed",
        translation_key="sessions_completed",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.totals.sessions_completed,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors this treadmill has."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        TreadReverseSensor(coordinator, description)
        for description in SENSORS
        if description.has_fn(coordinator)
    )


def _rounded(value: SensorValue, step: float | None) -> SensorValue:
    """Round a number to the step the display shows."""
    if step is None or not isinstance(value, int | float):
        return value
    rounded = round(round(value / step) * step, 6)
    return int(rounded) if step >= 1 else rounded


class TreadReverseSensor(TreadReverseEntity, SensorEntity):
    """A treadmill sensor."""

    entity_description: TreadReverseSensorDescription
    _planned: SensorValue = None

    @override
    def shown(self) -> SensorValue:
        """Return the value at display precision (a plan's timestamp only when it moved)."""
        description = self.entity_description
        value = _rounded(description.value_fn(self.coordinator.data), description.step)
        if description.min_move is None:
            return value
        if self._holds(value, description.min_move):
            return self._planned
        self._planned = value
        return value

    def _holds(self, value: SensorValue, min_move: timedelta) -> bool:
        """Return whether the timestamp shown still stands for this estimate."""
        held = self._planned
        if not isinstance(value, datetime) or not isinstance(held, datetime):
            return False
        # During a turn the engine counts the turn at its full planned length whatever
        # has passed of it, so its estimate creeps on by a second each second without the
        # plan moving; the turn's end puts it right (and shows an overrun, if any).
        turning = self.coordinator.data.engine.status is ProgrammeStatus.TURNING
        return turning or abs(value - held) < min_move

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the value at display precision."""
        return self.shown()
