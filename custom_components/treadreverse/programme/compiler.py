"""Compile a programme into a timeline of phases and steps (safety rules 1-5 and 8)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from enum import StrEnum
import itertools
import math
from typing import Any

from ..treadmill.base import Capabilities, Range
from .events import CueType, EventType
from .options import EngineOptions, TurnMode
from .schema import (
    MAX_SEGMENTS,
    MAX_TOTAL_DURATION_S,
    SPEED_SCALE_MAX,
    SPEED_SCALE_MIN,
    ErrorKind,
    Handrails,
    Intensity,
    Posture,
    Programme,
    ProgrammeError,
    Segment,
    SegmentDirection,
    fmt,
    half_squat_problem,
)

STAGGER_S = 3.0  # s at least between any speed raise and any incline raise (rule 4)
RAMP_MIN_INTERVAL_S = 5.0  # s: a ramp never asks the machine for more than one step per 5 s
TURN_SLOW_TIMEOUT_S = 15.0  # s: a belt not at turn_speed by then is paused (rule 1)
_EPS = 1e-6

LABELS: dict[str, str] = {
    "forward_walk": "Forward walk",
    "backward_walk": "Backward walk",
    "forward_jog": "Forward jog",
    "backward_jog": "Backward jog",
    "forward_warmup": "Warm-up",
    "backward_warmup": "Backward warm-up",
    "forward_rest": "Rest",
    "backward_rest": "Backward rest",
    "forward_cooldown": "Cool-down",
    "backward_cooldown": "Backward cool-down",
    "forward_half_squat": "Forward half squat",
    "backward_half_squat": "Backward half squat",
}
_JOG_SPEED = {SegmentDirection.FORWARD: 6.5, SegmentDirection.BACKWARD: 4.0}  # km/h


class PhaseKind(StrEnum):
    """A segment of walking or a turn between two."""

    SEGMENT = "segment"
    TURN = "turn"


class StepKind(StrEnum):
    """What a step does."""

    SPEED = "speed"
    INCLINE = "incline"
    CUE = "cue"


@dataclass(frozen=True, slots=True)
class Step:
    """One belt command or cue at an offset from its phase's start."""

    offset: float
    kind: StepKind
    value: float = 0.0
    cue: CueType | EventType | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        """Return a compact text form for golden files and logs."""
        if self.kind is StepKind.CUE:
            extra = "".join(f" {k}={v}" for k, v in sorted(self.data.items()))
            return f"+{self.offset:g} {self.cue}{extra}"
        return f"+{self.offset:g} {self.kind} {self.value:g}"


@dataclass(frozen=True, slots=True)
class Interval:
    """One expanded segment as the `current_interval` sensor shows it."""

    index: int  # 1-based, turns not counted
    count: int
    label: str
    label_key: str
    path: str
    segment: Segment
    speed: float  # scaled and snapped, km/h
    incline: float | None


@dataclass(frozen=True, slots=True)
class Phase:
    """A segment to walk or a turn to make."""

    kind: PhaseKind
    direction: SegmentDirection  # the segment's direction, or the one turned to
    estimated_duration: float
    steps: tuple[Step, ...] = ()
    lead_cues: tuple[Step, ...] = ()  # said cue_lead_time before the phase ends
    interval: Interval | None = None
    duration: float | None = None  # timed segments
    distance: float | None = None  # distance segments, m
    final: bool = False  # the turn to face forward after a backward end
    # Distance segments: the most the segment may last, s (rule 8): its distance at half
    # its planned (scaled) speed. None for timed segments and turns.
    max_duration: float | None = None

    def render(self) -> list[str]:
        """Return compact text lines for golden files."""
        if self.kind is PhaseKind.TURN:
            return [f"turn to {self.direction}{' (final)' if self.final else ''}"]
        if self.interval is None:  # pragma: no cover - segments always carry an interval
            return []
        length = f"{self.duration:g} s" if self.duration is not None else f"{self.distance:g} m"
        head = (
            f"{self.interval.index}/{self.interval.count} {self.interval.label} "
            f"[{self.interval.label_key}] {length}"
        )
        lines = [head, *(f"  {step.render()}" for step in self.steps)]
        lines += [f"  lead{step.render().removeprefix('+0')}" for step in self.lead_cues]
        return lines


@dataclass(frozen=True, slots=True)
class Timeline:
    """A compiled programme: what the engine runs."""

    programme: Programme
    phases: tuple[Phase, ...]
    intervals: tuple[Interval, ...]
    start_cues: tuple[Step, ...]
    turn_speed: float
    backward_cap: float
    speed_scale: float

    @property
    def estimated_duration(self) -> float:
        """Return the planned length in seconds, turns included."""
        return sum(phase.estimated_duration for phase in self.phases)

    def render(self) -> list[str]:
        """Return the whole timeline as compact text lines."""
        lines = [f"start {step.render()}" for step in self.start_cues]
        for phase in self.phases:
            lines += phase.render()
        return lines


def label_key(segment: Segment) -> str:
    """Return the translation key of a segment's label."""
    if segment.posture is Posture.HALF_SQUAT:
        kind = "half_squat"
    elif segment.intensity is not Intensity.ACTIVE:
        kind = segment.intensity.value
    elif segment.speed >= _JOG_SPEED[segment.direction]:
        kind = "jog"
    else:
        kind = "walk"
    return f"{segment.direction.value}_{kind}"


def snap(value: float, rng: Range | None) -> float:
    """Round a value to the machine's step (0.1 where the machine has no range)."""
    if rng is None or rng.step <= 0:
        return round(value, 1)
    steps = round((value - rng.minimum) / rng.step)
    return round(min(max(rng.minimum + steps * rng.step, rng.minimum), rng.maximum), 2)


def backward_cap(options: EngineOptions, capabilities: Capabilities) -> float:
    """Return the highest speed allowed while backward or turning (rule 3)."""
    machine = capabilities.speed.maximum if capabilities.speed else math.inf
    return min(options.max_backward_speed, machine)


class _Compiler:
    """Walks the expanded programme once, building phases."""

    def __init__(
        self,
        programme: Programme,
        options: EngineOptions,
        capabilities: Capabilities,
        speed_scale: float,
    ) -> None:
        """Remember the inputs and derive the caps."""
        self.programme = programme
        self.options = options
        self.caps = capabilities
        self.scale = speed_scale
        self.cap = backward_cap(options, capabilities)
        self.speed = 0.0
        self.incline: float | None = None  # the machine's incline is unknown at the start
        self.turn_speed = options.turn_speed
        self.ramp_end: dict[int, float] = {}  # interval index: scaled, snapped ramp end speed

    def speed_for(
        self, value: float, path: str, direction: SegmentDirection | None, *, scale: bool = True
    ) -> float:
        """Scale, check (rule 3, machine range) and snap a speed; refuse, never clip."""
        speed = round(value * self.scale, 3) if scale else value
        rng = self.caps.speed
        if rng is not None and not rng.minimum - _EPS <= speed <= rng.maximum + _EPS:
            raise ProgrammeError(
                path,
                f"{fmt(speed)} km/h is outside this treadmill's speed range of "
                f"{fmt(rng.minimum)}-{fmt(rng.maximum)} km/h",
                ErrorKind.OUTSIDE_MACHINE_SPEED,
                {"value": fmt(speed), "min": fmt(rng.minimum), "max": fmt(rng.maximum)},
            )
        if direction is not SegmentDirection.FORWARD and speed > self.cap + _EPS:
            raise ProgrammeError(
                path,
                f"{fmt(speed)} km/h is above the maximum backward speed of {fmt(self.cap)} km/h",
                ErrorKind.ABOVE_BACKWARD_CAP,
                {"value": fmt(speed), "cap": fmt(self.cap)},
            )
        snapped = snap(speed, rng)
        if direction is not SegmentDirection.FORWARD and snapped > self.cap + _EPS:
            # Snapping to the machine's step went over the cap: take the step below.
            snapped = round(snapped - (rng.step if rng else 0.1), 2)
        return snapped

    def incline_for(self, value: float, path: str) -> float:
        """Check and snap an incline to the machine's range."""
        rng = self.caps.incline
        if rng is not None and not rng.minimum - _EPS <= value <= rng.maximum + _EPS:
            raise ProgrammeError(
                path,
                f"{fmt(value)} % is outside this treadmill's incline range of "
                f"{fmt(rng.minimum)}-{fmt(rng.maximum)} %",
                ErrorKind.OUTSIDE_MACHINE_INCLINE,
                {"value": fmt(value), "min": fmt(rng.minimum), "max": fmt(rng.maximum)},
            )
        return snap(value, rng)

    def run(self) -> Timeline:
        """Build the timeline."""
        if not SPEED_SCALE_MIN <= self.scale <= SPEED_SCALE_MAX:
            raise ProgrammeError(
                "speed_scale",
                f"{self.scale:g} is outside the allowed range of "
                f"{SPEED_SCALE_MIN:g}-{SPEED_SCALE_MAX:g}",
                ErrorKind.OUT_OF_RANGE_UNITLESS,
                {
                    "value": f"{self.scale:g}",
                    "min": f"{SPEED_SCALE_MIN:g}",
                    "max": f"{SPEED_SCALE_MAX:g}",
                },
            )
        turn_speed = self.speed_for(
            self.options.turn_speed, "options.turn_speed", None, scale=False
        )
        self.turn_speed = turn_speed
        expanded = self.programme.expanded()
        if not expanded or len(expanded) > MAX_SEGMENTS:  # a model built without the schema
            raise ProgrammeError(
                "segments",
                f"{len(expanded)} segments once repeats are expanded, 1-{MAX_SEGMENTS} allowed",
                ErrorKind.TOO_MANY_SEGMENTS,
                {"count": len(expanded), "max": MAX_SEGMENTS},
            )
        intervals = [self.interval(i, len(expanded), s, p) for i, (s, p) in enumerate(expanded)]
        phases: list[Phase] = []
        drafts: dict[int, _Draft] = {}
        previous: SegmentDirection | None = None
        for interval in intervals:
            direction = interval.segment.direction
            if previous is not None and direction is not previous:
                phases.append(self.turn(direction))
            draft = self.segment(interval, after_turn=bool(phases) and previous != direction)
            drafts[len(phases)] = draft
            phases.append(
                Phase(
                    PhaseKind.SEGMENT,
                    direction,
                    draft.length,
                    interval=interval,
                    duration=interval.segment.duration,
                    distance=interval.segment.distance,
                    max_duration=(
                        None if interval.segment.duration is not None else 2 * draft.length
                    ),
                )
            )
            previous = direction
        if previous is SegmentDirection.BACKWARD:
            phases.append(self.turn(SegmentDirection.FORWARD, final=True))
        self.check_lead_ins(phases)
        self.check_bounds(phases)
        phases = self.place_steps(phases, drafts)
        phases = _add_lead_cues(phases)
        phases = _add_halfway(phases)
        return Timeline(
            programme=self.programme,
            phases=tuple(phases),
            intervals=tuple(intervals),
            start_cues=_start_cues(intervals[0]),
            turn_speed=turn_speed,
            backward_cap=self.cap,
            speed_scale=self.scale,
        )

    def interval(self, index: int, count: int, segment: Segment, path: str) -> Interval:
        """Check a segment against the options and machine and describe it."""
        if segment.posture is Posture.HALF_SQUAT and (
            problem := half_squat_problem(segment.duration, segment.distance)
        ):  # a model built without the schema (rule 5)
            raise ProgrammeError(
                f"{path}.{problem.path}", problem.reason, problem.key, problem.placeholders
            )
        speed = self.speed_for(segment.speed, f"{path}.speed", segment.direction)
        if segment.ramp_to and segment.ramp_to.speed is not None:
            self.ramp_end[index + 1] = self.speed_for(
                segment.ramp_to.speed, f"{path}.ramp_to.speed", segment.direction
            )
        incline = None
        if segment.incline is not None:
            incline = self.incline_for(segment.incline, f"{path}.incline")
        if segment.ramp_to and segment.ramp_to.incline is not None:
            self.incline_for(segment.ramp_to.incline, f"{path}.ramp_to.incline")
        key = label_key(segment)
        return Interval(index + 1, count, LABELS[key], key, path, segment, speed, incline)

    def speeds(self, interval: Interval) -> tuple[float, float]:
        """Return a segment's scaled, snapped speed at its start and at its end."""
        return interval.speed, self.ramp_end.get(interval.index, interval.speed)

    def length(self, interval: Interval) -> float:
        """Return how long a segment is planned to last: a distance at its mean scaled speed."""
        segment = interval.segment
        if segment.duration is not None:
            return segment.duration
        return float(segment.distance or 0.0) / (sum(self.speeds(interval)) / 2 / 3.6)

    def shortest(self, interval: Interval) -> float:
        """Return the least a segment can last: a distance at its fastest scaled speed."""
        segment = interval.segment
        if segment.duration is not None:
            return segment.duration
        return float(segment.distance or 0.0) / (max(self.speeds(interval)) / 3.6)

    def check_lead_ins(self, phases: list[Phase]) -> None:
        """Refuse a segment before a turn too short for the turn cue's lead-in (rule 2).

        This covers the final turn to face forward too; the first segment of a
        backward-first programme has its mount instruction before the countdown instead.
        """
        lead = self.options.cue_lead_time
        for phase, following in itertools.pairwise(phases):
            if phase.interval is None or following.kind is not PhaseKind.TURN:
                continue
            shortest = self.shortest(phase.interval)
            if shortest < lead - _EPS:
                raise ProgrammeError(
                    phase.interval.path,
                    f"lasts {fmt(round(shortest, 2))} s, less than the {fmt(lead)} s the turn "
                    "cue needs before the turn that follows it",
                    ErrorKind.TOO_SHORT_FOR_TURN_CUE,
                    {"duration": fmt(round(shortest, 2)), "lead": fmt(lead)},
                )

    def check_bounds(self, phases: list[Phase]) -> None:
        """Refuse a programme that may last more than 4 hours (rule 8).

        Each turn counts at turn_duration plus its timeout (and, in pause mode, the restart
        countdown after it). A distance segment counts at its max_duration, its distance
        at half its scaled speed, not at its planned speed: the engine lets it run that long
        when the belt covers the distance slowly, and rule 8 bounds how long a programme
        may *last*, like a turn counted at its timeout rather than at its estimate.
        """
        turn = self.options.turn_duration + TURN_SLOW_TIMEOUT_S
        restart = self.options.start_countdown if self.options.turn_mode is TurnMode.PAUSE else 0.0
        total = 0.0
        for phase in phases:
            if phase.kind is PhaseKind.TURN:
                total += turn + (0.0 if phase.final else restart)
            else:
                total += phase.max_duration or phase.estimated_duration
        if total > MAX_TOTAL_DURATION_S + _EPS:
            raise ProgrammeError(
                "segments",
                f"may last {total / 3600:.1f} h (speed_scale {self.scale:g}, each turn at "
                f"{turn + restart:g} s, distance segments at half their speed), at most "
                f"{MAX_TOTAL_DURATION_S // 3600} h",
                # The message names the longest it may last; the reason (logs) says why.
                ErrorKind.TOO_LONG_PROGRAMME,
                {"hours": f"{total / 3600:.1f}", "max_hours": MAX_TOTAL_DURATION_S // 3600},
            )

    def place_steps(self, phases: list[Phase], drafts: dict[int, _Draft]) -> list[Phase]:
        """Give each segment its steps, incline raises STAGGER_S from every speed raise.

        Rule 4 holds across phases too: phases are laid end to end with each turn at the
        least it can last (turn_duration), so a raise on either side of a turn, or of a
        segment boundary, keeps its distance from the raises of the other side.
        """
        starts: list[float] = []
        at = 0.0
        for phase in phases:
            starts.append(at)
            at += phase.estimated_duration if phase.kind is PhaseKind.SEGMENT else 0.0
            at += self.options.turn_duration if phase.kind is PhaseKind.TURN else 0.0
        raises = [starts[i] + offset for i, draft in drafts.items() for offset in draft.raises]
        out = list(phases)
        for index, draft in drafts.items():
            begin, end = starts[index] - STAGGER_S, starts[index] + draft.length + STAGGER_S
            near = raises[bisect.bisect_left(raises, begin) : bisect.bisect_right(raises, end)]
            inclines = draft.place([r - starts[index] for r in near])
            steps = sorted(
                [*draft.steps, *inclines], key=lambda s: (s.offset, s.kind is StepKind.INCLINE)
            )
            out[index] = replace(phases[index], steps=tuple(steps))
        return out

    def turn(self, to: SegmentDirection, *, final: bool = False) -> Phase:
        """Describe a turn; its timing is measured at run time."""
        self.speed = min(self.speed, self.turn_speed)
        estimate = self.options.turn_duration + 2.0
        if self.options.turn_mode is TurnMode.PAUSE and not final:
            estimate += self.options.start_countdown  # the belt restarts after a pause
        return Phase(PhaseKind.TURN, to, estimate, final=final)

    def segment(self, interval: Interval, *, after_turn: bool) -> _Draft:
        """Describe a segment's cue and speed steps; its incline steps are placed later."""
        segment = interval.segment
        length = self.length(interval)
        first = interval.index == 1
        steps: list[Step] = []
        raises: list[float] = []
        if segment.cue:
            steps.append(
                Step(0.0, StepKind.CUE, cue=CueType.SEGMENT_CUE, data={"text": segment.cue})
            )
        if first or after_turn or abs(interval.speed - self.speed) > _EPS:
            steps.append(Step(0.0, StepKind.SPEED, interval.speed))
            if first or after_turn or interval.speed > self.speed + _EPS:
                raises.append(0.0)  # the belt starts, restarts after a turn, or speeds up
        entry = self.incline
        incline = interval.incline if interval.incline is not None else entry
        initial: tuple[float, float] | None = None
        if interval.incline is not None and (entry is None or abs(interval.incline - entry) > _EPS):
            # After a turn the incline follows the speed (rule 1); raises keep STAGGER_S
            # from every speed raise when they are placed.
            initial = (min(STAGGER_S, length / 2) if after_turn else 0.0, interval.incline)
        ramp = segment.ramp_to
        ramp_end = None
        if ramp is not None and ramp.incline is not None:
            ramp_end = self.incline_for(ramp.incline, "")
        self.incline = ramp_end if ramp_end is not None else incline
        rising_incline = (initial is not None and _rising(entry, initial[1])) or (
            ramp_end is not None and _rising(incline, ramp_end)
        )
        start = interval.speed
        self.speed = start
        if ramp is not None and ramp.speed is not None:
            end = self.speed_for(ramp.speed, "", segment.direction)
            # With an incline raise in the segment, speed ramp steps keep room between them
            # for incline steps STAGGER_S from both neighbours (rule 4).
            spacing = 2 * STAGGER_S if rising_incline and end > start else RAMP_MIN_INTERVAL_S
            for step in _ramp(StepKind.SPEED, start, end, length, self.caps.speed, spacing=spacing):
                if step.value > self.speed + _EPS:
                    raises.append(step.offset)
                self.speed = step.value
                steps.append(step)
        return _Draft(
            interval,
            length,
            steps,
            raises,
            entry,
            initial,
            incline,
            ramp_end,
            self.caps.incline,
        )


@dataclass(frozen=True, slots=True)
class _Draft:
    """A segment whose incline steps still need placing around every speed raise."""

    interval: Interval
    length: float  # s: its duration, or its distance at its mean scaled speed
    steps: list[Step]  # cues and speed steps
    raises: list[float]  # offsets of its speed raises
    entry: float | None  # the incline before it; None while the machine's is unknown
    initial: tuple[float, float] | None  # (earliest offset, incline) of its first step
    ramp_start: float | None  # the incline its ramp starts from (None: no incline yet)
    ramp_end: float | None  # ramp_to.incline, snapped
    rng: Range | None

    def ramp_counts(self) -> int:
        """Return how many incline ramp steps the ramp would like (0 without a ramp)."""
        if self.ramp_end is None:
            return 0
        return len(self.ramp_steps(None))

    def ramp_steps(self, count: int | None) -> list[Step]:
        """Return the incline ramp's steps, `count` of them (None: as many as it likes)."""
        assert self.ramp_end is not None
        return _ramp(
            StepKind.INCLINE,
            self.ramp_start or 0.0,
            self.ramp_end,
            self.length,
            self.rng,
            spacing=RAMP_MIN_INTERVAL_S,
            count=count,
        )

    def place(self, raises: list[float]) -> list[Step]:
        """Place the incline steps STAGGER_S from every speed raise (relative offsets).

        Raises may come from neighbouring phases (negative offsets, or offsets at or after
        this segment's end). A ramp takes fewer, larger steps when its steps do not fit;
        a segment where even one step does not fit is refused (rule 4).
        """
        count = self.ramp_counts()
        while True:
            for tight in (False, True):
                placed, steps = self.try_place(raises, count, tight=tight)
                if steps is not None:
                    return steps
            if count <= 1:
                raise ProgrammeError(
                    self.interval.path,
                    f"is too short to raise the speed and the incline {fmt(STAGGER_S)} s "
                    "apart (rule 4)",
                    ErrorKind.TOO_SHORT_FOR_STAGGER,
                    {"stagger": fmt(STAGGER_S)},
                )
            count = max(1, min(count - 1, placed))

    def try_place(
        self, raises: list[float], count: int, *, tight: bool
    ) -> tuple[int, list[Step] | None]:
        """Place greedily, each step as early as allowed; return the count placed."""
        wanted: list[tuple[float, float, bool]] = []  # earliest offset, value, ramp step
        if self.initial is not None:
            wanted.append((*self.initial, False))
        if self.ramp_end is not None and count:
            wanted += [
                (0.0 if tight else step.offset, step.value, True) for step in self.ramp_steps(count)
            ]
        steps: list[Step] = []
        incline = self.entry
        after = 0.0  # no step before the previous one
        ramp_after = -math.inf  # ramp steps RAMP_MIN_INTERVAL_S apart
        ramps = 0
        for earliest, value, ramp in wanted:
            offset = round(max(earliest, after, ramp_after if ramp else 0.0), 3)
            if _rising(incline, value):
                offset = _clear_of(offset, raises)
            if offset >= self.length - _EPS:
                return ramps, None
            steps.append(Step(offset, StepKind.INCLINE, value))
            incline, after = value, offset
            if ramp:
                ramps += 1
                ramp_after = offset + RAMP_MIN_INTERVAL_S
        return ramps, steps


def _rising(before: float | None, value: float) -> bool:
    """Return whether an incline step may raise it (an unknown incline may be lower)."""
    return before is None or value > before + _EPS


def _up(value: float) -> float:
    """Round an offset up to the millisecond, so a stagger is never rounded short."""
    return math.ceil(value * 1000 - 1e-6) / 1000


def _clear_of(offset: float, raises: list[float]) -> float:
    """Return the earliest offset from `offset` on at least STAGGER_S from every raise."""
    while True:
        index = bisect.bisect_right(raises, offset - STAGGER_S + _EPS)
        if index == len(raises) or raises[index] >= offset + STAGGER_S - _EPS:
            return offset
        offset = _up(raises[index] + STAGGER_S)


def _ramp(
    kind: StepKind,
    start: float,
    end: float,
    duration: float,
    rng: Range | None,
    *,
    spacing: float,
    count: int | None = None,
) -> list[Step]:
    """Return evenly spaced machine steps from start to end within the duration.

    Steps are at least `spacing` apart and from the segment's start where the segment
    is long enough (a short one gets one step halfway), and at most one per machine step.
    """
    if abs(end - start) < _EPS:
        return []
    unit = rng.step if rng is not None and rng.step > 0 else 0.1
    if count is None:
        most = math.floor(duration / spacing + _EPS) - 1
        count = max(1, min(math.ceil(abs(end - start) / unit - _EPS), most))
    return [
        Step(
            round(duration * k / (count + 1), 3),
            kind,
            snap(start + (end - start) * k / count, rng),
        )
        for k in range(1, count + 1)
    ]


def _add_lead_cues(phases: list[Phase]) -> list[Phase]:
    """Attach turn-soon and knee-warning cues to the segment before they apply."""
    out = list(phases)
    for index, phase in enumerate(phases):
        if phase.kind is not PhaseKind.SEGMENT:
            continue
        cues: list[Step] = []
        following = phases[index + 1 : index + 3]
        if following and following[0].kind is PhaseKind.TURN:
            data = {"to": following[0].direction.value}
            cues.append(Step(0.0, StepKind.CUE, cue=EventType.TURN_AROUND_SOON, data=data))
        upcoming = next((p for p in following if p.kind is PhaseKind.SEGMENT), None)
        if (
            upcoming
            and upcoming.interval
            and upcoming.interval.segment.posture is Posture.HALF_SQUAT
        ):
            cues.append(Step(0.0, StepKind.CUE, cue=CueType.KNEE_WARNING))
        out[index] = replace(phase, lead_cues=tuple(cues))
    return out


def _add_halfway(phases: list[Phase]) -> list[Phase]:
    """Put the halfway cue into the segment where half the planned time has passed."""
    half = sum(phase.estimated_duration for phase in phases) / 2
    elapsed = 0.0
    for index, phase in enumerate(phases):
        if phase.kind is PhaseKind.SEGMENT and elapsed + phase.estimated_duration >= half:
            cue = Step(round(half - elapsed, 3), StepKind.CUE, cue=CueType.HALFWAY)
            steps = sorted([*phase.steps, cue], key=lambda s: s.offset)
            phases[index] = replace(phase, steps=tuple(steps))
            break
        elapsed += phase.estimated_duration
    return phases


def _start_cues(first: Interval) -> tuple[Step, ...]:
    """Return the cues said as the countdown begins (mount, knee warning)."""
    cues: list[Step] = []
    segment = first.segment
    if segment.direction is SegmentDirection.BACKWARD:
        data = {
            "direction": segment.direction.value,
            "handrails": (segment.handrails or Handrails.BOTH).value,
        }
        cues.append(Step(0.0, StepKind.CUE, cue=CueType.MOUNT, data=data))
    if segment.posture is Posture.HALF_SQUAT:
        cues.append(Step(0.0, StepKind.CUE, cue=CueType.KNEE_WARNING))
    return tuple(cues)


def compile_programme(
    programme: Programme,
    options: EngineOptions,
    capabilities: Capabilities,
    speed_scale: float = 1.0,
) -> Timeline:
    """Compile a programme for this machine and these options; raise ProgrammeError."""
    return _Compiler(programme, options, capabilities, speed_scale).run()


def interval_data(timeline: Timeline, interval: Interval, key: str | None) -> dict[str, Any]:
    """Return the data every public event of an interval carries (the engine adds ends_at)."""
    return {
        "programme": key,
        "name": timeline.programme.name,
        "index": interval.index,
        "count": interval.count,
        "label": interval.label,
        "label_key": interval.label_key,
        "direction": interval.segment.direction.value,
        "speed": interval.speed,
        "incline": interval.incline,
    }
