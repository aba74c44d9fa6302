"""Compiler: the safety rules found broken in review (rules 2, 4, 5 and 8)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.treadreverse.programme.compiler import compile_programme
from custom_components.treadreverse.programme.options import EngineOptions, TurnMode
from custom_components.treadreverse.programme.schema import (
    Posture,
    Programme,
    ProgrammeError,
    Repeat,
    Segment,
    SegmentDirection,
)

from .fake import CAPS


def prog(*segments: dict[str, Any]) -> Programme:
    """Return a programme of these segments."""
    return Programme.from_dict({"name": "T", "segments": list(segments)})


def seg(direction: str = "forward", **fields: Any) -> dict[str, Any]:
    """Return a segment definition with defaults."""
    return {"direction": direction, "duration": 60, "speed": 2.0, **fields}


def dist(direction: str = "forward", **fields: Any) -> dict[str, Any]:
    """Return a distance segment definition with defaults."""
    return {"direction": direction, "distance": 100, "speed": 3.6, **fields}


# Rule 2: a segment before a turn that is too short for the lead-in is refused.


@pytest.mark.parametrize(
    ("segments", "options", "scale", "path", "length"),
    [
        pytest.param(
            [seg(), seg(duration=2), seg("backward")],
            EngineOptions(),
            1.0,
            "segments[1]",
            "2.0",
            id="timed before a turn",
        ),
        pytest.param(
            [seg("backward", duration=3), seg()],
            EngineOptions(),
            1.0,
            "segments[0]",
            "3.0",
            id="backward first, then a turn",
        ),
        pytest.param(
            [seg(), seg("backward", duration=4.5)],
            EngineOptions(),
            1.0,
            "segments[1]",
            "4.5",
            id="before the final turn to face forward",
        ),
        pytest.param(
            [seg(), seg(duration=8), seg("backward")],
            EngineOptions(cue_lead_time=10),
            1.0,
            "segments[1]",
            "8.0",
            id="the option's lead time",
        ),
        pytest.param(
            [dist(distance=6), seg("backward")],
            EngineOptions(),
            1.5,
            "segments[0]",
            "4.0",
            id="distance at its scaled speed",
        ),
        pytest.param(
            [dist(distance=10, speed=2.0, ramp_to={"speed": 8.0}), seg("backward")],
            EngineOptions(),
            1.0,
            "segments[0]",
            "4.5",
            id="distance at the fastest speed of its ramp",
        ),
    ],
)
def test_segment_too_short_for_the_turn_cue_refused(
    segments: list[dict[str, Any]], options: EngineOptions, scale: float, path: str, length: str
) -> None:
    """A segment followed by a turn lasts at least cue_lead_time (rule 2)."""
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(*segments), options, CAPS, scale)
    lead = f"{options.cue_lead_time:.1f}"
    assert info.value.path == path
    assert info.value.key == "too_short_for_turn_cue"
    assert info.value.reason == (
        f"lasts {length} s, less than the {lead} s the turn cue needs before the turn "
        "that follows it"
    )


@pytest.mark.parametrize(
    ("segments", "options", "scale"),
    [
        pytest.param([seg(), seg(duration=5), seg("backward")], EngineOptions(), 1.0, id="exactly"),
        pytest.param([seg(duration=2), seg(duration=2)], EngineOptions(), 1.0, id="no turn"),
        pytest.param(
            [seg(duration=2), seg("backward", duration=1)],
            EngineOptions(cue_lead_time=0),
            1.0,
            id="no lead time",
        ),
        pytest.param([dist(distance=6), seg("backward")], EngineOptions(), 1.0, id="distance"),
        pytest.param(
            [dist(distance=3), seg("backward")], EngineOptions(), 0.5, id="distance slowed"
        ),
    ],
)
def test_segment_long_enough_for_the_turn_cue(
    segments: list[dict[str, Any]], options: EngineOptions, scale: float
) -> None:
    """Segments at least cue_lead_time long, or not before a turn, are accepted."""
    assert compile_programme(prog(*segments), options, CAPS, scale).phases


# Rule 8: at most 4 hours, with speed_scale applied and each turn at turn_duration plus
# its timeout; a distance segment never lasts longer than its distance at half its speed.


def test_turns_count_towards_the_four_hours() -> None:
    """3.9 h of segments with 200 turns lasts up to 5 h: refused."""
    programme = prog({"repeat": 100, "segments": [seg(duration=70), seg("backward", duration=70)]})
    assert programme.estimated_duration == 14000  # 3.9 h without turns: the schema accepts it
    with pytest.raises(ProgrammeError) as info:
        compile_programme(programme, EngineOptions(), CAPS)
    assert info.value.path == "segments"
    assert info.value.key == "too_long_programme"
    assert info.value.reason == (
        "may last 5.0 h (speed_scale 1, each turn at 20 s, distance segments at half their "
        "speed), at most 4 h"
    )


def test_pause_turns_count_their_restart_countdown() -> None:
    """In pause mode a turn also waits for the belt's restart countdown."""
    programme = prog({"repeat": 50, "segments": [seg(duration=120), seg("backward", duration=120)]})
    # 12000 s of segments and 100 turns: 14000 s with turns at 5 + 15 s; in pause mode 99
    # turns at 5 + 15 + 10 s and the final one at 20 s: 14990 s.
    assert compile_programme(programme, EngineOptions(), CAPS).phases
    with pytest.raises(ProgrammeError) as info:
        compile_programme(programme, EngineOptions(turn_mode=TurnMode.PAUSE), CAPS)
    assert info.value.key == "too_long_programme"


def test_speed_scale_counts_towards_the_four_hours() -> None:
    """Slowing a distance programme down makes it last longer: refused above 4 h."""
    programme = prog(dist(distance=10000, speed=5.0))  # 2 h, at most 4 h
    assert compile_programme(programme, EngineOptions(), CAPS).phases
    with pytest.raises(ProgrammeError) as info:
        compile_programme(programme, EngineOptions(), CAPS, 0.5)
    assert info.value.path == "segments"
    assert info.value.reason == (
        "may last 8.0 h (speed_scale 0.5, each turn at 20 s, distance segments at half their "
        "speed), at most 4 h"
    )


def test_distance_counts_at_half_its_speed() -> None:
    """A distance segment may last its distance at half its speed: that is what counts."""
    programme = prog(dist(distance=12000, speed=5.0))  # planned 2.4 h, may last 4.8 h
    with pytest.raises(ProgrammeError) as info:
        compile_programme(programme, EngineOptions(), CAPS)
    assert info.value.reason.startswith("may last 4.8 h ")


@pytest.mark.parametrize(
    ("segment", "scale", "estimate", "longest"),
    [
        (dist(distance=200), 1.0, 200.0, 400.0),
        (dist(distance=200), 0.5, 400.0, 800.0),
        (dist(distance=300, speed=2.0, ramp_to={"speed": 4.0}), 1.0, 360.0, 720.0),
    ],
)
def test_distance_segment_max_duration(
    segment: dict[str, Any], scale: float, estimate: float, longest: float
) -> None:
    """Distance phases carry their scaled estimate and the most they may last."""
    timeline = compile_programme(prog(segment, seg("backward")), EngineOptions(), CAPS, scale)
    walk, turn, back, final = timeline.phases
    assert walk.estimated_duration == pytest.approx(estimate)
    assert walk.max_duration == pytest.approx(longest)
    assert turn.max_duration is None
    assert back.max_duration is None  # a timed segment lasts its duration
    assert final.max_duration is None


@pytest.mark.parametrize("times", [0, 501])
def test_segment_count_checked_without_the_schema(times: int) -> None:
    """A model built in code, not through the schema, is bounded too."""
    one = Segment(SegmentDirection.FORWARD, 2.0, duration=10)
    programme = Programme("T", (Repeat(times, (one,)),) if times else ())
    with pytest.raises(ProgrammeError) as info:
        compile_programme(programme, EngineOptions(), CAPS)
    assert info.value.key == "too_many_segments"
    assert info.value.reason == (f"{times} segments once repeats are expanded, 1-500 allowed")


# Rule 5: a half_squat segment lasts at most 60 s and is given by duration only.


@pytest.mark.parametrize(
    ("fields", "path", "reason", "key"),
    [
        (
            {"duration": 90.0},
            "segments[0].duration",
            "90.0 s is longer than the 60.0 s a half_squat segment may last",
            "half_squat_too_long",
        ),
        (
            {"distance": 20.0},
            "segments[0].distance",
            "a half_squat segment is given by duration only",
            "half_squat_distance",
        ),
    ],
)
def test_half_squat_checked_without_the_schema(
    fields: dict[str, float], path: str, reason: str, key: str
) -> None:
    """A half_squat segment built in code, not through the schema, is held to rule 5."""
    squat = Segment(SegmentDirection.BACKWARD, 1.5, posture=Posture.HALF_SQUAT, **fields)
    with pytest.raises(ProgrammeError) as info:
        compile_programme(Programme("T", (squat,)), EngineOptions(), CAPS)
    assert (info.value.path, info.value.reason, info.value.key) == (path, reason, key)
