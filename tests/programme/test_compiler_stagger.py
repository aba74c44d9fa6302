"""Compiler: speed and incline are never both raised within 3 s of each other (rule 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
import itertools
from typing import Any

from hypothesis import event as note_event, given, settings, strategies as st
import pytest

from custom_components.treadreverse.programme.compiler import (
    STAGGER_S,
    PhaseKind,
    StepKind,
    Timeline,
    compile_programme,
    interval_data,
)
from custom_components.treadreverse.programme.options import EngineOptions, TurnMode
from custom_components.treadreverse.programme.schema import Programme, ProgrammeError
from custom_components.treadreverse.treadmill.base import Capabilities

from .fake import CAPS, MANUAL_CAPS

_EPS = 1e-6


@dataclass
class TimeLine:
    """Raises on the absolute time line: phases end to end, turns at their estimate."""

    speed: list[float] = field(default_factory=list)
    incline: list[float] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)  # steps outside their segment

    def clashes(self) -> list[tuple[float, float]]:
        """Return (speed raise, incline raise) pairs less than STAGGER_S apart."""
        return [
            (s, i)
            for s, i in itertools.product(self.speed, self.incline)
            if abs(s - i) < STAGGER_S - _EPS
        ]


def time_line(timeline: Timeline, options: EngineOptions) -> TimeLine:
    """Lay the phases end to end and find every raise.

    The belt starts from standstill, a turn leaves it at turn_speed (or stopped, in
    pause mode), and the machine's incline is unknown until the first incline step.
    """
    out = TimeLine()
    at, speed, incline = 0.0, 0.0, None
    for number, phase in enumerate(timeline.phases):
        if phase.kind is PhaseKind.TURN:
            stopped = options.turn_mode is TurnMode.PAUSE
            speed = 0.0 if stopped else min(speed, timeline.turn_speed)
            at += phase.estimated_duration
            continue
        for step in phase.steps:
            if step.kind is StepKind.CUE:
                continue
            if not 0.0 <= step.offset < phase.estimated_duration - _EPS:
                out.misplaced.append(f"phase {number}: {step.render()}")
            if step.kind is StepKind.SPEED:
                if step.value > speed + _EPS:
                    out.speed.append(at + step.offset)
                speed = step.value
            else:
                if incline is None or step.value > incline + _EPS:
                    out.incline.append(at + step.offset)
                incline = step.value
        at += phase.estimated_duration
    return out


def prog(*segments: dict[str, Any]) -> Programme:
    """Return a programme of these segments."""
    return Programme.from_dict({"name": "T", "segments": list(segments)})


def seg(direction: str = "forward", **fields: Any) -> dict[str, Any]:
    """Return a segment definition with defaults."""
    return {"direction": direction, "duration": 60, "speed": 2.0, **fields}


def staggered(programme: Programme, caps: Capabilities = CAPS) -> Timeline:
    """Compile with default options and check rule 4 on the whole time line."""
    timeline = compile_programme(programme, EngineOptions(), caps)
    line = time_line(timeline, EngineOptions())
    assert line.clashes() == []
    assert line.misplaced == []
    return timeline


def offsets(timeline: Timeline, phase: int, kind: StepKind) -> list[float]:
    """Return the offsets of one kind of step in a phase."""
    return [s.offset for s in timeline.phases[phase].steps if s.kind is kind]


def test_segment_too_short_for_the_stagger_refused() -> None:
    """Raising both in a 4 s segment before a speed raise cannot be staggered: refused."""
    programme = prog(
        seg(speed=2.0, incline=0.0), seg(duration=4, speed=3.0, incline=2.0), seg(speed=4.0)
    )
    with pytest.raises(ProgrammeError) as info:
        compile_programme(programme, EngineOptions(), CAPS)
    assert info.value.path == "segments[1]"
    assert info.value.key == "too_short_for_stagger"
    assert info.value.reason == (
        "is too short to raise the speed and the incline 3.0 s apart (rule 4)"
    )


def test_incline_waits_for_the_previous_segments_speed_raise() -> None:
    """A ramp's speed step just before the boundary holds back the next incline raise."""
    timeline = staggered(
        prog(
            seg(speed=2.0, incline=0.0),
            seg(duration=4, speed=2.0, ramp_to={"speed": 2.5}),
            seg(speed=2.5, incline=2.0),
        )
    )
    assert offsets(timeline, 1, StepKind.SPEED) == [2.0]
    assert offsets(timeline, 2, StepKind.INCLINE) == [1.0]


def test_incline_raise_clear_of_the_next_segments_speed_raise() -> None:
    """An incline ramp step is placed at least 3 s before the next segment's speed raise."""
    timeline = staggered(
        prog(
            seg(speed=2.0, incline=0.0),
            seg(duration=4, speed=2.0, ramp_to={"incline": 1.0}),
            seg(speed=3.0),
        )
    )
    assert offsets(timeline, 1, StepKind.INCLINE)[-1] <= 1.0


def test_speed_ramp_clear_of_the_incline_raise() -> None:
    """A speed ramp's steps keep 3 s from the segment's incline raise."""
    staggered(
        prog(
            seg(speed=2.0, incline=0.0),
            seg(duration=20, speed=3.0, incline=2.0, ramp_to={"speed": 4.0}),
        )
    )


@pytest.mark.parametrize("caps", [CAPS, MANUAL_CAPS], ids=["ftms", "manual"])
def test_long_joint_ramp(caps: Capabilities) -> None:
    """A long ramp of both speed and incline compiles, staggered, to its end values."""
    timeline = staggered(
        prog(seg(duration=1800, speed=2.0, incline=0.0, ramp_to={"speed": 8.0, "incline": 6.0})),
        caps,
    )
    steps = timeline.phases[0].steps
    assert [s.value for s in steps if s.kind is StepKind.SPEED][-1] == 8.0
    assert [s.value for s in steps if s.kind is StepKind.INCLINE][-1] == 6.0


def test_crowded_incline_ramp_takes_fewer_steps() -> None:
    """An incline ramp whose steps do not all fit between speed raises takes fewer."""
    timeline = staggered(
        prog(
            seg(speed=2.0, incline=0.0),
            seg(duration=40, ramp_to={"speed": 3.1, "incline": 5.0}),
            seg(speed=4.7),
        )
    )
    inclines = [s for s in timeline.phases[1].steps if s.kind is StepKind.INCLINE]
    assert len(inclines) == 6  # 7 wanted: at most one per 5 s in 40 s
    assert inclines[-1].value == 5.0
    assert all(b.offset - a.offset >= 5.0 for a, b in itertools.pairwise(inclines))


def test_interval_data() -> None:
    """Every public event of an interval carries the same data."""
    timeline = staggered(prog(seg(incline=1.0)))
    assert interval_data(timeline, timeline.intervals[0], "key") == {
        "programme": "key",
        "name": "T",
        "index": 1,
        "count": 1,
        "label": "Forward walk",
        "label_key": "forward_walk",
        "direction": "forward",
        "speed": 2.0,
        "incline": 1.0,
    }


# Random programmes.

REFUSALS = {
    "above_backward_cap",
    "outside_machine_speed",
    "too_short_for_turn_cue",
    "too_short_for_stagger",
    "too_long_programme",
}


@st.composite
def segments(draw: st.DrawFn) -> dict[str, Any]:
    """Draw one segment: short ones often, with inclines and ramps."""
    direction = draw(st.sampled_from(["forward", "backward"]))
    top = 4.0 if direction == "backward" else 10.0
    speed = draw(st.integers(5, int(top * 10))) / 10
    item: dict[str, Any] = {"direction": direction, "speed": speed}
    if draw(st.integers(0, 5)) == 0:
        item |= {"posture": "half_squat", "duration": draw(st.integers(1, 60))}
    elif draw(st.integers(0, 3)) == 0:
        item["distance"] = draw(st.integers(5, 300))
    else:
        item["duration"] = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 8, 10, 15, 30, 60, 200]))
    if draw(st.booleans()):
        item["incline"] = draw(st.integers(0, 20)) / 2
    if draw(st.booleans()):
        ramp: dict[str, float] = {}
        if draw(st.booleans()):
            ramp["speed"] = draw(st.integers(5, int(top * 10))) / 10
        if draw(st.booleans()):
            ramp["incline"] = draw(st.integers(0, 20)) / 2
        item["ramp_to"] = ramp
    return item


@st.composite
def programmes(draw: st.DrawFn) -> tuple[Programme, EngineOptions, Capabilities, float]:
    """Draw a programme, options, a machine and a speed scale."""
    items: list[Any] = draw(st.lists(segments(), min_size=1, max_size=6))
    if draw(st.booleans()):
        items = [*items[:1], {"repeat": draw(st.integers(1, 3)), "segments": items[1:] or items}]
    options = EngineOptions(
        cue_lead_time=draw(st.integers(0, 6)),
        turn_mode=draw(st.sampled_from(list(TurnMode))),
        turn_speed=draw(st.sampled_from([0.5, 1.0, 1.5])),
        turn_duration=draw(st.integers(1, 8)),
    )
    caps = draw(st.sampled_from([CAPS, MANUAL_CAPS]))
    scale = draw(st.sampled_from([1.0, 1.0, 0.5, 0.8, 1.2]))
    return Programme.from_dict({"name": "P", "segments": items}), options, caps, scale


@settings(max_examples=400, derandomize=True, deadline=None)
@given(programmes())
def test_random_programmes_never_raise_both_within_3_s(
    drawn: tuple[Programme, EngineOptions, Capabilities, float],
) -> None:
    """On every compiled time line speed and incline raises are 3 s apart, none in a turn."""
    programme, options, caps, scale = drawn
    refused: ProgrammeError | None = None
    try:
        timeline = compile_programme(programme, options, caps, scale)
    except ProgrammeError as err:
        refused = err
    note_event(f"refused: {refused.key}" if refused else "compiled")
    if refused is not None:
        assert refused.key in REFUSALS, refused
        return
    line = time_line(timeline, options)
    assert line.clashes() == [], "\n".join(timeline.render())
    assert line.misplaced == [], "\n".join(timeline.render())
