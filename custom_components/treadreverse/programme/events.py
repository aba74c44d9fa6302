"""What the engine tells the layers above (entities, bus, logbook, announcer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ProgrammeStatus(StrEnum):
    """States of the `programme_status` sensor."""

    IDLE = "idle"
    WAITING = "waiting"
    COUNTDOWN = "countdown"
    RUNNING = "running"
    PAUSED = "paused"
    TURNING = "turning"
    COMPLETED = "completed"
    ABORTED = "aborted"


class Direction(StrEnum):
    """States of the `direction` sensor."""

    FORWARD = "forward"
    BACKWARD = "backward"
    TURNING = "turning"
    STOPPED = "stopped"


class EventType(StrEnum):
    """Event types of the `programme_event` entity and the `treadreverse_event` bus event."""

    PROGRAMME_STARTED = "programme_started"
    INTERVAL_STARTED = "interval_started"
    TURN_AROUND_SOON = "turn_around_soon"
    DIRECTION_CHANGED = "direction_changed"
    PROGRAMME_PAUSED = "programme_paused"
    PROGRAMME_RESUMED = "programme_resumed"
    PROGRAMME_COMPLETED = "programme_completed"
    PROGRAMME_ABORTED = "programme_aborted"


PUBLIC_EVENT_TYPES: tuple[str, ...] = tuple(EventType)


class CueType(StrEnum):
    """Finer cue points for the announcer; never shown as entity events."""

    WAITING_FOR_PERSON = "waiting_for_person"  # data: timeout_s
    COUNTDOWN = "countdown"  # data: seconds (the countdown's length)
    COUNTDOWN_TICK = "countdown_tick"  # data: seconds left (3, 2, 1)
    MOUNT = "mount"  # data: direction, handrails
    SLOW_DOWN = "slow_down"  # data: turn_speed, turn_mode
    TURN_NOW = "turn_now"  # data: to (forward/backward), handrails
    SEGMENT_CUE = "segment_cue"  # data: text (the programme's own cue)
    SPEED_CHANGE = "speed_change"  # data: speed, advisory (set it by hand)
    INCLINE_CHANGE = "incline_change"  # data: incline, advisory
    HALFWAY = "halfway"
    KNEE_WARNING = "knee_warning"  # before a half-squat segment
    ADVISORY_MODE = "advisory_mode"  # data: reason (console_change, control_lost)
    COMMAND_FAILED = "command_failed"  # data: command, reason
    STOP_UNREACHABLE = "stop_unreachable"  # "press stop or pull the safety key"
    SAFETY_KEY = "safety_key"
    WAIT_AT_TURN = "wait_at_turn"  # turn fell back to pause-and-wait (rule 2)
    STOP_THE_BELT = "stop_the_belt"  # advisory or manual: the person stops the belt (rule 7)
    START_ON_CONSOLE = "start_on_console"  # no speaker works: the person starts it (rule 9)
    DISTANCE_ESTIMATED = "distance_estimated"  # the distance counter stalled (rule 8)
    SUMMARY = "summary"  # periodic or final; data: distances and times


# Cues that can never be muted (safety rule 2): everything about turns and safety.
SAFETY_CUES: frozenset[str] = frozenset(
    {
        EventType.TURN_AROUND_SOON,
        CueType.SLOW_DOWN,
        CueType.TURN_NOW,
        CueType.MOUNT,
        CueType.COUNTDOWN,
        CueType.COUNTDOWN_TICK,
        CueType.STOP_UNREACHABLE,
        CueType.SAFETY_KEY,
        CueType.WAIT_AT_TURN,
        CueType.STOP_THE_BELT,
        CueType.START_ON_CONSOLE,
        CueType.COMMAND_FAILED,
        CueType.KNEE_WARNING,
        EventType.PROGRAMME_PAUSED,
        EventType.PROGRAMME_ABORTED,
    }
)


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One thing that happened, with the interval's data."""

    type: EventType | CueType
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        """Return whether this is one of the entity/bus event types."""
        return isinstance(self.type, EventType)
