"""Engine options with product.md's names and defaults."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .schema import BACKWARD_SPEED_LIMIT, SPEED_MIN, ProgrammeError

MIN_START_COUNTDOWN = 5.0  # s, rule 9


class TurnMode(StrEnum):
    """What the belt does at a turn."""

    SLOW = "slow"
    PAUSE = "pause"


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How programmes are run; validated on creation."""

    cue_lead_time: float = 5.0  # s
    turn_mode: TurnMode = TurnMode.SLOW
    turn_speed: float = 1.0  # km/h
    turn_duration: float = 5.0  # s
    max_backward_speed: float = 4.0  # km/h
    start_countdown: float = 10.0  # s
    remote_control: bool = True
    summary_interval: float = 0.0  # s, 0 = no periodic spoken summary

    def __post_init__(self) -> None:
        """Refuse options that would make programmes unsafe."""
        checks = (
            ("cue_lead_time", 0.0 <= self.cue_lead_time <= 60.0, "between 0 and 60 s"),
            ("turn_duration", 1.0 <= self.turn_duration <= 60.0, "between 1 and 60 s"),
            (
                "max_backward_speed",
                SPEED_MIN <= self.max_backward_speed <= BACKWARD_SPEED_LIMIT,
                f"between {SPEED_MIN:g} and {BACKWARD_SPEED_LIMIT:g} km/h",
            ),
            (
                "turn_speed",
                SPEED_MIN <= self.turn_speed <= self.max_backward_speed,
                f"between {SPEED_MIN:g} km/h and max_backward_speed",
            ),
            (
                "start_countdown",
                MIN_START_COUNTDOWN <= self.start_countdown <= 60.0,
                f"between {MIN_START_COUNTDOWN:g} and 60 s",
            ),
            ("summary_interval", 0.0 <= self.summary_interval <= 3600.0, "between 0 and 3600 s"),
            ("turn_mode", self.turn_mode in tuple(TurnMode), "slow or pause"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ProgrammeError(
                    f"options.{name}", f"{getattr(self, name)} is not {allowed}", "bad_option"
                )
