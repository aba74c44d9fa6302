"""Keep the coach from saying a speed or incline the person has just heard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from custom_components.treadreverse.programme.events import CueType, EventType

from .plans import flag, number, word

SAME = 0.05  # km/h or %: below this two values are said the same way
RAMP_GAP_S = 20.0  # a ramp changes the speed every few seconds: say it at most this often


@dataclass(slots=True)
class _Said:
    """The last value said for one setting, and when."""

    value: float | None = None
    at: datetime | None = None

    def repeats(self, value: float, at: datetime) -> bool:
        """Return whether saying `value` at `at` repeats or crowds the last one."""
        if self.value is None or self.at is None:
            return False
        if abs(value - self.value) < SAME:
            return True
        return 0 <= (at - self.at).total_seconds() < RAMP_GAP_S

    def note(self, value: float | None, at: datetime) -> None:
        """Remember a value that was said."""
        if value is not None:
            self.value, self.at = value, at


class RepeatFilter:
    """Drop belt-driven speed and incline changes that repeat what was just said.

    Only changes the engine makes itself are dropped: an advisory change is an
    instruction the person must carry out, and is always said.
    """

    def __init__(self) -> None:
        """Start with nothing said."""
        self._speed = _Said()
        self._incline = _Said()

    def allows(self, kind: str, data: Mapping[str, Any], at: datetime) -> bool:
        """Return whether to say this event, and remember what it says."""
        # The interval's sentence says its speed, not its incline.
        if kind == EventType.INTERVAL_STARTED:
            self._speed.note(number(data, "speed"), at)
        elif kind == CueType.SLOW_DOWN and word(data, "turn_mode") != "pause":
            self._speed.note(number(data, "turn_speed"), at)
        elif kind == CueType.SPEED_CHANGE:
            return self._setting(self._speed, number(data, "speed"), data, at)
        elif kind == CueType.INCLINE_CHANGE:
            return self._setting(self._incline, number(data, "incline"), data, at)
        return True

    @staticmethod
    def _setting(said: _Said, value: float | None, data: Mapping[str, Any], at: datetime) -> bool:
        """Decide on one speed or incline change."""
        if value is None:
            return True
        if not flag(data, "advisory") and said.repeats(value, at):
            return False
        said.note(value, at)
        return True
