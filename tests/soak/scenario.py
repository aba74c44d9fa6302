"""Seeded scenarios: each session's options, programme, start and timed actions and faults.

Everything is drawn from random.Random seeded with (seed, session number), so a session can
be replayed alone (SOAK_SEED=... SOAK_FROM=k, scripts/soak 1), and the options from
(seed, session number // OPTIONS_EVERY), so a replayed session has its options too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import random
from typing import Any

from custom_components.treadreverse.programme.builtins import BUILTIN_PROGRAMMES
from custom_components.treadreverse.programme.compiler import Timeline, compile_programme
from custom_components.treadreverse.programme.options import EngineOptions, TurnMode
from custom_components.treadreverse.programme.schema import Programme, ProgrammeError
from custom_components.treadreverse.treadmill.base import Capabilities

from .world import SPEAKERS

MAX_SESSION_S = 1200.0  # 20 virtual minutes
OPTIONS_EVERY = 10  # sessions sharing one set of options
SAVED_NAMES = ("Soak A", "Soak B", "Soak C")  # saved programmes are overwritten, not piled up
WHO = ("person", "automation")

# What may happen during a session, with weights. "who" actions come from a person or an
# automation through a surface drawn when the action runs (scenario text names it).
FAULTS: dict[str, int] = {
    "console_pause": 3,
    "console_stop": 2,
    "console_start": 2,
    "console_speed": 2,
    "console_incline": 1,
    "drop_link": 3,
    "control_lost": 2,
    "safety_key": 1,
    "reject": 3,
    "lose": 2,
    "late": 3,
    "reorder": 1,
    "freeze_distance": 1,
    "reset_distance": 1,
    "garble": 1,
    "speaker": 6,
    "reload": 1,
    "restart": 1,
}
ACTIONS: dict[str, int] = {
    "pause": 4,
    "resume": 5,
    "stop": 2,
    "skip": 3,
    "speed": 4,
    "incline": 3,
    "start": 2,
    "announce": 2,
    "mute": 1,
    "select": 1,
}
OPCODES = ("set_speed", "set_incline", "start", "pause", "stop", "request_control")
SURFACES = {
    "start": ("button", "switch", "action"),
    "resume": ("button", "button_start", "switch", "action"),
    "pause": ("button", "action"),
    "stop": ("button", "switch", "action"),
    "skip": ("button", "action"),
    "speed": ("number", "action"),
    "incline": ("number", "action"),
    "announce": ("action",),
    "mute": ("switch",),
    "select": ("select",),
}


@dataclass
class Session:
    """One soak session: what runs and what happens when."""

    index: int
    options: dict[str, Any]
    programme: dict[str, Any] | str  # an inline definition or a built-in key
    scale: float
    start: str  # "<who> <surface>" of the start
    wait: bool | None  # start_programme's wait_for_person (None: not given)
    steps: list[tuple[float, str]]  # (virtual s from the start, action)
    horizon: float
    timeline: Timeline | None = None
    done: list[str] = field(default_factory=list)  # what ran, when, in what state

    def text(self) -> str:
        """Return the scenario as it was drawn and as it ran."""
        lines = [
            f"session {self.index}: options {self.options}",
            f"  programme {self.programme} scale {self.scale}",
            f"  start: {self.start} wait_for_person={self.wait}; horizon {self.horizon:.0f} s",
            "  drawn: " + ", ".join(f"{at:.1f} {what}" for at, what in self.steps),
            "  ran:",
            *(f"    {line}" for line in self.done),
        ]
        return "\n".join(lines)


def draw_options(seed: str, index: int) -> dict[str, Any]:
    """Return the entry options of a session (shared by OPTIONS_EVERY sessions)."""
    rng = random.Random(f"{seed}:options:{index // OPTIONS_EVERY}")
    if index // OPTIONS_EVERY == 0:
        rng = random.Random(f"{seed}:options:first")
    cap = round(rng.uniform(1.5, 8.0), 1)
    speakers = [s for s in SPEAKERS if rng.random() < 0.7]
    if rng.random() < 0.1:
        speakers = []
    return {
        "speakers": speakers,
        "tts_engine": "tts.test_speech",
        "language": rng.choice(["en", "en", "de", "fr", "es", "nl"]),
        "cue_lead_time": rng.randint(0, 8),
        "turn_mode": rng.choice(["slow", "slow", "pause"]),
        "turn_speed": round(rng.uniform(0.5, min(1.5, cap)), 1),
        "turn_duration": rng.randint(1, 8),
        "max_backward_speed": cap,
        "start_countdown": rng.randint(5, 12),
        "remote_control": rng.random() < 0.85,
        "summary_interval": rng.choice([0, 0, 0, 1]),
    }


def _segment(rng: random.Random, cap: float) -> dict[str, Any]:
    """Draw one segment under the backward cap."""
    direction = rng.choice(["forward", "backward"])
    top = cap if direction == "backward" else 8.0
    seg: dict[str, Any] = {"direction": direction, "speed": round(rng.uniform(0.5, top), 1)}
    if rng.random() < 0.15:
        seg |= {"posture": "half_squat", "duration": rng.randint(10, 60)}
    elif rng.random() < 0.7:
        seg["duration"] = rng.randint(8, 90)
    else:
        seg["distance"] = rng.randint(10, 80)
    if rng.random() < 0.4:
        seg["incline"] = float(rng.randint(0, 8))
    if rng.random() < 0.2:
        seg["ramp_to"] = {"speed": round(rng.uniform(0.5, top), 1)}
    if rng.random() < 0.3:
        seg["cue"] = "Go."
    return seg


def _programme(rng: random.Random, cap: float) -> dict[str, Any] | str:
    """Draw a programme: mostly short inline ones, now and then a built-in."""
    if rng.random() < 0.08:
        return rng.choice(list(BUILTIN_PROGRAMMES))
    items = [_segment(rng, cap) for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.7:  # alternate directions: turns
        first = items[0]["direction"]
        for number, item in enumerate(items):
            item["direction"] = first if number % 2 == 0 else _other(first)
            if item["direction"] == "backward":
                item["speed"] = min(item["speed"], cap)
                if "ramp_to" in item:
                    item["ramp_to"]["speed"] = min(item["ramp_to"]["speed"], cap)
    if rng.random() < 0.25:
        items = [{"repeat": rng.randint(2, 3), "segments": items}]
    return {"name": rng.choice(SAVED_NAMES), "segments": items}


def _other(direction: str) -> str:
    """Return the other direction."""
    return "forward" if direction == "backward" else "backward"


def compile_for(
    programme: dict[str, Any] | str, options: dict[str, Any], caps: Capabilities, scale: float
) -> Timeline:
    """Compile as the integration will (ProgrammeError when it would refuse)."""
    parsed = Programme.from_dict(
        BUILTIN_PROGRAMMES[programme] if isinstance(programme, str) else programme
    )
    return compile_programme(parsed, engine_options(options), caps, scale)


def engine_options(options: dict[str, Any]) -> EngineOptions:
    """Return what the engine makes of the entry options (the integration's own mapping)."""
    return EngineOptions(
        cue_lead_time=float(options["cue_lead_time"]),
        turn_mode=TurnMode(options["turn_mode"]),
        turn_speed=float(options["turn_speed"]),
        turn_duration=float(options["turn_duration"]),
        max_backward_speed=float(options["max_backward_speed"]),
        start_countdown=float(options["start_countdown"]),
        remote_control=bool(options["remote_control"]),
        summary_interval=60.0 * float(options["summary_interval"]),
    )


def _fault(rng: random.Random, speaker_ids: list[str]) -> str:
    """Draw one fault."""
    kind = rng.choices(list(FAULTS), weights=list(FAULTS.values()))[0]
    if kind in ("reject", "lose"):
        kind = f"{kind} {rng.choice(OPCODES)}"
    elif kind == "late":
        kind = f"late {rng.choice(OPCODES)} {rng.choice([0.5, 1.5, 3.5, 6.0])}"
    elif kind == "speaker":
        target = rng.choice(speaker_ids or list(SPEAKERS))
        what = rng.choice(["unavailable", "available", "fail", "ok", "slow", "fast", "busy"])
        if what == "slow":
            what = f"slow {rng.choice([1.0, 2.5, 4.0, 12.0])}"
        elif what == "busy":
            what = f"busy {rng.randint(1, 12)}"
        kind = f"speaker {target} {what}"
    return kind


def _action(rng: random.Random, cap: float, speaker_ids: list[str]) -> str:
    """Draw one timed fault or action."""
    if rng.random() < 0.45:
        return _fault(rng, speaker_ids)
    verb = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
    who = rng.choice(WHO)
    surface = rng.choice(SURFACES[verb])
    if verb == "speed":
        value = rng.uniform(0.5, cap) if rng.random() < 0.7 else rng.uniform(cap, 10.0)
        return f"{who} {surface} speed {round(value, 1)}"
    if verb == "incline":
        return f"{who} {surface} incline {rng.randint(0, 16) / 2}"
    if verb == "mute":
        return f"{who} switch mute {rng.choice(['on', 'off'])}"
    if verb == "select":
        return f"{who} select select {rng.choice(list(BUILTIN_PROGRAMMES))}"
    return f"{who} {surface} {verb}"


def draw_session(seed: str, index: int, caps: Capabilities) -> Session:
    """Draw a whole session; its programme compiles under its options."""
    options = draw_options(seed, index)
    rng = random.Random(f"{seed}:session:{index}")
    cap = float(options["max_backward_speed"])
    for _ in range(50):
        programme = _programme(rng, cap)
        scale = rng.choice([1.0, 1.0, 1.0, 0.8, 1.2, 1.5])
        try:
            timeline = compile_for(programme, options, caps, scale)
        except ProgrammeError:
            continue
        break
    else:  # pragma: no cover - 50 refusals in a row
        programme, scale = "first_steps", 1.0
        timeline = compile_for(programme, options, caps, scale)
    who = "person" if rng.random() < 0.7 else "automation"
    surface = rng.choice(["button", "switch", "action", "action"])
    wait: bool | None = None
    if surface == "action" and rng.random() < 0.3:
        wait = rng.random() < 0.5
    horizon = min(
        MAX_SESSION_S, timeline.estimated_duration * 1.4 + options["start_countdown"] + 90
    )
    steps: list[tuple[float, str]] = []
    if who == "automation" or wait:
        # The person comes to the belt and confirms (or never does: the wait gives up).
        if rng.random() < 0.85:
            at = round(rng.uniform(2, 90), 1)
            steps.append((at, f"person {rng.choice(SURFACES['resume'])} resume"))
        else:
            horizon = MAX_SESSION_S
    speaker_ids = list(options["speakers"])
    steps.extend(
        (round(rng.uniform(1, horizon - 30), 1), _action(rng, cap, speaker_ids))
        for _ in range(rng.choice([0, 2, 4, 6, 8, 12]))
    )
    steps.sort()
    return Session(
        index=index,
        options=options,
        programme=programme,
        scale=scale,
        start=f"{who} {surface}",
        wait=wait,
        steps=steps,
        horizon=horizon,
        timeline=timeline,
    )
