"""Random and garbage programme definitions straight through the schema and the compiler.

The only outcomes: a ProgrammeError of a known kind with every placeholder its message needs
(translated by the glue, naming the path), or a programme that obeys rules 5 and 8 and that
compiles within the machine and the backward cap, or is refused by the compiler.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given

from custom_components.treadreverse.programme.compiler import compile_programme
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import (
    BACKWARD_SPEED_LIMIT,
    HALF_SQUAT_MAX_S,
    MAX_SEGMENTS,
    MAX_TOTAL_DURATION_S,
    ErrorKind,
    Posture,
    Programme,
    ProgrammeError,
    SegmentDirection,
)
from custom_components.treadreverse.treadmill.base import Capabilities, Range

from .budget import examples
from .strategies import definitions
from .tally import Refused, outcome

CAPS = Capabilities(controllable=True, speed=Range(0.5, 12.0, 0.1), incline=Range(0, 12, 0.5))
OPTIONS = EngineOptions()


def _check_accepted(programme: Programme) -> None:
    """Hold an accepted programme to rules 5 and 8 (and the highest backward cap)."""
    expanded = programme.expanded()
    assert 1 <= len(expanded) <= MAX_SEGMENTS
    assert programme.estimated_duration <= MAX_TOTAL_DURATION_S
    for segment, _ in expanded:
        if segment.direction is SegmentDirection.BACKWARD:
            assert segment.speed <= BACKWARD_SPEED_LIMIT
        if segment.posture is Posture.HALF_SQUAT:
            assert segment.distance is None
            assert segment.duration is not None
            assert segment.duration <= HALF_SQUAT_MAX_S
    assert Programme.from_dict(programme.to_dict()) == programme


def _check_compiled(programme: Programme) -> None:
    """Hold the compiler to refusing, or to the machine's range and the backward cap."""
    try:
        timeline = compile_programme(programme, OPTIONS, CAPS)
    except ProgrammeError:
        return
    assert CAPS.speed is not None
    for interval in timeline.intervals:
        assert CAPS.speed.minimum <= interval.speed <= CAPS.speed.maximum
        if interval.segment.direction is SegmentDirection.BACKWARD:
            assert interval.speed <= timeline.backward_cap


@examples()
@given(definition=definitions)
def test_definitions_are_refused_by_kind_or_compile_within_the_rules(definition: Any) -> None:
    """No raw error, no accepted invalid programme."""
    with outcome("schema: programme definitions"):
        try:
            programme = Programme.from_dict(definition)
        except ProgrammeError as err:
            refusal = err
        else:
            _check_accepted(programme)
            _check_compiled(programme)
            return
        # A kind the glue translates, never voluptuous's own English text.
        assert refusal.kind is not None, refusal
        assert refusal.kind is not ErrorKind.INVALID, refusal
        raise Refused from refusal
        _check_compiled(programme)
