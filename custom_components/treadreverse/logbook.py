"""Tell each session's story in the logbook, once, from the treadreverse_event bus event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVENT_TREADREVERSE


def _interval(data: dict[str, Any]) -> str:
    """Return "3/12 backward at 2 km/h" from the interval's data."""
    parts = []
    if (index := data.get("index")) is not None:
        count = data.get("count")
        parts.append(f"{index}/{count}" if count else str(index))
    if direction := data.get("direction"):
        parts.append(str(direction))
    if (speed := data.get("speed")) is not None:
        parts.append(f"at {speed:g} km/h")
    if incline := data.get("incline"):
        parts.append(f"and {incline:g} %")
    return " ".join(parts)


def _ending(data: dict[str, Any]) -> str:
    """Return the session's summary: backward distance and time, total distance."""
    backward = data.get("backward_distance_m")
    seconds = data.get("backward_time_s")
    total = data.get("distance_m")
    if backward is None or seconds is None:
        return ""
    text = f": {backward:.0f} m backward in {int(seconds) // 60} min {int(seconds) % 60} s"
    return f"{text}, {total:.0f} m in total" if total is not None else text


def _unknown(_data: dict[str, Any]) -> str:
    """Describe an event type this version does not know."""
    return "reported an event"


MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "programme_started": lambda d: f"started the programme {d.get('name') or ''}".strip(),
    "interval_started": lambda d: f"started interval {_interval(d)}",
    "turn_around_soon": lambda d: f"announced a turn in {d.get('seconds', 0):g} s",
    "direction_changed": lambda d: f"turned around, now walking {d.get('to', '')}",
    "programme_paused": lambda d: f"paused the programme ({d.get('reason', 'user')})",
    "programme_resumed": lambda _d: "resumed the programme",
    "programme_completed": lambda d: f"completed the programme{_ending(d)}",
    "programme_aborted": lambda d: f"aborted the programme ({d.get('reason', 'user')}){_ending(d)}",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe treadreverse events for the logbook."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        """Return the treadmill's name and one plain sentence."""
        data = dict(event.data)
        device = dr.async_get(hass).async_get(data.get("device_id") or "")
        name = (device.name_by_user or device.name) if device else None
        describe_type = MESSAGES.get(str(data.get("type", "")), _unknown)
        message = describe_type(data)
        return {LOGBOOK_ENTRY_NAME: name or "Treadmill", LOGBOOK_ENTRY_MESSAGE: message}

    async_describe_event(DOMAIN, EVENT_TREADREVERSE, describe)
