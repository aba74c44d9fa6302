"""Compiler: golden timelines of the built-ins and the safety rules it enforces."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from custom_components.treadreverse.programme.builtins import BUILTIN_KEYS, builtin_programme
from custom_components.treadreverse.programme.compiler import (
    LABELS,
    PhaseKind,
    StepKind,
    compile_programme,
    label_key,
    snap,
)
from custom_components.treadreverse.programme.events import CueType, EventType
from custom_components.treadreverse.programme.options import EngineOptions, TurnMode
from custom_components.treadreverse.programme.schema import Programme, ProgrammeError
from custom_components.treadreverse.treadmill.base import Capabilities, Range

from .fake import CAPS, MANUAL_CAPS

GOLDEN = Path(__file__).parent / "golden"


def prog(*segments: dict[str, Any]) -> Programme:
    """Return a programme of these segments."""
    return Programme.from_dict({"name": "T", "segments": list(segments)})


def seg(direction: str = "forward", **fields: Any) -> dict[str, Any]:
    """Return a segment definition with defaults."""
    return {"direction": direction, "duration": 60, "speed": 2.0, **fields}


@pytest.mark.parametrize("key", BUILTIN_KEYS)
def test_golden_timelines(key: str) -> None:
    """Each built-in compiles to its checked-in timeline."""
    timeline = compile_programme(builtin_programme(key), EngineOptions(), CAPS)
    expected = (GOLDEN / f"{key}.txt").read_text().splitlines()
    assert timeline.render() == expected


def test_turns_at_every_direction_change_mount_and_final_turn() -> None:
    """A backward start mounts facing away, a backward end turns to face forward."""
    timeline = compile_programme(
        prog(seg("backward", handrails="one"), seg("forward"), seg("backward")),
        EngineOptions(),
        CAPS,
    )
    kinds = [(p.kind, p.direction.value, p.final) for p in timeline.phases]
    assert kinds == [
        (PhaseKind.SEGMENT, "backward", False),
        (PhaseKind.TURN, "forward", False),
        (PhaseKind.SEGMENT, "forward", False),
        (PhaseKind.TURN, "backward", False),
        (PhaseKind.SEGMENT, "backward", False),
        (PhaseKind.TURN, "forward", True),
    ]
    assert [s.cue for s in timeline.start_cues] == [CueType.MOUNT]
    assert timeline.start_cues[0].data == {"direction": "backward", "handrails": "one"}
    assert timeline.phases[4].lead_cues[0].cue is EventType.TURN_AROUND_SOON
    assert timeline.render()[-1] == "turn to forward (final)"


def test_backward_cap_refused_never_clipped() -> None:
    """A backward speed above the cap is refused with the segment's path."""
    definition = {
        "name": "T",
        "segments": [
            seg(),
            {"repeat": 2, "segments": [seg("backward", speed=4.5)]},
        ],
    }
    with pytest.raises(ProgrammeError) as info:
        compile_programme(Programme.from_dict(definition), EngineOptions(), CAPS)
    assert str(info.value) == (
        "segments[1].segments[0].speed: 4.5 km/h is above the maximum backward speed of 4.0 km/h"
    )
    assert info.value.key == "above_backward_cap"


def test_speed_scale_above_cap_refused() -> None:
    """speed_scale may not push a backward speed above the cap (rule 3)."""
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg("backward", speed=3.8)), EngineOptions(), CAPS, 1.1)
    assert str(info.value) == (
        "segments[0].speed: 4.18 km/h is above the maximum backward speed of 4.0 km/h"
    )


def test_ramp_above_cap_refused() -> None:
    """A backward ramp above the cap is refused at ramp_to.speed."""
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg("backward", ramp_to={"speed": 5.0})), EngineOptions(), CAPS)
    assert info.value.path == "segments[0].ramp_to.speed"


def test_machine_max_lowers_the_cap() -> None:
    """The machine's maximum caps backward speeds too."""
    caps = Capabilities(True, Range(0.5, 3.0, 0.1))
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg("forward", speed=3.5)), EngineOptions(), caps)
    assert str(info.value) == (
        "segments[0].speed: 3.5 km/h is outside this treadmill's speed range of 0.5-3.0 km/h"
    )
    timeline = compile_programme(prog(seg("backward", speed=3.0)), EngineOptions(), caps)
    assert timeline.backward_cap == 3.0


def test_turn_speed_above_machine_refused() -> None:
    """A turn speed the machine cannot do is refused."""
    caps = Capabilities(True, Range(1.5, 10.0, 0.1))
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg()), EngineOptions(), caps)
    assert info.value.path == "options.turn_speed"


def test_incline_outside_machine_refused() -> None:
    """Inclines outside the machine's range are refused, ramps too."""
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg(incline=20)), EngineOptions(), CAPS)
    assert str(info.value) == (
        "segments[0].incline: 20.0 % is outside this treadmill's incline range of 0.0-15.0 %"
    )
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg(ramp_to={"incline": -2})), EngineOptions(), CAPS)
    assert info.value.path == "segments[0].ramp_to.incline"


@pytest.mark.parametrize("scale", [0.4, 1.6])
def test_speed_scale_bounds(scale: float) -> None:
    """speed_scale is bounded."""
    with pytest.raises(ProgrammeError) as info:
        compile_programme(prog(seg()), EngineOptions(), CAPS, scale)
    assert str(info.value) == f"speed_scale: {scale:g} is outside the allowed range of 0.5-1.5"


def test_speed_snapped_to_machine_step() -> None:
    """Speeds snap to the machine's step, and never above the cap when snapping."""
    caps = Capabilities(True, Range(0.5, 10.0, 0.3))
    timeline = compile_programme(prog(seg("backward", speed=4.0)), EngineOptions(), caps)
    assert timeline.intervals[0].speed == 3.8
    assert snap(2.04, None) == 2.0
    assert snap(2.04, Range(0.5, 10, 0.0)) == 2.0


def test_raises_are_staggered() -> None:
    """Speed and incline are never raised in the same step (rule 4); lowering goes together."""
    timeline = compile_programme(
        prog(seg(speed=2.0, incline=1.0), seg(speed=3.0, incline=2.0), seg(speed=2.0, incline=0.0)),
        EngineOptions(),
        CAPS,
    )
    first, second, third = (p.steps for p in timeline.phases)
    assert [(s.offset, s.kind) for s in first] == [(0.0, "speed"), (3.0, "incline")]
    assert [(s.offset, s.kind) for s in second if s.kind != "cue"] == [
        (0.0, "speed"),
        (3.0, "incline"),
    ]
    assert [(s.offset, s.kind) for s in third if s.kind != "cue"] == [
        (0.0, "speed"),
        (0.0, "incline"),
    ]


def test_ramps_split_into_machine_steps() -> None:
    """A ramp becomes machine steps at most one per 5 s; both raising keep 3 s apart."""
    timeline = compile_programme(
        prog(seg(speed=2.0, incline=0.0), seg(speed=2.0, ramp_to={"speed": 3.0, "incline": 3.0})),
        EngineOptions(),
        CAPS,
    )
    steps = timeline.phases[1].steps
    speeds = [s for s in steps if s.kind is StepKind.SPEED]
    inclines = [s for s in steps if s.kind is StepKind.INCLINE]
    assert speeds[-1].value == 3.0
    assert inclines[-1].value == 3.0
    assert len(speeds) == 9  # 6 s apart: room between them for an incline raise
    assert len(inclines) == 6
    for kind in (speeds, inclines):
        offsets = sorted(s.offset for s in kind)
        assert all(b - a >= 5.0 - 1e-6 for a, b in itertools.pairwise(offsets))
    assert all(abs(s.offset - i.offset) >= 3.0 - 1e-6 for s in speeds for i in inclines)


def test_short_ramp_single_step() -> None:
    """A ramp in a short segment is one step halfway, or later to clear a speed raise."""
    timeline = compile_programme(
        prog(seg(), seg(duration=4, speed=2.0, ramp_to={"speed": 2.0, "incline": 1.0})),
        EngineOptions(),
        CAPS,
    )
    ramp = [s for s in timeline.phases[1].steps if s.kind is StepKind.INCLINE]
    assert [(s.offset, s.value) for s in ramp] == [(2.0, 1.0)]
    timeline = compile_programme(
        prog(seg(duration=4, speed=2.0, ramp_to={"speed": 2.0, "incline": 1.0})),
        EngineOptions(),
        CAPS,
    )
    # The belt's start is a speed raise, and the machine's incline is unknown until set.
    ramp = [s for s in timeline.phases[0].steps if s.kind is StepKind.INCLINE]
    assert [(s.offset, s.value) for s in ramp] == [(3.0, 1.0)]


def test_half_squat_knee_warning() -> None:
    """A half-squat segment carries a knee warning: before it, or at the start."""
    squat = seg("backward", duration=45, speed=1.5, posture="half_squat")
    timeline = compile_programme(prog(squat, seg(), squat), EngineOptions(), CAPS)
    assert [s.cue for s in timeline.start_cues] == [CueType.MOUNT, CueType.KNEE_WARNING]
    assert [s.cue for s in timeline.phases[2].lead_cues] == [
        EventType.TURN_AROUND_SOON,
        CueType.KNEE_WARNING,
    ]


def test_forward_half_squat_at_start_no_mount() -> None:
    """A forward first segment needs no mount instruction."""
    timeline = compile_programme(
        prog(seg(duration=30, posture="half_squat")), EngineOptions(), CAPS
    )
    assert [s.cue for s in timeline.start_cues] == [CueType.KNEE_WARNING]


def test_labels() -> None:
    """Labels come from direction, intensity and posture, with translation keys."""
    timeline = compile_programme(
        prog(
            seg(intensity="warmup"),
            seg(speed=7.0),
            seg("backward", speed=4.0),
            seg("backward", intensity="rest"),
            seg(intensity="cooldown"),
        ),
        EngineOptions(),
        CAPS,
    )
    assert [(i.index, i.count, i.label, i.label_key) for i in timeline.intervals] == [
        (1, 5, "Warm-up", "forward_warmup"),
        (2, 5, "Forward jog", "forward_jog"),
        (3, 5, "Backward jog", "backward_jog"),
        (4, 5, "Backward rest", "backward_rest"),
        (5, 5, "Cool-down", "forward_cooldown"),
    ]
    assert set(LABELS) >= {label_key(i.segment) for i in timeline.intervals}


def test_pause_turn_estimates_countdown() -> None:
    """A pause-mode turn includes the restart countdown in its estimate."""
    options = EngineOptions(turn_mode=TurnMode.PAUSE)
    timeline = compile_programme(prog(seg(), seg("backward")), options, CAPS)
    assert timeline.phases[1].estimated_duration == 5 + 2 + 10
    assert timeline.phases[-1].estimated_duration == 5 + 2  # the final turn ends the programme
    assert timeline.estimated_duration == 60 + 17 + 60 + 7


def test_manual_machine_no_snapping() -> None:
    """Without ranges, speeds round to 0.1 and inclines are kept."""
    timeline = compile_programme(prog(seg(speed=2.04, incline=3.0)), EngineOptions(), MANUAL_CAPS)
    assert timeline.intervals[0].speed == 2.0
    assert timeline.intervals[0].incline == 3.0


def test_distance_segment_render() -> None:
    """Distance segments render their distance."""
    timeline = compile_programme(
        prog({"direction": "forward", "distance": 200, "speed": 3.6}), EngineOptions(), CAPS
    )
    assert timeline.render()[0] == "1/1 Forward walk [forward_walk] 200 m"
    assert timeline.phases[0].estimated_duration == pytest.approx(200.0)
