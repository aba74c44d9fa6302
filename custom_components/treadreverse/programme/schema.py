"""The programme definition: model, validation and bounds (safety rules 5 and 8)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
import json
import math
import reprlib
from types import MappingProxyType
from typing import Any

import voluptuous as vol

MAX_SEGMENTS = 500  # expanded (rule 8)
MAX_TOTAL_DURATION_S = 4 * 3600  # rule 8
MAX_STRING = 200  # rule 8
SPEED_MIN, SPEED_MAX = 0.5, 25.0  # km/h, absolute sanity range
BACKWARD_SPEED_LIMIT = 8.0  # km/h, the highest max_backward_speed allowed
INCLINE_MIN, INCLINE_MAX = -10.0, 40.0  # %
DURATION_MIN, DURATION_MAX = 1.0, 14400.0  # s
DISTANCE_MIN, DISTANCE_MAX = 1.0, 50000.0  # m
REPEAT_MIN, REPEAT_MAX = 1, 100
SPEED_SCALE_MIN, SPEED_SCALE_MAX = 0.5, 1.5
HALF_SQUAT_MAX_S = 60.0  # rule 5
MAX_DEPTH = 5  # repeat blocks within repeat blocks: deeper is refused before it is walked

# A separator that cannot appear in our reasons: it carries the error kind and its
# placeholders through voluptuous (or HA's probatio alias), which keeps a message and a path.
_SEP = "\x1f"


class SegmentDirection(StrEnum):
    """Which way the person faces on the belt."""

    FORWARD = "forward"
    BACKWARD = "backward"


class Posture(StrEnum):
    """Body position during a segment."""

    UPRIGHT = "upright"
    HALF_SQUAT = "half_squat"


class Handrails(StrEnum):
    """How many hands hold the rails."""

    BOTH = "both"
    ONE = "one"
    NONE = "none"


class Intensity(StrEnum):
    """Role of a segment in the programme."""

    WARMUP = "warmup"
    ACTIVE = "active"
    REST = "rest"
    COOLDOWN = "cooldown"


class ErrorKind(StrEnum):
    """What is wrong with a programme; the glue gives each kind its own translated message."""

    INVALID = "invalid"  # a message voluptuous wrote itself; our validators never leave one
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"  # a measure with a unit
    OUT_OF_RANGE_UNITLESS = "out_of_range_unitless"  # a count or a factor
    NOT_AN_INTEGER = "not_an_integer"
    NOT_A_STRING = "not_a_string"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_A_CHOICE = "not_a_choice"
    NOT_A_MAPPING = "not_a_mapping"
    UNKNOWN_FIELD = "unknown_field"
    REQUIRED = "required"
    NOT_A_LIST = "not_a_list"
    DURATION_OR_DISTANCE = "duration_or_distance"
    HALF_SQUAT_DISTANCE = "half_squat_distance"
    HALF_SQUAT_TOO_LONG = "half_squat_too_long"
    ABOVE_BACKWARD_CAP = "above_backward_cap"
    TOO_MANY_SEGMENTS = "too_many_segments"
    TOO_LONG_PROGRAMME = "too_long_programme"
    OUTSIDE_MACHINE_SPEED = "outside_machine_speed"
    OUTSIDE_MACHINE_INCLINE = "outside_machine_incline"
    TOO_SHORT_FOR_TURN_CUE = "too_short_for_turn_cue"
    TOO_SHORT_FOR_STAGGER = "too_short_for_stagger"
    NOT_CONTROLLABLE = "not_controllable"
    TOO_DEEP = "too_deep"


# The placeholders of each kind's message besides the path: every raise of a kind passes
# exactly these (tests/integration/test_errors.py checks the code and the translations).
PLACEHOLDERS: Mapping[ErrorKind, frozenset[str]] = MappingProxyType(
    {
        ErrorKind.INVALID: frozenset({"message"}),
        ErrorKind.NOT_A_NUMBER: frozenset({"value"}),
        ErrorKind.OUT_OF_RANGE: frozenset({"value", "min", "max", "unit"}),
        ErrorKind.OUT_OF_RANGE_UNITLESS: frozenset({"value", "min", "max"}),
        ErrorKind.NOT_AN_INTEGER: frozenset({"value"}),
        ErrorKind.NOT_A_STRING: frozenset({"value"}),
        ErrorKind.EMPTY: frozenset(),
        ErrorKind.TOO_LONG: frozenset({"length", "max"}),
        ErrorKind.NOT_A_CHOICE: frozenset({"value", "allowed"}),
        ErrorKind.NOT_A_MAPPING: frozenset(),
        ErrorKind.UNKNOWN_FIELD: frozenset({"field"}),
        ErrorKind.REQUIRED: frozenset(),
        ErrorKind.NOT_A_LIST: frozenset(),
        ErrorKind.DURATION_OR_DISTANCE: frozenset(),
        ErrorKind.HALF_SQUAT_DISTANCE: frozenset(),
        ErrorKind.HALF_SQUAT_TOO_LONG: frozenset({"value", "max"}),
        ErrorKind.ABOVE_BACKWARD_CAP: frozenset({"value", "cap"}),
        ErrorKind.TOO_MANY_SEGMENTS: frozenset({"count", "max"}),
        ErrorKind.TOO_LONG_PROGRAMME: frozenset({"hours", "max_hours"}),
        ErrorKind.OUTSIDE_MACHINE_SPEED: frozenset({"value", "min", "max"}),
        ErrorKind.OUTSIDE_MACHINE_INCLINE: frozenset({"value", "min", "max"}),
        ErrorKind.TOO_SHORT_FOR_TURN_CUE: frozenset({"duration", "lead"}),
        ErrorKind.TOO_SHORT_FOR_STAGGER: frozenset({"stagger"}),
        ErrorKind.NOT_CONTROLLABLE: frozenset(),
        ErrorKind.TOO_DEEP: frozenset({"max"}),
    }
)


class ProgrammeError(ValueError):
    """A programme (or option) that is invalid or cannot be made safe."""

    def __init__(
        self,
        path: str,
        reason: str,
        key: str = ErrorKind.INVALID,
        placeholders: Mapping[str, object] | None = None,
    ) -> None:
        """Keep the place, the (English) reason, the kind and its placeholders."""
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
        self.key = str(key)
        self.placeholders = {name: str(value) for name, value in (placeholders or {}).items()}

    @property
    def kind(self) -> ErrorKind | None:
        """Return the kind when the error carries all its message needs, else None."""
        try:
            kind = ErrorKind(self.key)
        except ValueError:  # an interlock refusal, or a key of code outside the schema
            return None
        return kind if set(self.placeholders) == PLACEHOLDERS[kind] else None


def format_path(path: Sequence[object]) -> str:
    """Render a voluptuous path as `segments[1].segments[0].speed`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _invalid(
    kind: ErrorKind, reason: str, path: list[Any] | None = None, **placeholders: object
) -> vol.Invalid:
    """Build a voluptuous error carrying our kind, reason and placeholders."""
    values = json.dumps({name: str(value) for name, value in placeholders.items()})
    # The reason may quote the input (an unknown field's name): the separator must not
    # appear in it, or the kind would be lost (JSON escapes it in the values).
    reason = reason.replace(_SEP, "\ufffd")
    return vol.Invalid(_SEP.join((kind, reason, values)), path=path or [])


# Hostile values are shown short: a huge or deeply nested value must not make a huge message
# (or exhaust the recursion limit while it is written).
_SHORT = reprlib.Repr(maxlevel=2, maxstring=40, maxother=40, maxlist=4, maxdict=4)


def short(value: object) -> str:
    """Return a short, safe rendering of any value for an error message."""
    return _SHORT.repr(value)


def fmt(value: float) -> str:
    """Format a number the way error texts and cues show it."""
    return f"{value:g}" if value != int(value) else f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Ramp:
    """Values reached by the end of a segment."""

    speed: float | None = None
    incline: float | None = None

    def to_dict(self) -> dict[str, float]:
        """Return the definition form."""
        out: dict[str, float] = {}
        if self.speed is not None:
            out["speed"] = self.speed
        if self.incline is not None:
            out["incline"] = self.incline
        return out


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of walking in one direction."""

    direction: SegmentDirection
    speed: float
    duration: float | None = None
    distance: float | None = None
    incline: float | None = None
    ramp_to: Ramp | None = None
    posture: Posture = Posture.UPRIGHT
    handrails: Handrails | None = None
    intensity: Intensity = Intensity.ACTIVE
    cue: str | None = None

    @property
    def estimated_duration(self) -> float:
        """Return the duration, estimated from distance at the mean speed when needed."""
        if self.duration is not None:
            return self.duration
        end = self.ramp_to.speed if self.ramp_to and self.ramp_to.speed else self.speed
        return float(self.distance or 0.0) / ((self.speed + end) / 2 / 3.6)

    def to_dict(self) -> dict[str, Any]:
        """Return the definition form (defaults left out)."""
        out: dict[str, Any] = {"direction": self.direction.value}
        for name in ("duration", "distance"):
            if (value := getattr(self, name)) is not None:
                out[name] = value
        out["speed"] = self.speed
        if self.incline is not None:
            out["incline"] = self.incline
        if self.ramp_to is not None:
            out["ramp_to"] = self.ramp_to.to_dict()
        if self.posture is not Posture.UPRIGHT:
            out["posture"] = self.posture.value
        if self.handrails is not None:
            out["handrails"] = self.handrails.value
        if self.intensity is not Intensity.ACTIVE:
            out["intensity"] = self.intensity.value
        if self.cue is not None:
            out["cue"] = self.cue
        return out


@dataclass(frozen=True, slots=True)
class Repeat:
    """A block of segments done several times."""

    times: int
    segments: tuple[Segment | Repeat, ...]

    def expand(self) -> Iterator[tuple[Segment, str]]:
        """Yield the block's segments in order with their definition paths."""
        for _ in range(self.times):
            yield from _expand(self.segments, "")

    def to_dict(self) -> dict[str, Any]:
        """Return the definition form."""
        return {"repeat": self.times, "segments": [item.to_dict() for item in self.segments]}


def _expand(items: Sequence[Segment | Repeat], prefix: str) -> Iterator[tuple[Segment, str]]:
    """Yield segments with their paths, repeating blocks."""
    for index, item in enumerate(items):
        path = f"{prefix}segments[{index}]"
        if isinstance(item, Segment):
            yield item, path
        else:
            for _ in range(item.times):
                yield from _expand(item.segments, f"{path}.")


@dataclass(frozen=True, slots=True)
class Programme:
    """A named sequence of segments and repeat blocks."""

    name: str
    segments: tuple[Segment | Repeat, ...]
    description: str | None = None

    @classmethod
    def from_dict(cls, data: object) -> Programme:
        """Validate a definition and build the model; raise ProgrammeError."""
        _check_depth(data)
        try:
            valid = PROGRAMME_SCHEMA(data)
        except vol.Invalid as err:
            raise _to_programme_error(err) from None
        programme = _build_programme(valid)
        _check_bounds(programme)
        return programme

    def to_dict(self) -> dict[str, Any]:
        """Return the definition form; from_dict(to_dict()) gives an equal programme."""
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["segments"] = [item.to_dict() for item in self.segments]
        return out

    def expanded(self) -> tuple[tuple[Segment, str], ...]:
        """Return every segment in order, repeats unrolled, with its definition path."""
        return tuple(_expand(self.segments, ""))

    @property
    def estimated_duration(self) -> float:
        """Return the planned length in seconds, turns not counted."""
        return sum(segment.estimated_duration for segment, _ in self.expanded())


def _check_depth(data: object) -> None:
    """Refuse repeat blocks nested deeper than MAX_DEPTH, without recursion (any depth)."""
    pending: list[tuple[object, str, int]] = [(data, "", 0)]
    while pending:
        value, prefix, depth = pending.pop()
        items = value.get("segments") if isinstance(value, Mapping) else None
        if not isinstance(items, list | tuple):  # a template's literal gives tuples
            continue
        if depth > MAX_DEPTH:
            raise ProgrammeError(
                prefix.removesuffix("."),
                f"repeat blocks are nested more than {MAX_DEPTH} deep",
                ErrorKind.TOO_DEEP,
                {"max": MAX_DEPTH},
            )
        for index, item in enumerate(items[: MAX_SEGMENTS + 1]):
            if isinstance(item, Mapping) and "repeat" in item:
                pending.append((item, f"{prefix}segments[{index}].", depth + 1))


def _to_programme_error(err: vol.Invalid) -> ProgrammeError:
    """Turn the first voluptuous error into our error with the same text everywhere."""
    first = err.errors[0] if isinstance(err, vol.MultipleInvalid) and err.errors else err
    message = str(first.error_message)
    parts = message.split(_SEP)
    if len(parts) != 3:  # a message voluptuous wrote itself; our validators never leave one
        return ProgrammeError(
            format_path(first.path), message, ErrorKind.INVALID, {"message": message}
        )
    kind, reason, values = parts
    return ProgrammeError(format_path(first.path), reason, kind, json.loads(values))


def _number(low: float, high: float, unit: str) -> Callable[[object], float]:
    """Validate a number within [low, high]."""

    def validate(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(
                ErrorKind.NOT_A_NUMBER, f"{short(value)} is not a number", value=short(value)
            )
        # Compared before any conversion: a huge integer does not fit a float.
        if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
            shown = f"{value:g}" if isinstance(value, float) else short(value)
            raise _invalid(
                ErrorKind.OUT_OF_RANGE,
                f"{shown} {unit} is outside the allowed range of {low:g}-{high:g} {unit}",
                value=shown,
                min=f"{low:g}",
                max=f"{high:g}",
                unit=unit,
            )
        return float(value)

    return validate


def _integer(low: int, high: int) -> Callable[[object], int]:
    """Validate a whole number within [low, high]."""

    def validate(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(
                ErrorKind.NOT_AN_INTEGER,
                f"{short(value)} is not a whole number",
                value=short(value),
            )
        if not low <= value <= high:
            raise _invalid(
                ErrorKind.OUT_OF_RANGE_UNITLESS,
                f"{short(value)} is outside the allowed range of {low}-{high}",
                value=short(value),
                min=low,
                max=high,
            )
        return value

    return validate


def _string(value: object) -> str:
    """Validate a non-empty string of at most MAX_STRING characters."""
    if not isinstance(value, str):
        raise _invalid(ErrorKind.NOT_A_STRING, f"{short(value)} is not text", value=short(value))
    if not value.strip():
        raise _invalid(ErrorKind.EMPTY, "must not be empty")
    if len(value) > MAX_STRING:
        raise _invalid(
            ErrorKind.TOO_LONG,
            f"is {len(value)} characters long, at most {MAX_STRING}",
            length=len(value),
            max=MAX_STRING,
        )
    return value


def _choice(enum: type[StrEnum]) -> Callable[[object], str]:
    """Validate one of an enum's values."""
    allowed = ", ".join(member.value for member in enum)

    choices = frozenset(member.value for member in enum)

    def validate(value: object) -> str:
        # Only text can be a choice: a list or a mapping is not even hashable.
        if not isinstance(value, str) or value not in choices:
            raise _invalid(
                ErrorKind.NOT_A_CHOICE,
                f"{short(value)} is not one of {allowed}",
                value=short(value),
                allowed=allowed,
            )
        return value

    return validate


def _mapping(
    required: frozenset[str], allowed: frozenset[str]
) -> Callable[[object], dict[str, Any]]:
    """Validate that a value is a mapping with known keys and the required ones."""

    def validate(value: object) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _invalid(ErrorKind.NOT_A_MAPPING, "must be a mapping")
        for key in value:
            if key not in allowed:
                name = key if isinstance(key, str) and len(key) <= MAX_STRING else short(key)
                raise _invalid(
                    ErrorKind.UNKNOWN_FIELD, f"{name} is not a known field", [name], field=name
                )
        for key in sorted(required - set(value)):
            raise _invalid(ErrorKind.REQUIRED, "is required", [key])
        return dict(value)

    return validate


def _sequence(item: Callable[[object], Any]) -> Callable[[object], list[Any]]:
    """Validate a non-empty list, each element with `item`."""
    schema = vol.Schema([item])

    def validate(value: object) -> list[Any]:
        if not isinstance(value, list | tuple) or not value:
            raise _invalid(ErrorKind.NOT_A_LIST, "must be a non-empty list")
        if len(value) > MAX_SEGMENTS:
            # Refused before each item is validated: a list of a million items is not walked.
            raise _invalid(
                ErrorKind.TOO_MANY_SEGMENTS,
                f"{len(value)} segments once repeats are expanded, at most {MAX_SEGMENTS}",
                count=len(value),
                max=MAX_SEGMENTS,
            )
        return list(schema(list(value)))

    return validate


def _exactly_one_of_duration_distance(value: dict[str, Any]) -> dict[str, Any]:
    """Require exactly one of duration and distance."""
    if ("duration" in value) == ("distance" in value):
        raise _invalid(ErrorKind.DURATION_OR_DISTANCE, "give exactly one of duration and distance")
    return value


def half_squat_problem(duration: float | None, distance: float | None) -> ProgrammeError | None:
    """Return what breaks rule 5 in a half-squat segment (path relative to it), if anything."""
    if distance is not None:
        return ProgrammeError(
            "distance",
            "a half_squat segment is given by duration only",
            ErrorKind.HALF_SQUAT_DISTANCE,
        )
    if duration is not None and duration > HALF_SQUAT_MAX_S:
        return ProgrammeError(
            "duration",
            f"{fmt(duration)} s is longer than the {fmt(HALF_SQUAT_MAX_S)} s a "
            "half_squat segment may last",
            ErrorKind.HALF_SQUAT_TOO_LONG,
            {"value": fmt(duration), "max": fmt(HALF_SQUAT_MAX_S)},
        )
    return None


def _half_squat(value: dict[str, Any]) -> dict[str, Any]:
    """Hold half-squat segments to rule 5: duration only, at most 60 s."""
    if value.get("posture") != Posture.HALF_SQUAT:
        return value
    if problem := half_squat_problem(value.get("duration"), value.get("distance")):
        raise _invalid(
            ErrorKind(problem.key), problem.reason, [problem.path], **problem.placeholders
        )
    return value


def _backward_limit(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse backward speeds above the highest backward cap anyone may set."""
    if value["direction"] != SegmentDirection.BACKWARD:
        return value
    speeds = [(["speed"], value["speed"])]
    if (ramp := value.get("ramp_to")) and "speed" in ramp:
        speeds.append((["ramp_to", "speed"], ramp["speed"]))
    for path, speed in speeds:
        if speed > BACKWARD_SPEED_LIMIT:
            raise _invalid(
                ErrorKind.ABOVE_BACKWARD_CAP,
                f"{fmt(speed)} km/h is above the maximum backward speed of "
                f"{fmt(BACKWARD_SPEED_LIMIT)} km/h",
                path,
                value=fmt(speed),
                cap=fmt(BACKWARD_SPEED_LIMIT),
            )
    return value


_SPEED = _number(SPEED_MIN, SPEED_MAX, "km/h")
_INCLINE = _number(INCLINE_MIN, INCLINE_MAX, "%")

RAMP_SCHEMA = vol.All(
    _mapping(frozenset(), frozenset({"speed", "incline"})),
    vol.Schema({vol.Optional("speed"): _SPEED, vol.Optional("incline"): _INCLINE}),
)

_SEGMENT_FIELDS = frozenset(
    {
        "direction",
        "duration",
        "distance",
        "speed",
        "incline",
        "ramp_to",
        "posture",
        "handrails",
        "intensity",
        "cue",
    }
)

SEGMENT_SCHEMA = vol.All(
    _mapping(frozenset({"direction", "speed"}), _SEGMENT_FIELDS),
    vol.Schema(
        {
            vol.Required("direction"): _choice(SegmentDirection),
            vol.Optional("duration"): _number(DURATION_MIN, DURATION_MAX, "s"),
            vol.Optional("distance"): _number(DISTANCE_MIN, DISTANCE_MAX, "m"),
            vol.Required("speed"): _SPEED,
            vol.Optional("incline"): _INCLINE,
            vol.Optional("ramp_to"): RAMP_SCHEMA,
            vol.Optional("posture"): _choice(Posture),
            vol.Optional("handrails"): _choice(Handrails),
            vol.Optional("intensity"): _choice(Intensity),
            vol.Optional("cue"): _string,
        }
    ),
    _exactly_one_of_duration_distance,
    _half_squat,
    _backward_limit,
)


def _item(value: object) -> dict[str, Any]:
    """Validate a segment or a repeat block."""
    if isinstance(value, Mapping) and "repeat" in value:
        return dict(REPEAT_SCHEMA(value))
    return dict(SEGMENT_SCHEMA(value))


REPEAT_SCHEMA = vol.All(
    _mapping(frozenset({"repeat", "segments"}), frozenset({"repeat", "segments"})),
    vol.Schema(
        {
            vol.Required("repeat"): _integer(REPEAT_MIN, REPEAT_MAX),
            vol.Required("segments"): _sequence(_item),
        }
    ),
)

PROGRAMME_SCHEMA = vol.All(
    _mapping(frozenset({"name", "segments"}), frozenset({"name", "description", "segments"})),
    vol.Schema(
        {
            vol.Required("name"): _string,
            vol.Optional("description"): _string,
            vol.Required("segments"): _sequence(_item),
        }
    ),
)


def _build_item(data: dict[str, Any]) -> Segment | Repeat:
    """Build a model item from validated data."""
    if "repeat" in data:
        return Repeat(int(data["repeat"]), tuple(_build_item(item) for item in data["segments"]))
    ramp = data.get("ramp_to")
    return Segment(
        direction=SegmentDirection(data["direction"]),
        speed=data["speed"],
        duration=data.get("duration"),
        distance=data.get("distance"),
        incline=data.get("incline"),
        ramp_to=Ramp(ramp.get("speed"), ramp.get("incline")) if ramp is not None else None,
        posture=Posture(data.get("posture", Posture.UPRIGHT)),
        handrails=Handrails(data["handrails"]) if "handrails" in data else None,
        intensity=Intensity(data.get("intensity", Intensity.ACTIVE)),
        cue=data.get("cue"),
    )


def _build_programme(data: dict[str, Any]) -> Programme:
    """Build the programme model from validated data."""
    return Programme(
        name=data["name"],
        description=data.get("description"),
        segments=tuple(_build_item(item) for item in data["segments"]),
    )


def _count(items: Sequence[Segment | Repeat]) -> int:
    """Count segments once repeats are unrolled, without unrolling them."""
    return sum(1 if isinstance(i, Segment) else i.times * _count(i.segments) for i in items)


def _check_bounds(programme: Programme) -> None:
    """Apply rule 8 to the expanded programme."""
    count = _count(programme.segments)
    if count > MAX_SEGMENTS:
        raise ProgrammeError(
            "segments",
            f"{count} segments once repeats are expanded, at most {MAX_SEGMENTS}",
            ErrorKind.TOO_MANY_SEGMENTS,
            {"count": count, "max": MAX_SEGMENTS},
        )
    total = programme.estimated_duration
    if total > MAX_TOTAL_DURATION_S:
        raise ProgrammeError(
            "segments",
            f"lasts {total / 3600:.1f} h, at most {MAX_TOTAL_DURATION_S // 3600} h",
            ErrorKind.TOO_LONG_PROGRAMME,
            {"hours": f"{total / 3600:.1f}", "max_hours": MAX_TOTAL_DURATION_S // 3600},
        )
