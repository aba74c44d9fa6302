"""Compiler: the safety rules found broken in review (rules 2, 4, 5 and 8)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.treadreverse.programme.compiler import compile_programme
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import Programme, ProgrammeError

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
