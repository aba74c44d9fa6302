"""Switches: run the selected programme ("turn on backward intervals") and mute coaching."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .coordinator import ACTIVE_STATUSES, TreadmillCoordinator, TreadReverseConfigEntry
from .entity import TreadReverseEntity
from .helpers import origin_of, run_command
from .programme.interlock import Origin

# No platform-wide queue: Home Assistant would hold a Stop behind any press in progress.
# The engine and its interlock serialise belt commands themselves, and Stop goes first.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TreadReverseSwitchDescription(SwitchEntityDescription):
    """A switch: what it shows and what on/off do."""

    is_on_fn: Callable[[TreadmillCoordinator], bool]
    # Who asked decides (product.md, "Who asked"): a person, or an automation.
    turn_on_fn: Callable[[TreadmillCoordinator, Origin], Coroutine[Any, Any, None]]
    turn_off_fn: Callable[[TreadmillCoordinator, Origin], Coroutine[Any, Any, None]]


async def _set_announcements(coordinator: TreadmillCoordinator, on: bool) -> None:
    """Mute or unmute coaching talk (turn and safety cues are never muted)."""
    coordinator.config_entry.runtime_data.announcer.muted = not on
    coordinator.async_update_listeners()


SWITCHES: tuple[TreadReverseSwitchDescription, ...] = (
    TreadReverseSwitchDescription(
        key="backward_intervals",
        translation_key="backward_intervals",
        is_on_fn=lambda c: c.engine.status in ACTIVE_STATUSES,
        # "Turn on backward intervals" also confirms a waiting start or resumes (rule 9).
        turn_on_fn=lambda c, o: c.async_press_start(o),
        turn_off_fn=lambda c, o: c.async_stop(o),
    ),
    TreadReverseSwitchDescription(
        key="announcements",
        translation_key="announcements",
        # A setting of the coaching, not a control of the belt.
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda c: not c.config_entry.runtime_data.announcer.muted,
        turn_on_fn=lambda c, _o: _set_announcements(c, True),
        turn_off_fn=lambda c, _o: _set_announcements(c, False),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(TreadReverseSwitch(coordinator, d) for d in SWITCHES)


class TreadReverseSwitch(TreadReverseEntity, SwitchEntity, RestoreEntity):
    """A treadmill switch."""

    entity_description: TreadReverseSwitchDescription

    @override
    async def async_added_to_hass(self) -> None:
        """Restore the coaching mute; a programme never restarts by itself (rule 6)."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if self.entity_description.key == "announcements" and last is not None:
            self.coordinator.config_entry.runtime_data.announcer.muted = last.state == "off"
        self._written = (self.available, self.shown())

    @override
    def shown(self) -> bool:
        """Return whether the switch is on."""
        return self.entity_description.is_on_fn(self.coordinator)

    @property
    @override
    def is_on(self) -> bool:
        """Return whether the switch is on."""
        return self.shown()

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on."""
        origin = origin_of(self._context)
        await run_command(self.entity_description.turn_on_fn(self.coordinator, origin))

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off."""
        origin = origin_of(self._context)
        await run_command(self.entity_description.turn_off_fn(self.coordinator, origin))
