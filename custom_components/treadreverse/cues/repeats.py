"""Keep the coach from saying a speed or incline the person has just heard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..programme.events import CueType, EventType
from .plans import flag, number, word

SAME = 0.05  # km/h or %: below this two values are said the same way
RAMP_GAP_S = 20.0  # a ramp changes the speed every few seconds: say it at most this often


@dataclass(slots=True)
class _Said:
    """The last value said for one setting, and when."""

    value: float | None = None
    at: datetime | None = None
    instructed: bool = False  # said as an instruction to set it by hand

    def repeats(self, value: float, at: datetime) -> bool:
        """Return whether saying `value` at `at` repeats or crowds the last one."""
        if self.value is None or self.at is None:
            return False
        if abs(value - self.value) < SAME:
            return True
        return 0 <= (at - self.at).total_seconds() < RAMP_GAP_S

    def note(self, value: float | None, at: datetime, *, instructed: bool = False) -> None:
        """Remember a value that was said."""
        if value is not None:
            self.value, self.at, self.instructed = value, at, instructed


class RepeatFilter:
    """Drop events whose sentence repeats what the person has just heard.

    A direction change right after the turn cue for that direction, and belt-driven
    speed and incline changes already said (or a ramp's many small steps). An advisory
    change is an instruction the person must carry out: it is dropped only when the same
    instruction was just given ("Slow the belt to 1 km/h to turn").
    """

    def __init__(self) -> None:
        """Start with nothing said."""
        self._speed = _Said()
        self._incline = _Said()
        self._turned_to: str | None = None

    def reset(self) -> None:
        """Forget what was said (a new programme starts)."""
        self._speed, self._incline, self._turned_to = _Said(), _Said(), None

    def allows(self, kind: str, data: Mapping[str, Any], at: datetime) -> bool:
        """Return whether to say this event, and remember what it says."""
        if kind == EventType.PROGRAMME_STARTED:
            self.reset()
        elif kind in (CueType.TURN_NOW, CueType.WAIT_AT_TURN):
            self._turned_to = word(data, "to")
        elif kind == EventType.DIRECTION_CHANGED:
            # "Turn around now, walk backward" said it already.
            turned_to, self._turned_to = self._turned_to, None
            return turned_to is None or turned_to != word(data, "to")
        # The interval's sentence says its speed, not its incline.
        elif kind == EventType.INTERVAL_STARTED:
            self._speed.note(number(data, "speed"), at)
        elif kind == CueType.SLOW_DOWN and word(data, "turn_mode") != "pause":
            self._speed.note(number(data, "turn_speed"), at, instructed=flag(data, "advisory"))
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
        advisory = flag(data, "advisory")
        if advisory and said.instructed and said.value is not None:
            repeated = abs(value - said.value) < SAME
        else:
            repeated = not advisory and said.repeats(value, at)
        if not repeated:
            said.note(value, at, instructed=advisory)
        return not repeated
