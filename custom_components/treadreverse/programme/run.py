"""The engine's state room: what one run holds while it lasts, and what it shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .compiler import Phase, Timeline
from .events import Direction, EngineEvent, ProgrammeStatus
from .interlock import Origin
from .session import SegmentActual


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """Everything the entities show, at one moment."""

    status: ProgrammeStatus
    direction: Direction
    advisory: bool
    programme_key: str | None = None
    programme_name: str | None = None
    interval_index: int | None = None
    interval_count: int | None = None
    interval_label: str | None = None
    interval_label_key: str | None = None
    interval_ends_at: datetime | None = None
    programme_ends_at: datetime | None = None
    progress: float = 0.0
    distance_m: float = 0.0
    backward_distance_m: float = 0.0
    backward_time_s: float = 0.0
    forward_distance_m: float = 0.0
    forward_time_s: float = 0.0
    target_speed: float | None = None
    target_incline: float | None = None


@dataclass(slots=True)
class _SegmentMeter:
    """Running totals of the segment being walked."""

    time_s: float = 0.0
    distance_m: float = 0.0
    started: bool = False


@dataclass(slots=True)
class _Run:
    """Mutable state of the programme being run."""

    timeline: Timeline
    key: str | None
    session_id: str
    started_at: datetime
    phase_index: int = 0
    phase_start: datetime | None = None  # None until the phase is entered
    elapsed: float = 0.0  # s into the phase when paused
    done_steps: set[int] = field(default_factory=set)
    lead_said: bool = False
    belt_moving: bool = False
    target_speed: float = 0.0
    target_incline: float | None = None
    turn_slowed: bool = False
    speed_raised_at: datetime | None = None
    incline_raised_at: datetime | None = None
    turn_samples: list[float] = field(default_factory=list)
    waiting_at_turn: bool = False
    phase_distance: float = 0.0
    last_distance: float | None = None
    accrued_at: datetime | None = None
    distance: dict[str, float] = field(default_factory=dict)
    time: dict[str, float] = field(default_factory=dict)
    meter: _SegmentMeter = field(default_factory=_SegmentMeter)
    segments: list[SegmentActual] = field(default_factory=list)
    origin: Origin = Origin.PERSON  # who started it: the countdown's start carries it
    wait_cue_pending: bool = False  # a pause-and-wait turn is told once the belt is at rest
    resume_waits: bool = False  # an automation's resume waits for the person (rule 9)
    distance_moved_at: datetime | None = None  # when the measured distance last advanced
    distance_stalled: bool = False  # rule 8: this segment's distance is estimated
    stall_said: bool = False
    start_cues_said: bool = False
    lead_said_at: datetime | None = None
    end_held_until: datetime | None = None  # a measured segment waits for its turn cue
    start_carried_speed: bool = False  # our start set the speed: no need to resend it
    turn_cue: EngineEvent | None = None  # the turn cue said for the coming turn
    turn_cue_heard: bool = False  # a working speaker accepted it (rule 2)
    receipt_wait_since: datetime | None = None  # the turn waits for the cue's receipt
    receipt_missed: bool = False  # it never came: this turn falls back to pause-and-wait
    deck_wait_since: datetime | None = None  # the turn waits for our incline to settle
    deck_level: float | None = None  # the highest incline read meanwhile
    deck_rose_at: datetime | None = None  # when that reading last rose

    @property
    def phase(self) -> Phase:
        """Return the current phase."""
        return self.timeline.phases[self.phase_index]
