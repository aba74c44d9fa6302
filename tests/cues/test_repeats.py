"""The coach does not repeat a speed or incline the person has just heard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from custom_components.treadreverse.cues import RepeatFilter
from custom_components.treadreverse.programme.events import CueType, EventType

START = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def run(events: list[tuple[float, str, dict[str, Any]]]) -> list[bool]:
    """Feed (seconds, kind, data) events to a new filter; return what it allows."""
    repeats = RepeatFilter()
    return [repeats.allows(kind, data, START + timedelta(seconds=t)) for t, kind, data in events]


def test_speed_said_by_the_interval_is_not_repeated() -> None:
    assert run(
        [
            (0, EventType.INTERVAL_STARTED, {"speed": 2.0, "incline": 3.0}),
            (0, CueType.SPEED_CHANGE, {"speed": 2.0, "advisory": False}),
            (5, CueType.INCLINE_CHANGE, {"incline": 3.0, "advisory": False}),
            (6, CueType.INCLINE_CHANGE, {"incline": 3.0, "advisory": False}),
            (60, CueType.INCLINE_CHANGE, {"incline": 4.0, "advisory": False}),
        ]
    ) == [True, False, True, False, True]


def test_turn_speed_said_by_the_slow_down_cue_is_not_repeated() -> None:
    assert run(
        [
            (0, CueType.SLOW_DOWN, {"turn_speed": 1.0, "turn_mode": "slow"}),
            (0, CueType.SPEED_CHANGE, {"speed": 1.0}),
            (30, CueType.SLOW_DOWN, {"turn_speed": 1.0, "turn_mode": "pause"}),
            (30, CueType.SPEED_CHANGE, {"speed": 1.0}),
        ]
    ) == [True, False, True, False]


def test_a_ramp_is_said_at_most_every_twenty_seconds() -> None:
    steps = [(t, CueType.SPEED_CHANGE, {"speed": 4.0 - t / 10}) for t in range(0, 50, 5)]
    assert run(steps) == [True, False, False, False, True, False, False, False, True, False]


def test_advisory_instructions_are_always_said() -> None:
    assert run(
        [
            (0, EventType.INTERVAL_STARTED, {"speed": 2.0}),
            (0, CueType.SPEED_CHANGE, {"speed": 2.0, "advisory": True}),
            (1, CueType.SPEED_CHANGE, {"speed": 2.5, "advisory": True}),
            (2, CueType.INCLINE_CHANGE, {"incline": 1, "advisory": True}),
        ]
    ) == [True, True, True, True]


def test_other_events_and_odd_data_pass() -> None:
    assert run(
        [
            (0, CueType.TURN_NOW, {"to": "backward"}),
            (0, CueType.SPEED_CHANGE, {}),
            (0, CueType.SPEED_CHANGE, {"speed": 3.0}),
            (1, EventType.INTERVAL_STARTED, {}),
            (2, CueType.SPEED_CHANGE, {"speed": 3.0}),
        ]
    ) == [True, True, True, True, False]


def test_direction_change_after_its_turn_cue_is_not_repeated() -> None:
    assert run(
        [
            (0, CueType.TURN_NOW, {"to": "backward", "handrails": "both"}),
            (5, EventType.DIRECTION_CHANGED, {"previous": "turning", "to": "backward"}),
            (40, CueType.WAIT_AT_TURN, {"to": "forward"}),
            (90, EventType.DIRECTION_CHANGED, {"previous": "turning", "to": "forward"}),
            (200, EventType.DIRECTION_CHANGED, {"previous": "turning", "to": "backward"}),
            (300, CueType.TURN_NOW, {"to": "forward"}),
            (305, EventType.DIRECTION_CHANGED, {"to": "backward"}),
        ]
    ) == [True, False, True, False, True, True, True]


def test_an_instruction_is_not_given_twice() -> None:
    assert run(
        [
            (0, CueType.SLOW_DOWN, {"turn_speed": 1.0, "turn_mode": "slow", "advisory": True}),
            (0, CueType.SPEED_CHANGE, {"speed": 1.0, "advisory": True}),
            (10, CueType.SPEED_CHANGE, {"speed": 2.0, "advisory": True}),
            (11, CueType.SPEED_CHANGE, {"speed": 2.0, "advisory": True}),
            (12, CueType.SPEED_CHANGE, {"speed": 2.0, "advisory": False}),
        ]
    ) == [True, False, True, False, False]


def test_a_new_programme_starts_afresh() -> None:
    assert run(
        [
            (0, CueType.SPEED_CHANGE, {"speed": 2.0}),
            (1, EventType.PROGRAMME_STARTED, {}),
            (2, CueType.SPEED_CHANGE, {"speed": 2.0}),
        ]
    ) == [True, True, True]
