"""The record of one session: what was planned and what happened."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class SessionOutcome(StrEnum):
    """How a session ended."""

    COMPLETED = "completed"
    ABORTED = "aborted"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SegmentActual:
    """One expanded segment: planned against actual."""

    index: int  # 1-based
    label_key: str
    direction: str
    planned_duration_s: float | None
    planned_distance_m: float | None
    planned_speed: float  # km/h, scaled and snapped
    actual_duration_s: float
    actual_distance_m: float
    average_speed: float | None  # km/h, None when no time was spent
    skipped: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentActual:
        """Build from the stored form."""
        return cls(**data)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session as stored and as shown by `get_sessions`."""

    id: str
    start: str  # ISO 8601 UTC
    end: str | None  # ISO 8601 UTC; None while running
    programme_key: str | None
    programme_name: str
    segments: tuple[SegmentActual, ...]
    forward_distance_m: float
    forward_time_s: float
    backward_distance_m: float
    backward_time_s: float
    total_distance_m: float
    outcome: SessionOutcome | None  # None while running
    reason: str | None = None
    advisory: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        out = asdict(self)
        out["segments"] = [asdict(segment) for segment in self.segments]
        out["outcome"] = self.outcome.value if self.outcome else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionRecord:
        """Build from the stored form."""
        values = dict(data)
        values["segments"] = tuple(SegmentActual.from_dict(s) for s in data["segments"])
        values["outcome"] = SessionOutcome(data["outcome"]) if data["outcome"] else None
        return cls(**values)


def cut_off_session(stored: dict[str, Any], *, now: str, reason: str) -> dict[str, Any]:
    """Return a running session that was cut off (a crash, a restart), as it is recorded.

    `stored` is its last checkpoint: what was walked until then, with the checkpoint's time
    as `end`. A checkpoint without one (older releases stored only the start) ends `now`.
    """
    return {
        **stored,
        "end": stored.get("end") or now,
        "outcome": SessionOutcome.ABORTED.value,
        "reason": reason,
    }
