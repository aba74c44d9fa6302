"""Programme buttons: start, pause, resume, stop and skip."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import TreadmillCoordinator, TreadReverseConfigEntry
from .entity import TreadReverseEntity
from .helpers import origin_of, run_command
from .programme.interlock import Origin

# No platform-wide queue: Home Assistant would hold a Stop behind any press in progress.
# The engine and its interlock serialise belt commands themselves, and Stop goes first.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TreadReverseButtonDescription(ButtonEntityDescription):
    """A programme button and what it does."""

    # Who pressed decides (product.md, "Who asked"): a person, or an automation.
    press_fn: Callable[[TreadmillCoordinator, Origin], Coroutine[Any, Any, None]]


BUTTONS: tuple[TreadReverseButtonDescription, ...] = (
    TreadReverseButtonDescription(
        key="start", translation_key="start", press_fn=lambda c, o: c.async_press_start(o)
    ),
    TreadReverseButtonDescription(
        key="pause", translation_key="pause", press_fn=lambda c, o: c.async_pause(o)
    ),
    TreadReverseButtonDescription(
        key="resume", translation_key="resume", press_fn=lambda c, o: c.async_resume(o)
    ),
    TreadReverseButtonDescription(
        key="stop", translation_key="stop", press_fn=lambda c, o: c.async_stop(o)
    ),
    TreadReverseButtonDescription(
        key="skip_interval", translation_key="skip_interval", press_fn=lambda c, _o: c.async_skip()
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TreadReverseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the programme buttons."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(TreadReverseButton(coordinator, d) for d in BUTTONS)


class TreadReverseButton(TreadReverseEntity, ButtonEntity):
    """A programme button; available without the link, so stop can always be pressed."""

    entity_description: TreadReverseButtonDescription

    @override
    async def async_press(self) -> None:
        """Do what the button says."""
        origin = origin_of(self._context)
        await run_command(self.entity_description.press_fn(self.coordinator, origin))
