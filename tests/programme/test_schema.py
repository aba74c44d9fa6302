"""Programme schema: the model, round trips, every bound refused with an exact text."""

from __future__ import annotations

import copy
from pathlib import Path
import subprocess
import sys
from typing import Any

import pytest

from custom_components.treadreverse.programme.builtins import (
    BUILTIN_KEYS,
    BUILTIN_PROGRAMMES,
    BUILTINS,
    builtin_programme,
)
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import (
    Programme,
    ProgrammeError,
    Ramp,
    Repeat,
    Segment,
    format_path,
)

BASE: dict[str, Any] = {
    "name": "Test",
    "description": "A test programme.",
    "segments": [
        {"direction": "forward", "duration": 60, "speed": 3.0, "intensity": "warmup"},
        {
            "repeat": 2,
            "segments": [
                {
                    "direction": "backward",
                    "duration": 30,
                    "speed": 2.0,
                    "incline": 1.0,
                    "handrails": "both",
                    "cue": "Toes first.",
                },
                {"direction": "forward", "distance": 100, "speed": 4.0},
            ],
        },
        {
            "direction": "forward",
            "duration": 60,
            "speed": 4.0,
            "ramp_to": {"speed": 3.0, "incline": 0.0},
            "intensity": "cooldown",
        },
    ],
}


def programme(**changes: Any) -> dict[str, Any]:
    """Return a copy of BASE with top-level changes."""
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def with_segment(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """Return BASE with one nested value replaced (or removed when value is ...)."""
    data = copy.deepcopy(BASE)
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def error_of(data: Any) -> ProgrammeError:
    """Return the error a definition raises."""
    with pytest.raises(ProgrammeError) as info:
        Programme.from_dict(data)
    return info.value


def test_round_trip() -> None:
    """from_dict(to_dict()) gives an equal programme and the same definition."""
    parsed = Programme.from_dict(BASE)
    assert Programme.from_dict(parsed.to_dict()) == parsed
    assert parsed.to_dict() == Programme.from_dict(parsed.to_dict()).to_dict()
    assert isinstance(parsed.segments[1], Repeat)
    first = parsed.segments[0]
    assert isinstance(first, Segment)
    assert first.duration == 60.0
    last = parsed.segments[2]
    assert isinstance(last, Segment)
    assert last.ramp_to == Ramp(speed=3.0, incline=0.0)
    assert parsed.segments[1].to_dict()["repeat"] == 2


def test_expanded_paths_and_estimates() -> None:
    """Repeats unroll with their definition paths; distance estimates at mean speed."""
    parsed = Programme.from_dict(BASE)
    paths = [path for _, path in parsed.expanded()]
    assert paths == [
        "segments[0]",
        "segments[1].segments[0]",
        "segments[1].segments[1]",
        "segments[1].segments[0]",
        "segments[1].segments[1]",
        "segments[2]",
    ]
    assert parsed.estimated_duration == pytest.approx(60 + 2 * (30 + 90) + 60)


def test_nested_repeat_and_ramp_distance() -> None:
    """Nested repeats count and expand; a ramped distance segment uses the mean speed."""
    data = programme(
        segments=[
            {
                "repeat": 2,
                "segments": [
                    {"repeat": 3, "segments": [{"direction": "forward", "duration": 5, "speed": 2}]}
                ],
            },
            {"direction": "forward", "distance": 100, "speed": 2.0, "ramp_to": {"speed": 4.0}},
            {"direction": "forward", "distance": 100, "speed": 2.0, "ramp_to": {"incline": 2}},
        ]
    )
    parsed = Programme.from_dict(data)
    assert len(parsed.expanded()) == 8
    assert parsed.expanded()[2][1] == "segments[0].segments[0].segments[0]"
    assert parsed.expanded()[6][0].estimated_duration == pytest.approx(120.0)
    assert parsed.expanded()[7][0].estimated_duration == pytest.approx(180.0)


def test_format_path() -> None:
    """Paths render like the issue's example."""
    assert format_path(["segments", 1, "segments", 0, "speed"]) == "segments[1].segments[0].speed"
    assert format_path([]) == ""


LONG = "x" * 201
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("no mapping", [], ""),  # type: ignore[list-item]
    ("name missing", with_segment(("name",), ...), "name: is required"),
    ("segments missing", with_segment(("segments",), ...), "segments: is required"),
    ("unknown top field", programme(colour="red"), "colour: colour is not a known field"),
    ("name empty", programme(name="  "), "name: must not be empty"),
    ("name not text", programme(name=5), "name: 5 is not text"),
    ("name too long", programme(name=LONG), "name: is 201 characters long, at most 200"),
    (
        "description too long",
        programme(description=LONG),
        "description: is 201 characters long, at most 200",
    ),
    ("segments empty", programme(segments=[]), "segments: must be a non-empty list"),
    ("segments not a list", programme(segments="x"), "segments: must be a non-empty list"),
    ("segment not a mapping", programme(segments=[5]), "segments[0]: must be a mapping"),
    (
        "cue too long",
        with_segment(("segments", 1, "segments", 0, "cue"), LONG),
        "segments[1].segments[0].cue: is 201 characters long, at most 200",
    ),
    (
        "speed too low",
        with_segment(("segments", 0, "speed"), 0.4),
        "segments[0].speed: 0.4 km/h is outside the allowed range of 0.5-25 km/h",
    ),
    (
        "speed too high",
        with_segment(("segments", 0, "speed"), 26),
        "segments[0].speed: 26 km/h is outside the allowed range of 0.5-25 km/h",
    ),
    (
        "speed not a number",
        with_segment(("segments", 0, "speed"), "fast"),
        "segments[0].speed: 'fast' is not a number",
    ),
    (
        "speed a bool",
        with_segment(("segments", 0, "speed"), True),
        "segments[0].speed: True is not a number",
    ),
    (
        "speed infinite",
        with_segment(("segments", 0, "speed"), float("inf")),
        "segments[0].speed: inf km/h is outside the allowed range of 0.5-25 km/h",
    ),
    (
        "speed missing",
        with_segment(("segments", 0, "speed"), ...),
        "segments[0].speed: is required",
    ),
    (
        "incline too low",
        with_segment(("segments", 0, "incline"), -11),
        "segments[0].incline: -11 % is outside the allowed range of -10-40 %",
    ),
    (
        "incline too high",
        with_segment(("segments", 0, "incline"), 41),
        "segments[0].incline: 41 % is outside the allowed range of -10-40 %",
    ),
    (
        "duration too short",
        with_segment(("segments", 0, "duration"), 0.5),
        "segments[0].duration: 0.5 s is outside the allowed range of 1-14400 s",
    ),
    (
        "duration too long",
        with_segment(("segments", 0, "duration"), 14401),
        "segments[0].duration: 14401 s is outside the allowed range of 1-14400 s",
    ),
    (
        "distance too short",
        with_segment(("segments", 1, "segments", 1, "distance"), 0),
        "segments[1].segments[1].distance: 0 m is outside the allowed range of 1-50000 m",
    ),
    (
        "distance too long",
        with_segment(("segments", 1, "segments", 1, "distance"), 50001),
        "segments[1].segments[1].distance: 50001 m is outside the allowed range of 1-50000 m",
    ),
    (
        "both duration and distance",
        with_segment(("segments", 0, "distance"), 100),
        "segments[0]: give exactly one of duration and distance",
    ),
    (
        "neither duration nor distance",
        with_segment(("segments", 0, "duration"), ...),
        "segments[0]: give exactly one of duration and distance",
    ),
    (
        "repeat zero",
        with_segment(("segments", 1, "repeat"), 0),
        "segments[1].repeat: 0 is outside the allowed range of 1-100",
    ),
    (
        "repeat too many",
        with_segment(("segments", 1, "repeat"), 101),
        "segments[1].repeat: 101 is outside the allowed range of 1-100",
    ),
    (
        "repeat not whole",
        with_segment(("segments", 1, "repeat"), 2.5),
        "segments[1].repeat: 2.5 is not a whole number",
    ),
    (
        "repeat without segments",
        with_segment(("segments", 1, "segments"), ...),
        "segments[1].segments: is required",
    ),
    (
        "repeat unknown field",
        with_segment(("segments", 1, "speed"), 2),
        "segments[1].speed: speed is not a known field",
    ),
    (
        "unknown segment field",
        with_segment(("segments", 0, "colour"), "red"),
        "segments[0].colour: colour is not a known field",
    ),
    (
        "bad direction",
        with_segment(("segments", 0, "direction"), "sideways"),
        "segments[0].direction: 'sideways' is not one of forward, backward",
    ),
    (
        "bad posture",
        with_segment(("segments", 0, "posture"), "crouch"),
        "segments[0].posture: 'crouch' is not one of upright, half_squat",
    ),
    (
        "bad handrails",
        with_segment(("segments", 0, "handrails"), "two"),
        "segments[0].handrails: 'two' is not one of both, one, none",
    ),
    (
        "bad intensity",
        with_segment(("segments", 0, "intensity"), "max"),
        "segments[0].intensity: 'max' is not one of warmup, active, rest, cooldown",
    ),
    (
        "ramp not a mapping",
        with_segment(("segments", 2, "ramp_to"), 3),
        "segments[2].ramp_to: must be a mapping",
    ),
    (
        "ramp unknown field",
        with_segment(("segments", 2, "ramp_to"), {"pace": 3}),
        "segments[2].ramp_to.pace: pace is not a known field",
    ),
    (
        "ramp speed too high",
        with_segment(("segments", 2, "ramp_to"), {"speed": 30}),
        "segments[2].ramp_to.speed: 30 km/h is outside the allowed range of 0.5-25 km/h",
    ),
    (
        "ramp incline too high",
        with_segment(("segments", 2, "ramp_to"), {"incline": 50}),
        "segments[2].ramp_to.incline: 50 % is outside the allowed range of -10-40 %",
    ),
    (
        "backward above any cap",
        with_segment(("segments", 1, "segments", 0, "speed"), 9.0),
        "segments[1].segments[0].speed: 9.0 km/h is above the maximum backward speed of 8.0 km/h",
    ),
    (
        "backward ramp above any cap",
        with_segment(("segments", 1, "segments", 0, "ramp_to"), {"speed": 8.5}),
        "segments[1].segments[0].ramp_to.speed: 8.5 km/h is above the maximum backward speed "
        "of 8.0 km/h",
    ),
    (
        "half squat too long",
        with_segment(("segments", 1, "segments", 0, "posture"), "half_squat")
        | {
            "segments": [
                {"direction": "backward", "duration": 61, "speed": 1.5, "posture": "half_squat"}
            ]
        },
        "segments[0].duration: 61.0 s is longer than the 60.0 s a half_squat segment may last",
    ),
    (
        "half squat by distance",
        programme(
            segments=[
                {"direction": "backward", "distance": 20, "speed": 1.5, "posture": "half_squat"}
            ]
        ),
        "segments[0].distance: a half_squat segment is given by duration only",
    ),
    (
        "too many segments",
        programme(
            segments=[
                {
                    "repeat": 100,
                    "segments": [{"direction": "forward", "duration": 1, "speed": 2}] * 6,
                }
            ]
        ),
        "segments: 600 segments once repeats are expanded, at most 500",
    ),
    (
        "longer than four hours",
        programme(
            segments=[
                {"repeat": 2, "segments": [{"direction": "forward", "duration": 7300, "speed": 2}]}
            ]
        ),
        "segments: lasts 4.1 h, at most 4 h",
    ),
]


@pytest.mark.parametrize(
    ("data", "text"), [(d, t) for _, d, t in REFUSED], ids=[n for n, _, _ in REFUSED]
)
def test_every_bound_is_refused(data: Any, text: str) -> None:
    """Each bound is refused with an exact text naming the place."""
    err = error_of(data)
    expected = text or "must be a mapping"
    assert str(err) == expected
    assert err.path == expected.partition(": ")[0] if ": " in expected else err.path == ""
    assert err.key


HALF_SQUAT: dict[str, Any] = {"direction": "backward", "speed": 1.5, "posture": "half_squat"}


@pytest.mark.parametrize(
    ("segment", "path", "reason", "key"),
    [
        (
            HALF_SQUAT | {"duration": 60.5},
            "segments[1].segments[0].duration",
            "60.5 s is longer than the 60.0 s a half_squat segment may last",
            "half_squat_too_long",
        ),
        (
            HALF_SQUAT | {"distance": 20},
            "segments[1].segments[0].distance",
            "a half_squat segment is given by duration only",
            "half_squat_distance",
        ),
        (
            HALF_SQUAT | {"duration": 30, "distance": 20},
            "segments[1].segments[0]",
            "give exactly one of duration and distance",
            "duration_or_distance",
        ),
    ],
    ids=["longer than 60 s", "by distance", "both"],
)
def test_half_squat_refused_in_a_repeat(
    segment: dict[str, Any], path: str, reason: str, key: str
) -> None:
    """Rule 5 holds inside repeat blocks, with the path of the segment."""
    err = error_of(with_segment(("segments", 1, "segments", 0), segment))
    assert (err.path, err.reason, err.key) == (path, reason, key)


def test_half_squat_of_60_s_accepted() -> None:
    """A half_squat segment of exactly 60 s is allowed."""
    data = programme(segments=[HALF_SQUAT | {"duration": 60}])
    assert Programme.from_dict(data).expanded()[0][0].duration == 60


def test_error_fields() -> None:
    """ProgrammeError carries path, reason and key separately."""
    err = error_of(with_segment(("segments", 1, "segments", 0, "speed"), 9.0))
    assert err.path == "segments[1].segments[0].speed"
    assert err.reason == "9.0 km/h is above the maximum backward speed of 8.0 km/h"
    assert err.key == "above_backward_cap"
    assert isinstance(err, ValueError)


def test_same_text_under_home_assistant_voluptuous() -> None:
    """Importing homeassistant swaps voluptuous for probatio; the texts stay identical."""
    script = (
        "import homeassistant, json, sys\n"
        "sys.path.insert(0, '.')\n"
        "from tests.programme.test_schema import REFUSED, error_of\n"
        "print(json.dumps([str(error_of(d)) for _, d, _ in REFUSED]))\n"
    )
    root = Path(__file__).parents[2]
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    import json

    assert json.loads(out.stdout) == [t or "must be a mapping" for _, _, t in REFUSED]


@pytest.mark.parametrize("key", BUILTIN_KEYS)
def test_builtins_are_valid(key: str) -> None:
    """Every built-in validates, round-trips and has a title and a short description."""
    builtin = BUILTINS[key]
    parsed = builtin_programme(key)
    assert parsed.name == builtin.title
    assert parsed.description == builtin.description
    assert 40 < len(builtin.description) <= 200
    assert Programme.from_dict(parsed.to_dict()) == parsed
    assert BUILTIN_PROGRAMMES[key] == builtin.definition
    assert builtin.programme() == parsed


def test_builtin_keys() -> None:
    """The keys are the product's fixed translation keys."""
    assert BUILTIN_KEYS == (
        "first_steps",
        "incline_ladder",
        "backward_jog",
        "half_squat_incline",
        "knee_extension",
    )


OPTION_ERRORS = [
    ({"cue_lead_time": -1}, "options.cue_lead_time: -1 is not between 0 and 60 s"),
    ({"turn_duration": 0.5}, "options.turn_duration: 0.5 is not between 1 and 60 s"),
    ({"max_backward_speed": 8.5}, "options.max_backward_speed: 8.5 is not between 0.5 and 8 km/h"),
    ({"turn_speed": 5.0}, "options.turn_speed: 5.0 is not between 0.5 km/h and max_backward_speed"),
    ({"start_countdown": 4}, "options.start_countdown: 4 is not between 5 and 60 s"),
    ({"summary_interval": -5}, "options.summary_interval: -5 is not between 0 and 3600 s"),
    ({"turn_mode": "jump"}, "options.turn_mode: jump is not slow or pause"),
]


@pytest.mark.parametrize(("changes", "text"), OPTION_ERRORS)
def test_options_bounds(changes: dict[str, Any], text: str) -> None:
    """Unsafe options are refused with the option's name."""
    with pytest.raises(ProgrammeError) as info:
        EngineOptions(**changes)
    assert str(info.value) == text


def test_options_defaults() -> None:
    """The defaults are product.md's."""
    options = EngineOptions()
    assert (options.cue_lead_time, options.turn_speed, options.turn_duration) == (5.0, 1.0, 5.0)
    assert (options.max_backward_speed, options.start_countdown) == (4.0, 10.0)
    assert options.turn_mode == "slow"
    assert options.summary_interval == 0.0
