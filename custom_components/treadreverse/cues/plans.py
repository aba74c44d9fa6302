"""Which cue keys an engine event can be said with, most specific first, and their values.

Each planner reads the data keys documented in `programme/events.py` (and, for the public
event types, the interval's data) and lists candidate keys from the most specific to the
plainest. The cue book says the first candidate whose placeholders all have values, so a
missing or malformed data key falls back to a shorter sentence instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import math
import re
from typing import Any

from ..programme.events import CueType, EventType
from .spoken import Quantity, Term, Unit, Value

DIRECTIONS = frozenset({"forward", "backward"})
HANDRAILS = frozenset({"both", "one", "none"})
LABELLED_INTENSITIES = frozenset({"warmup", "cooldown", "rest"})
LABEL_KEY = re.compile(r"(forward|backward)_(walk|jog|warmup|rest|cooldown|half_squat)")
# The engine's own reason names, mapped to the cue variant that says them.
REASON_ALIASES: dict[str, str] = {
    "console_pause": "console",
    "console_stop": "console",
    "disconnected": "connection_lost",
    "restart": "shutdown",
    "unload": "shutdown",
}
# Reasons whose pause was already announced by a cue of its own.
SILENT_PAUSES = frozenset({"wait_at_turn"})
TEST_ANNOUNCEMENT = "test_announcement"
_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_INTERVAL_VARIANTS = ("speed_time", "speed_distance", "speed", "time", "distance")


@dataclass(frozen=True, slots=True)
class Plan:
    """Candidate keys, most specific first, and the values for their placeholders."""

    keys: tuple[str, ...]
    values: dict[str, Value]


type Planner = Callable[[Mapping[str, Any]], Plan | None]


def plan(kind: str, data: Mapping[str, Any], at: datetime | None = None) -> Plan | None:
    """Return the plan for an event or cue type, or None for a type with nothing to say.

    `at` is when the event happened: with the interval's `ends_at` it gives the length
    of an interval that has just started.
    """
    planner = PLANNERS.get(str(kind))
    if planner is None:
        return None
    if kind == EventType.INTERVAL_STARTED and at is not None:
        data = with_duration(data, at)
    return planner(data)


def with_duration(data: Mapping[str, Any], at: datetime) -> Mapping[str, Any]:
    """Add the seconds from `at` to the data's `ends_at`, unless a duration is given."""
    if number(data, "duration", "duration_s") is not None:
        return data
    end = parse_time(data.get("ends_at"))
    if end is None:
        return data
    try:
        seconds = (end - at).total_seconds()
    except TypeError:  # one of them has a time zone, the other not
        return data
    return {**data, "duration": round(seconds)} if seconds > 0 else data


def chain(base: str, *parts: str | None) -> tuple[str, ...]:
    """Return base.a.b, base.a, base for the parts up to the first missing one."""
    known: list[str] = []
    for part in parts:
        if part is None:
            break
        known.append(part)
    return tuple(".".join((base, *known[:size])) for size in range(len(known), -1, -1))


def present(**values: Value | None) -> dict[str, Value]:
    """Keep only the values that are there."""
    return {name: value for name, value in values.items() if value is not None}


def number(data: Mapping[str, Any], *names: str) -> float | None:
    """Return the first finite number among the named data keys."""
    for name in names:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def quantity(data: Mapping[str, Any], unit: Unit, *names: str) -> Quantity | None:
    """Return a quantity from the data; durations, distances and speeds are never negative."""
    value = number(data, *names)
    if value is None or (value < 0 and unit is not Unit.INCLINE):
        return None
    return Quantity(value, unit)


def word(data: Mapping[str, Any], name: str, allowed: frozenset[str] | None = None) -> str | None:
    """Return a data key's value as a lower-case word usable in a cue key."""
    value = data.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    if not _SLUG.fullmatch(value) or (allowed is not None and value not in allowed):
        return None
    return value


def text(data: Mapping[str, Any], *names: str) -> str | None:
    """Return the first non-empty string among the named data keys."""
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def flag(data: Mapping[str, Any], name: str) -> bool:
    """Return whether a data key is exactly True."""
    return data.get(name) is True


def parse_time(value: Any) -> datetime | None:
    """Return a datetime from a datetime or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def interval_label(data: Mapping[str, Any]) -> Term:
    """Return the label key of an interval from its label key, or direction and intensity."""
    match = LABEL_KEY.fullmatch(word(data, "label_key") or "")
    if match:
        direction, kind = match.groups()
        return Term(f"label.{direction}" if kind == "walk" else f"label.{direction}.{kind}")
    direction = word(data, "direction", DIRECTIONS)
    if direction is None:
        return Term("label.interval")
    if word(data, "posture") == "half_squat":
        return Term(f"label.{direction}.half_squat")
    intensity = word(data, "intensity", LABELLED_INTENSITIES)
    return Term(chain(f"label.{direction}", intensity)[0])


def command_topic(data: Mapping[str, Any]) -> str | None:
    """Return which kind of command failed: speed, incline or start."""
    command = word(data, "command") or ""
    for topic in ("speed", "incline", "start", "resume"):
        if topic in command:
            return "start" if topic == "resume" else topic
    return None


def measured(data: Mapping[str, Any], unit: Unit, *names: str) -> Quantity | None:
    """Return a summary quantity; zero means not measured (a treadmill without data)."""
    value = quantity(data, unit, *names)
    return value if value is not None and round(value.value) > 0 else None


def summary_values(data: Mapping[str, Any]) -> dict[str, Value]:
    """Return the distances and times of a summary."""
    return present(
        elapsed=measured(data, Unit.DURATION, "elapsed", "elapsed_s"),
        distance=measured(data, Unit.DISTANCE, "distance", "distance_m"),
        backward_distance=measured(data, Unit.DISTANCE, "backward_distance", "backward_distance_m"),
        backward_time=measured(data, Unit.DURATION, "backward_time", "backward_time_s"),
    )


def reason_keys(event: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the reason's own key, its alias's key, and the plain key.

    With `advisory` true (Home Assistant cannot move the belt) the `.advisory` variants
    of the reason's keys come first: they tell the person to do by hand what the plain
    sentence says the belt does by itself.
    """
    reason = word(data, "reason")
    alias = REASON_ALIASES.get(reason or "")
    named = tuple(f"{event}.{name}" for name in (reason, alias) if name is not None)
    advised = tuple(f"{key}.advisory" for key in named) if flag(data, "advisory") else ()
    return (*advised, *named, event)


def programme_name(data: Mapping[str, Any]) -> Term | None:
    """Return a built-in programme's translated title, or else the programme's own name."""
    key, name = word(data, "programme"), text(data, "name")
    if key is None:
        return None if name is None else Term("programme", default=name)
    return Term(f"programme.{key}", default=name)


def _programme_started(data: Mapping[str, Any]) -> Plan:
    """Plan the start of a programme: its name and length."""
    values = present(
        programme=programme_name(data),
        time=quantity(data, Unit.DURATION, "duration", "duration_s"),
    )
    keys = ("programme_started.duration", "programme_started", "programme_started.short")
    return Plan(keys, values)


def _interval_started(data: Mapping[str, Any]) -> Plan:
    """Plan the start of an interval: label, speed and length."""
    values = present(
        label=interval_label(data),
        speed=quantity(data, Unit.SPEED, "speed"),
        time=quantity(data, Unit.DURATION, "duration", "duration_s"),
        distance=quantity(data, Unit.DISTANCE, "distance", "distance_m"),
    )
    keys = tuple(f"interval_started.{variant}" for variant in _INTERVAL_VARIANTS)
    return Plan((*keys, "interval_started"), values)


def _turn_around_soon(data: Mapping[str, Any]) -> Plan:
    """Plan the warning ahead of a turn."""
    to = word(data, "to", DIRECTIONS)
    keys = (*chain("turn_around_soon", to)[:-1], "turn_around_soon", "turn_around_soon.short")
    return Plan(keys, present(time=measured(data, Unit.DURATION, "seconds")))


def _direction_changed(data: Mapping[str, Any]) -> Plan | None:
    """Plan the new direction; turning and stopped say nothing (the turn cues did)."""
    direction = word(data, "to", DIRECTIONS) or word(data, "direction", DIRECTIONS)
    return None if direction is None else Plan((f"direction_changed.{direction}",), {})


def _completed(data: Mapping[str, Any]) -> Plan:
    """Plan the end of the programme, with its summary when the data has one."""
    keys = (
        "programme_completed",
        "programme_completed.backward",
        "programme_completed.time",
        "programme_completed.short",
    )
    return Plan(keys, summary_values(data))


def _waiting_for_person(data: Mapping[str, Any]) -> Plan:
    """Plan the wait for the person to confirm at the treadmill."""
    values = present(time=quantity(data, Unit.DURATION, "timeout_s"))
    return Plan(("waiting_for_person", "waiting_for_person.short"), values)


def _countdown(data: Mapping[str, Any]) -> Plan:
    """Plan the start of the countdown."""
    values = present(time=quantity(data, Unit.DURATION, "seconds"))
    return Plan(("countdown", "countdown.short"), values)


def _countdown_tick(data: Mapping[str, Any]) -> Plan:
    """Plan one number of the countdown."""
    seconds = number(data, "seconds")
    count = None if seconds is None or seconds < 0 else round(seconds)
    return Plan(("countdown_tick",), present(count=count))


def _mount(data: Mapping[str, Any]) -> Plan:
    """Plan how to step on: facing which way, holding which handrails."""
    direction = word(data, "direction", DIRECTIONS)
    return Plan(chain("mount", direction, word(data, "handrails", HANDRAILS)), {})


def _slow_down(data: Mapping[str, Any]) -> Plan:
    """Plan the slow-down (or pause) before a turn, done by the engine or by hand."""
    mode = "pause" if word(data, "turn_mode") == "pause" else "slow"
    base = f"slow_down.{mode}.advisory" if flag(data, "advisory") else f"slow_down.{mode}"
    values = present(speed=quantity(data, Unit.SPEED, "turn_speed"))
    return Plan((base, f"{base}.short") if mode == "slow" else (base,), values)


def _turn_now(data: Mapping[str, Any]) -> Plan:
    """Plan the instruction to turn, with handrail advice when turning to walk backward."""
    to = word(data, "to", DIRECTIONS)
    handrails = word(data, "handrails", HANDRAILS) if to == "backward" else None
    return Plan(chain("turn_now", to, handrails), {})


def _segment_cue(data: Mapping[str, Any]) -> Plan:
    """Plan the programme's own cue text."""
    return Plan(("segment_cue",), present(text=text(data, "text")))


def _setting(event: str, unit: Unit) -> Planner:
    """Plan a speed or incline change, as an instruction in advisory mode."""

    def planner(data: Mapping[str, Any]) -> Plan:
        """Plan the change of one setting."""
        key = f"{event}.advisory" if flag(data, "advisory") else event
        return Plan((key,), present(**{unit.value: quantity(data, unit, unit.value)}))

    return planner


def _halfway(data: Mapping[str, Any]) -> Plan:
    """Plan the halfway cue, with the time left when known."""
    values = present(time=quantity(data, Unit.DURATION, "remaining_s", "remaining"))
    return Plan(("halfway.remaining", "halfway"), values)


def _summary(data: Mapping[str, Any]) -> Plan:
    """Plan a periodic summary, or the final one after programme_completed."""
    if flag(data, "final"):
        final = ("summary.final", "summary.final.backward", "summary.final.time")
        return Plan(final, summary_values(data))
    periodic = (
        "summary",
        "summary.backward",
        "summary.backward_time",
        "summary.distance",
        "summary.elapsed",
    )
    return Plan(periodic, summary_values(data))


def _reason(event: str) -> Planner:
    """Plan an event said by its reason."""
    return lambda data: Plan(reason_keys(event, data), {})


def _paused(data: Mapping[str, Any]) -> Plan | None:
    """Plan a pause; one already explained by its own cue says nothing more."""
    if word(data, "reason") in SILENT_PAUSES:
        return None
    return Plan(reason_keys(EventType.PROGRAMME_PAUSED.value, data), {})


def _fixed(key: str) -> Planner:
    """Plan a cue that is always the same sentence."""
    return lambda _data: Plan((key,), {})


def _keyed(event: str, name: str, allowed: frozenset[str] | None = None) -> Planner:
    """Plan a cue whose variant is named by one data key."""
    return lambda data: Plan(chain(event, word(data, name, allowed)), {})


def _command_failed(data: Mapping[str, Any]) -> Plan:
    """Plan the failure of a belt command."""
    return Plan(chain(CueType.COMMAND_FAILED.value, command_topic(data)), {})


def _test_announcement(data: Mapping[str, Any]) -> Plan:
    """Plan a test announcement: the caller's message or the default text."""
    values = present(message=text(data, "message"))
    return Plan(("test_announcement.custom", "test_announcement"), values)


PLANNERS: dict[str, Planner] = {
    EventType.PROGRAMME_STARTED: _programme_started,
    EventType.INTERVAL_STARTED: _interval_started,
    EventType.TURN_AROUND_SOON: _turn_around_soon,
    EventType.DIRECTION_CHANGED: _direction_changed,
    EventType.PROGRAMME_PAUSED: _paused,
    EventType.PROGRAMME_RESUMED: _reason(EventType.PROGRAMME_RESUMED.value),
    EventType.PROGRAMME_COMPLETED: _completed,
    EventType.PROGRAMME_ABORTED: _reason(EventType.PROGRAMME_ABORTED.value),
    CueType.WAITING_FOR_PERSON: _waiting_for_person,
    CueType.COUNTDOWN: _countdown,
    CueType.COUNTDOWN_TICK: _countdown_tick,
    CueType.MOUNT: _mount,
    CueType.SLOW_DOWN: _slow_down,
    CueType.TURN_NOW: _turn_now,
    CueType.SEGMENT_CUE: _segment_cue,
    CueType.SPEED_CHANGE: _setting(CueType.SPEED_CHANGE.value, Unit.SPEED),
    CueType.INCLINE_CHANGE: _setting(CueType.INCLINE_CHANGE.value, Unit.INCLINE),
    CueType.HALFWAY: _halfway,
    CueType.KNEE_WARNING: _fixed(CueType.KNEE_WARNING.value),
    CueType.ADVISORY_MODE: _keyed(CueType.ADVISORY_MODE.value, "reason"),
    CueType.COMMAND_FAILED: _command_failed,
    CueType.STOP_UNREACHABLE: _fixed(CueType.STOP_UNREACHABLE.value),
    CueType.SAFETY_KEY: _fixed(CueType.SAFETY_KEY.value),
    CueType.WAIT_AT_TURN: _keyed(CueType.WAIT_AT_TURN.value, "to", DIRECTIONS),
    CueType.STOP_THE_BELT: _fixed(CueType.STOP_THE_BELT.value),
    CueType.START_ON_CONSOLE: _fixed(CueType.START_ON_CONSOLE.value),
    CueType.DISTANCE_ESTIMATED: _fixed(CueType.DISTANCE_ESTIMATED.value),
    CueType.SUMMARY: _summary,
    TEST_ANNOUNCEMENT: _test_announcement,
}
