"""Sample engine data for every event and cue type, from the fullest to the emptiest."""

from __future__ import annotations

from typing import Any

from custom_components.treadreverse.cues import TEST_ANNOUNCEMENT, Quantity, Term, Unit, Value
from custom_components.treadreverse.programme.builtins import BUILTIN_KEYS
from custom_components.treadreverse.programme.events import CueType, EventType

# What the engine sends with a summary (programme/accounting.py _summary_data).
SUMMARY_DATA: dict[str, Any] = {
    "distance_m": 1530.4,
    "backward_distance_m": 240.2,
    "backward_time_s": 185.0,
    "forward_distance_m": 1290.2,
    "forward_time_s": 600.0,
}
# The interval data every public event carries (programme/core.py _interval_data).
INTERVAL_DATA: dict[str, Any] = {
    "programme": "first_steps",
    "name": "Backward intervals, first steps",
    "index": 2,
    "count": 9,
    "label": "Backward walk",
    "label_key": "backward_walk",
    "direction": "backward",
    "speed": 2.0,
    "incline": None,
    "ends_at": "2026-11-24T01:00:30+00:00",
}
LABEL_KEYS = tuple(
    f"{direction}_{kind}"
    for direction in ("forward", "backward")
    for kind in ("walk", "jog", "warmup", "rest", "cooldown", "half_squat")
)

SAMPLES: dict[str, list[dict[str, Any]]] = {
    EventType.PROGRAMME_STARTED: [
        {**INTERVAL_DATA, "duration": 1200},
        *({**INTERVAL_DATA, "programme": key} for key in BUILTIN_KEYS),
        {"programme": "my_walk", "name": "My walk"},
        {"name": "First steps"},
        {},
    ],
    EventType.INTERVAL_STARTED: [
        *({**INTERVAL_DATA, "label_key": key, "duration": 60} for key in LABEL_KEYS),
        INTERVAL_DATA,
        {"direction": "backward", "speed": 2.0, "duration": 30, "handrails": "both"},
        {"direction": "backward", "speed": 2.0, "distance": 200, "intensity": "active"},
        {"direction": "backward", "speed": 2.5, "posture": "half_squat", "duration": 45},
        *(
            {"direction": direction, "intensity": intensity, "speed": 3.5}
            for direction in ("forward", "backward")
            for intensity in ("warmup", "cooldown", "rest")
        ),
        {"direction": "forward", "posture": "half_squat", "duration": 40},
        {"direction": "forward", "distance": 500},
        {"direction": "forward"},
        {},
    ],
    EventType.TURN_AROUND_SOON: [
        {"seconds": 5, "to": "backward"},
        {"seconds": 5, "to": "forward"},
        {"seconds": 1},
        {},
    ],
    EventType.DIRECTION_CHANGED: [
        {"direction": "backward"},
        {"to": "forward"},
        {"direction": "turning"},
    ],
    EventType.PROGRAMME_PAUSED: [
        *(
            {"reason": reason}
            for reason in (
                "user",
                "console",
                "connection_lost",
                "safety_key",
                "command_failed",
                "shutdown",
                "no_person",
                "stop_unreachable",
                "console_pause",
                "disconnected",
                "wait_at_turn",
                "no_speaker",
            )
        ),
        {},
    ],
    EventType.PROGRAMME_RESUMED: [{"reason": "user"}, {"reason": "console"}, {}],
    EventType.PROGRAMME_COMPLETED: [
        INTERVAL_DATA,
        SUMMARY_DATA,
        {"backward_distance": 240, "backward_time": 185},
        {"backward_time_s": 185},
        {},
    ],
    EventType.PROGRAMME_ABORTED: [
        *(
            {"reason": reason}
            for reason in (
                "user",
                "console",
                "connection_lost",
                "safety_key",
                "command_failed",
                "shutdown",
                "no_person",
                "stop_unreachable",
                "console_stop",
                "restart",
                "unload",
            )
        ),
        {"reason": "something_new"},
        # Home Assistant cannot move the belt (advisory mode or remote control off).
        *({"reason": reason, "advisory": True} for reason in ("shutdown", "restart", "unload")),
        {"reason": "user", "advisory": True},
        {"reason": "shutdown", "advisory": False},
    ],
    CueType.WAITING_FOR_PERSON: [{"timeout_s": 600}, {}],
    CueType.COUNTDOWN: [{"seconds": 10}, {}],
    CueType.COUNTDOWN_TICK: [{"seconds": 3}, {}],
    CueType.MOUNT: [
        *(
            {"direction": direction, "handrails": handrails}
            for direction in ("forward", "backward")
            for handrails in ("both", "one", "none")
        ),
        {"direction": "backward"},
        {"direction": "forward"},
        {},
    ],
    CueType.SLOW_DOWN: [
        {"turn_speed": 1.0, "turn_mode": "slow"},
        {"turn_mode": "slow"},
        {"turn_speed": 1.0, "turn_mode": "pause"},
        {"turn_speed": 1.0, "turn_mode": "slow", "advisory": True},
        {"turn_mode": "slow", "advisory": True},
        {"turn_mode": "pause", "advisory": True},
        {"turn_speed": 0.0, "turn_mode": "pause", "advisory": True},  # pause-and-wait
    ],
    CueType.TURN_NOW: [
        *({"to": "backward", "handrails": handrails} for handrails in ("both", "one", "none")),
        {"to": "backward"},
        {"to": "forward", "handrails": "both"},
        {},
    ],
    CueType.SEGMENT_CUE: [{"text": "Small steps, toes first."}, {}],
    CueType.SPEED_CHANGE: [{"speed": 2.5}, {"speed": 2.5, "advisory": True}, {}],
    CueType.INCLINE_CHANGE: [{"incline": 3}, {"incline": 3, "advisory": True}],
    CueType.HALFWAY: [{"remaining_s": 300}, {}],
    CueType.KNEE_WARNING: [{}],
    CueType.ADVISORY_MODE: [{"reason": "console_change"}, {"reason": "control_lost"}, {}],
    CueType.COMMAND_FAILED: [
        {"command": "set_speed", "reason": "timeout"},
        {"command": "set_incline"},
        {"command": "start"},
        {"command": "resume"},
        {"command": "request_control"},
    ],
    CueType.STOP_UNREACHABLE: [{}],
    CueType.SAFETY_KEY: [{}],
    CueType.WAIT_AT_TURN: [{"to": "backward"}, {"to": "forward"}, {}],
    CueType.STOP_THE_BELT: [{}],
    CueType.START_ON_CONSOLE: [{}],
    CueType.DISTANCE_ESTIMATED: [{}],
    CueType.SUMMARY: [
        {**SUMMARY_DATA, "final": False},
        {**SUMMARY_DATA, "distance_m": 0.0},
        {"backward_time_s": 185, "distance_m": 0.0, "backward_distance_m": 0.0},
        {"distance_m": 480.0, "backward_distance_m": 0.0, "backward_time_s": 0.0},
        {"elapsed": 754},
        {"elapsed": 0.2},
        {**SUMMARY_DATA, "final": True},
        {"backward_distance": 240, "backward_time": 185, "final": True},
        {"backward_time": 185, "final": True},
        {"final": True},
    ],
    TEST_ANNOUNCEMENT: [{"message": "Hello from the treadmill"}, {}],
}

# A value for every placeholder name used in the cue files.
PLACEHOLDER_SAMPLES: dict[str, Value] = {
    "programme": "First steps",
    "count": 3,
    "text": "Small steps, toes first.",
    "message": "Testing",
    "label": Term("label.backward"),
    "speed": Quantity(2.5, Unit.SPEED),
    "incline": Quantity(3, Unit.INCLINE),
    "distance": Quantity(1530, Unit.DISTANCE),
    "backward_distance": Quantity(240, Unit.DISTANCE),
    "time": Quantity(90, Unit.DURATION),
    "elapsed": Quantity(754, Unit.DURATION),
    "backward_time": Quantity(185, Unit.DURATION),
}
