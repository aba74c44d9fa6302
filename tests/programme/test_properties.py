"""Hypothesis properties: safety rules 1-11 on the command stream and the belt."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, event as note_event, given, settings, strategies as st
import pytest

from custom_components.treadreverse.programme.compiler import compile_programme
from custom_components.treadreverse.programme.engine import TURN_SPEED_TOLERANCE, Engine
from custom_components.treadreverse.programme.events import (
    CueType,
    EngineEvent,
    EventType,
    ProgrammeStatus,
)
from custom_components.treadreverse.programme.options import EngineOptions, TurnMode
from custom_components.treadreverse.programme.schema import Programme, ProgrammeError
from custom_components.treadreverse.programme.session import SessionRecord
from custom_components.treadreverse.treadmill.base import CommandError, CommandFailure

from .fake import CAPS, MANUAL_CAPS, Command
from .rig import Rig

FAULTS = (
    "console_pause",
    "drop_link",
    "reconnect",
    "console_speed",
    "control_lost",
    "safety_key",
    "command_fail",
    "pause",
    "resume",
    "skip",
    "stop",
    "console_start",
    "speaker_off",
    "speaker_on",
)
MOTION = {"start", "set_speed", "set_incline"}
# The engine accepts a measured speed within the FTMS resolution of turn_speed, and the
# fake reports speeds rounded to 0.01 km/h: the true belt may be this much above.
MEASURED = TURN_SPEED_TOLERANCE + 0.006
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def segments(draw: st.DrawFn, cap: float) -> dict[str, Any]:
    """Draw one valid segment under the backward cap."""
    direction = draw(st.sampled_from(["forward", "backward"]))
    top = cap if direction == "backward" else 8.0
    speed = draw(st.floats(0.5, top).map(lambda v: round(v, 1)))
    squat = draw(st.booleans()) and draw(st.booleans())
    seg: dict[str, Any] = {"direction": direction, "speed": speed}
    if squat:
        seg |= {"posture": "half_squat", "duration": draw(st.integers(1, 60))}
    elif draw(st.booleans()):
        seg["duration"] = draw(st.integers(1, 40))
    else:
        seg["distance"] = draw(st.integers(5, 40))
    if draw(st.booleans()):
        seg["incline"] = float(draw(st.integers(0, 8)))
    if draw(st.booleans()):
        ramp: dict[str, float] = {}
        if draw(st.booleans()):
            ramp["speed"] = draw(st.floats(0.5, top).map(lambda v: round(v, 1)))
        if draw(st.booleans()):
            ramp["incline"] = float(draw(st.integers(0, 8)))
        seg["ramp_to"] = ramp
    if draw(st.booleans()):
        seg["cue"] = "Go."
    return seg


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Draw options, a programme, a machine and timed faults."""
    cap = draw(st.floats(1.5, 8.0).map(lambda v: round(v, 1)))
    options = EngineOptions(
        cue_lead_time=draw(st.integers(0, 8)),
        turn_mode=draw(st.sampled_from(list(TurnMode))),
        turn_speed=draw(st.floats(0.5, min(1.5, cap)).map(lambda v: round(v, 1))),
        turn_duration=draw(st.integers(1, 8)),
        max_backward_speed=cap,
        start_countdown=draw(st.integers(5, 12)),
        remote_control=draw(st.integers(0, 5)) > 0,
        summary_interval=draw(st.sampled_from([0, 0, 45])),
    )
    items: list[Any] = draw(st.lists(segments(cap), min_size=2, max_size=4))
    if draw(st.sampled_from(["alternate", "alternate", "as drawn"])) == "alternate":
        first = items[0]["direction"]
        other = "forward" if first == "backward" else "backward"
        for index, item in enumerate(items):
            item["direction"] = first if index % 2 == 0 else other
            if item["direction"] == "backward":
                item["speed"] = min(item["speed"], cap)
                if "speed" in item.get("ramp_to", {}):
                    item["ramp_to"]["speed"] = min(item["ramp_to"]["speed"], cap)
    if draw(st.booleans()):
        items = [{"repeat": draw(st.integers(1, 2)), "segments": items}]
    faults = draw(
        st.lists(
            st.tuples(st.floats(0, 150).map(lambda v: round(v, 2)), st.sampled_from(FAULTS)),
            max_size=5,
        )
    )
    return {
        "options": options,
        "programme": Programme.from_dict({"name": "P", "segments": items}),
        "manual": draw(st.integers(0, 12)) == 0,
        "speaker": draw(st.integers(0, 5)) > 0,
        "scale": draw(st.sampled_from([1.0, 1.0, 0.8])),
        "faults": sorted(faults),
        "deceleration": draw(st.sampled_from([1.5, 0.3, 0.05])),
        "wait": draw(st.integers(0, 4)) == 0,
        "shutdown": draw(st.integers(0, 4)) == 0,
    }


@dataclass
class Outcome:
    """What a scenario produced."""

    rig: Rig
    options: EngineOptions
    sessions: list[SessionRecord]
    cap: float
    controllable: bool


def _inject(rig: Rig, kind: str, tasks: set[asyncio.Task[Any]]) -> None:
    """Inject one fault or one user action, marking the trace first."""
    engine, tm = rig.engine, rig.tm
    tm.mark(kind)
    actions = {
        "console_pause": tm.console_pause,
        "drop_link": tm.drop_link,
        "reconnect": tm.reconnect,
        "console_speed": lambda: tm.console_speed(min(1.0, tm.target or 1.0)),
        "control_lost": tm.control_lost,
        "safety_key": tm.safety_key,
        "console_start": tm.console_start,
        "speaker_off": lambda: setattr(rig, "speaker", False),
        "speaker_on": lambda: setattr(rig, "speaker", True),
        "command_fail": lambda: tm.failures.update(
            {"set_speed": CommandFailure.OPERATION_FAILED, "start": CommandFailure.TIMEOUT}
        ),
    }
    if kind in actions:
        actions[kind]()
        return
    coro = {
        "pause": engine.pause,
        "resume": engine.resume,
        "skip": engine.skip,
        "stop": engine.stop,
    }[kind]()

    async def guarded() -> None:
        with contextlib.suppress(CommandError):
            await coro

    task = asyncio.get_running_loop().create_task(guarded())
    tasks.add(task)


async def _scenario(data: dict[str, Any]) -> Outcome:
    """Run one scenario in virtual time."""
    caps = MANUAL_CAPS if data["manual"] else CAPS
    options: EngineOptions = data["options"]
    rig = Rig(options, caps, deceleration=data["deceleration"])
    rig.speaker = data["speaker"]
    tasks: set[asyncio.Task[Any]] = set()
    for at, kind in data["faults"]:
        rig.clock.call_at(rig.start + timedelta(seconds=at), lambda k=kind: _inject(rig, k, tasks))
    try:
        await rig.engine.start(
            data["programme"], key="p", speed_scale=data["scale"], wait_for_person=data["wait"]
        )
    except ProgrammeError:
        assume(False)  # a scaled speed the machine cannot do: refused, nothing to run
    if data["wait"]:
        await rig.run(3, step=1)
        rig.tm.mark("confirm")
        rig.engine.confirm_person()
    limit = compile_programme(data["programme"], options, caps, data["scale"]).estimated_duration
    horizon = limit * 1.5 + 400
    waited = paused = 0.0
    resumes = 0
    while rig.engine.active and waited < horizon:
        await rig.clock.advance(1.0)
        waited += 1
        paused = paused + 1 if rig.engine.status is ProgrammeStatus.PAUSED else 0
        if paused > 20 and waited > 200 and resumes < 10:
            resumes += 1
            rig.speaker = True
            rig.tm.failures.clear()
            if not rig.tm.link:
                rig.tm.reconnect()
            rig.tm.mark("resume")
            await rig.engine.resume()
    if rig.engine.active:
        if data["shutdown"]:
            rig.tm.mark("shutdown")
            await rig.engine.shutdown("unload")
        else:
            rig.tm.link = True
            rig.tm.mark("stop")
            await rig.engine.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await rig.close()
    return Outcome(
        rig,
        options,
        rig.sessions,
        min(options.max_backward_speed, 16.0),
        caps.controllable and options.remote_control,
    )


def _events(outcome: Outcome) -> list[tuple[str, Any]]:
    """Return the shared trace."""
    return outcome.rig.tm.trace


def check_backward_cap(outcome: Outcome) -> None:
    """Rule 3: no speed above the cap while backward or turning (commands and belt)."""
    facing = "forward"
    state = "forward"
    advisory = not outcome.controllable
    for kind, item in _events(outcome):
        if kind == "event":
            event, belt = item
            if event.type is CueType.ADVISORY_MODE:
                advisory = True  # from now on the person drives the belt (rule 10)
            elif event.type is CueType.MOUNT:
                facing = state = "backward"
            elif event.type in (CueType.SLOW_DOWN, CueType.WAIT_AT_TURN):
                state = "turning"
            elif event.type is EventType.DIRECTION_CHANGED:
                state = event.data["to"]
            elif event.type is CueType.TURN_NOW:
                facing = event.data["to"]
            if facing == "backward" and not advisory:
                assert belt <= outcome.cap + MEASURED, (event, belt)
        elif kind == "cmd" and item.name == "set_speed" and state != "forward":
            assert item.value <= outcome.cap + 1e-9, (state, item)
    # The belt itself: between the turn to backward and the turn to forward.
    _check_belt_while_backward(outcome)


def _check_belt_while_backward(outcome: Outcome) -> None:
    """Check the fake's speed history during backward stretches."""
    if not outcome.controllable:
        return
    windows: list[tuple[datetime, datetime | None]] = []
    begin: datetime | None = None
    for event in outcome.rig.events:
        if event.type is CueType.ADVISORY_MODE:
            if begin is not None:
                windows.append((begin, event.at))
                begin = None
            break  # the person drives the belt from here (rule 10)
        to = event.data.get("to") or event.data.get("direction")
        if event.type in (CueType.TURN_NOW, CueType.MOUNT) and to == "backward":
            begin = event.at
        elif event.type is CueType.TURN_NOW and to == "forward" and begin is not None:
            windows.append((begin, event.at))
            begin = None
    if begin is not None:
        windows.append((begin, None))
    for moment, speed in outcome.rig.tm.history:
        for start, end in windows:
            if start <= moment and (end is None or moment <= end):
                assert speed <= outcome.cap + MEASURED, (moment, speed)


def check_turns(outcome: Outcome) -> None:
    """Rules 1 and 2: turn cue in time and never after; TURN_NOW only on a slow belt."""
    said = False
    turning = False
    advisory = not outcome.controllable
    for kind, item in _events(outcome):
        if kind != "event":
            continue
        event, belt = item
        if event.type is CueType.ADVISORY_MODE:
            advisory = True  # the person drives the belt; turns are timed (rule 10)
        elif event.type is EventType.TURN_AROUND_SOON:
            assert not turning
            assert event.data["seconds"] <= outcome.options.cue_lead_time + 1e-6
            said = True
        elif event.type in (CueType.SLOW_DOWN, CueType.WAIT_AT_TURN) and not turning:
            assert said, "turn without a turn-around-soon cue"
            turning = True
        elif event.type is CueType.TURN_NOW and not advisory:
            turn_speed = outcome.options.turn_speed
            assert belt <= turn_speed + MEASURED, (event, belt)
        elif event.type is EventType.DIRECTION_CHANGED:
            assert turning or said
            said = turning = False


def check_nothing_moves_after_fault(outcome: Outcome) -> None:
    """Rule 6/10: after a pause, abort or advisory switch, no motion until a resume."""
    blocked = False
    advisory = False
    last_speed = 0.0  # a set_speed at or below the last one only lowers the target
    for kind, item in _events(outcome):
        if kind == "mark" and item[1] in ("resume", "console_start", "confirm"):
            blocked = False
        elif kind == "event":
            event = item[0]
            if event.type in (EventType.PROGRAMME_PAUSED, EventType.PROGRAMME_ABORTED):
                blocked = True
            if event.type is CueType.ADVISORY_MODE:
                advisory = True
            if event.type is EventType.PROGRAMME_STARTED:
                blocked = advisory = False
        elif kind == "cmd":
            if advisory:
                assert item.name == "stop", item
            lowering = item.name == "set_speed" and item.value <= last_speed + 1e-9
            if blocked and not lowering:
                assert item.name not in MOTION or _is_shutdown_slowdown(outcome, item), item
            if item.name == "set_speed":
                last_speed = item.value


def _is_shutdown_slowdown(outcome: Outcome, command: Command) -> bool:
    """Return whether a command is the shutdown's slow-down (allowed, rule 11)."""
    marks = [m for m in outcome.rig.tm.marks if m[1] == "shutdown"]
    return (
        bool(marks)
        and command.at >= marks[0][0]
        and command.name == "set_speed"
        and (command.value or 0) <= outcome.options.turn_speed + 0.01
    )


def check_stop_first(outcome: Outcome) -> None:
    """Rule 7: the first command after stop() is called is stop."""
    pending = False
    for kind, item in _events(outcome):
        if kind == "mark" and item[1] == "stop":
            pending = True
        elif kind == "cmd" and pending:
            assert item.name == "stop", item
            pending = False


def check_stagger(outcome: Outcome) -> None:
    """Rule 4: speed and incline are never both raised at the same moment."""
    speed = incline = 0.0
    raised: dict[datetime, set[str]] = {}
    for command in outcome.rig.tm.log:
        if command.name in ("start", "set_speed"):
            value = speed if command.name == "start" else command.value or 0.0
            if value > speed + 1e-9 or command.name == "start":
                raised.setdefault(command.at, set()).add("speed")
            speed = value
        elif command.name == "set_incline":
            value = command.value or 0.0
            if value > incline + 1e-9:
                raised.setdefault(command.at, set()).add("incline")
            incline = value
    assert all(kinds != {"speed", "incline"} for kinds in raised.values()), raised


def check_countdown(outcome: Outcome) -> None:
    """Rule 9: every start follows a full countdown that nothing interrupted."""
    countdown_at: datetime | None = None
    ticks: list[int] = []
    for kind, item in _events(outcome):
        if kind == "event":
            event = item[0]
            if event.type is CueType.COUNTDOWN:
                countdown_at, ticks = event.at, []
            elif event.type is CueType.COUNTDOWN_TICK:
                ticks.append(event.data["seconds"])
            elif event.type in (EventType.PROGRAMME_PAUSED, EventType.PROGRAMME_ABORTED):
                countdown_at = None
        elif kind == "mark" and item[1] == "stop":
            countdown_at = None
        elif kind == "cmd" and item.name == "start":
            assert countdown_at is not None, item
            waited = (item.at - countdown_at).total_seconds()
            assert waited >= outcome.options.start_countdown - 1e-6
            assert ticks == [3, 2, 1]
            countdown_at = None


def check_advisory(outcome: Outcome) -> None:
    """Advisory mode (manual or remote control off) sends no command at all."""
    if not outcome.controllable:
        # Rule 7: the only command is a stop (sent whenever a link exists).
        assert {c.name for c in outcome.rig.tm.log} <= {"stop"}
        for event in outcome.rig.events:
            if event.type in (CueType.SPEED_CHANGE, CueType.INCLINE_CHANGE):
                assert event.data["advisory"] is True


def check_half_squat(outcome: Outcome) -> None:
    """Rule 5: half-squat segments last at most 60 s and follow a knee warning."""
    warned = False
    for event in outcome.rig.events:
        if event.type is CueType.KNEE_WARNING:
            warned = True
        elif event.type is EventType.INTERVAL_STARTED:
            if event.data["label_key"].endswith("half_squat"):
                assert warned
            warned = False
    for session in outcome.sessions:
        for segment in session.segments:
            if segment.label_key.endswith("half_squat"):
                assert segment.actual_duration_s <= 60 + 1e-6
                assert segment.planned_distance_m is None


def check_session(outcome: Outcome) -> None:
    """Rule 11 and the record: one finished session, nothing left running."""
    assert len(outcome.sessions) == 1
    record = outcome.sessions[0]
    assert record.outcome is not None
    assert SessionRecord.from_dict(record.to_dict()) == record
    assert not outcome.rig.engine.active
    assert outcome.rig.engine._timers == []
    assert outcome.rig.engine._run_timers == []
    assert outcome.rig.engine._tasks == set()
    if any(m[1] == "shutdown" for m in outcome.rig.tm.marks):
        assert record.reason == "unload"
        after = [c for c in outcome.rig.tm.log if c.at >= outcome.rig.tm.marks[-1][0]]
        assert {c.name for c in after} <= {"set_speed", "pause"}


CHECKS = (
    check_backward_cap,
    check_turns,
    check_nothing_moves_after_fault,
    check_stop_first,
    check_stagger,
    check_countdown,
    check_advisory,
    check_half_squat,
    check_session,
)


@SETTINGS
@given(scenarios())
def test_safety_rules_hold(data: dict[str, Any]) -> None:
    """Every safety rule holds on random programmes, options and faults."""
    outcome = asyncio.run(_scenario(data))
    note_event(f"outcome: {outcome.sessions[0].outcome}")
    note_event(f"turns: {min(len(outcome.rig.of(EventType.DIRECTION_CHANGED)), 3)}")
    note_event(f"advisory: {outcome.rig.engine.advisory}")
    try:
        for check in CHECKS:
            check(outcome)
    except AssertionError:  # pragma: no cover - shown when a property fails
        _explain(data, outcome)
        raise


def _explain(data: dict[str, Any], outcome: Outcome) -> None:  # pragma: no cover
    """Print the timeline, the commands and the events of a failing scenario."""
    options, caps = data["options"], CAPS if not data["manual"] else MANUAL_CAPS
    timeline = compile_programme(data["programme"], options, caps, data["scale"])
    print("\n".join(timeline.render()))  # noqa: T201
    for kind, item in outcome.rig.tm.trace:
        if kind == "cmd":
            print(outcome.rig.t(item.at), "CMD", item.name, item.value)  # noqa: T201
        elif kind == "mark":
            print(outcome.rig.t(item[0]), "MARK", item[1])  # noqa: T201
        else:
            event, belt = item
            print(outcome.rig.t(event.at), event.type, belt, event.data)  # noqa: T201


def _record(events: list[EngineEvent]) -> Any:
    """Return a listener that keeps events."""
    return events.append


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(1.0, 5.0).map(lambda v: round(v, 2)), min_size=1, max_size=6),
    st.floats(0.5, 1.5),
)
def test_compiler_refuses_or_respects_the_cap(speeds: list[float], scale: float) -> None:
    """Rule 3 at compile time: refused above the cap, never clipped."""
    segments_ = [{"direction": "backward", "duration": 10, "speed": s} for s in speeds]
    programme = Programme.from_dict({"name": "C", "segments": segments_})
    options = EngineOptions()
    too_fast = max(round(s * scale, 3) for s in speeds) > options.max_backward_speed
    if too_fast:
        with pytest.raises(ProgrammeError, match="above the maximum backward speed"):
            compile_programme(programme, options, CAPS, scale)
        return
    timeline = compile_programme(programme, options, CAPS, scale)
    for interval, speed in zip(timeline.intervals, speeds, strict=True):
        assert interval.speed <= options.max_backward_speed
        assert abs(interval.speed - speed * scale) <= 0.051


def test_engine_is_constructible_without_loop() -> None:
    """The engine can be built outside a running loop (HA builds it in setup)."""
    rig = Rig()
    assert isinstance(rig.engine, Engine)
