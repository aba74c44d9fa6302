"""Engine behaviour in virtual time against the fake treadmill."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from custom_components.treadreverse.programme.builtins import builtin_programme
from custom_components.treadreverse.programme.engine import EngineBusyError
from custom_components.treadreverse.programme.events import (
    CueType,
    Direction,
    EventType,
    ProgrammeStatus,
)
from custom_components.treadreverse.programme.interlock import InterlockError
from custom_components.treadreverse.programme.options import EngineOptions, TurnMode
from custom_components.treadreverse.programme.schema import ProgrammeError
from custom_components.treadreverse.programme.session import SessionOutcome, SessionRecord
from custom_components.treadreverse.treadmill.base import Capabilities, CommandError, CommandFailure

from .fake import MANUAL_CAPS
from .rig import Rig, programme, seg

S = ProgrammeStatus


async def test_full_run_of_a_builtin() -> None:
    """first_steps runs to completion: countdown, intervals, turns, summary, record."""
    rig = Rig()
    await rig.engine.start(builtin_programme("first_steps"), key="first_steps")
    assert rig.engine.status is S.COUNTDOWN
    assert rig.engine.snapshot().progress == 0.0
    await rig.run(10)
    assert rig.commands()[:2] == [(10.0, "set_speed", 3.5), (10.0, "start", None)]  # rule 3
    snap = rig.engine.snapshot()
    assert snap.status is S.RUNNING
    assert (snap.interval_index, snap.interval_count, snap.interval_label) == (1, 10, "Warm-up")
    assert snap.interval_ends_at == rig.start + timedelta(seconds=190)
    assert snap.programme_ends_at is not None
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    types = rig.types()
    assert types.count("direction_changed") == 8
    assert types.count("turn_now") == 8
    assert types.count("interval_started") == 10
    assert types[-2:] == ["programme_completed", "summary"]
    assert rig.commands()[-1][1] == "stop"
    record = rig.sessions[0]
    assert record.outcome is SessionOutcome.COMPLETED
    assert len(record.segments) == 10
    assert record.backward_time_s == pytest.approx(120, abs=0.01)
    assert record.backward_distance_m == pytest.approx(4 * 30 * 2 / 3.6, rel=0.1)
    assert SessionRecord.from_dict(record.to_dict()) == record
    assert rig.engine.session == record
    final = rig.engine.snapshot()
    assert (final.status, final.progress, final.interval_index) == (S.COMPLETED, 100.0, None)
    assert final.backward_distance_m == record.backward_distance_m
    assert final.programme_name == "Backward intervals, first steps"
    summary = rig.of(CueType.SUMMARY)[-1].data
    assert summary["final"] is True
    assert summary["backward_distance_m"] == record.backward_distance_m
    await rig.close()


async def test_public_events_carry_interval_data() -> None:
    """Public events carry index, direction, speed, incline and ends_at."""
    rig = Rig()
    await rig.engine.start(programme(seg(incline=1.0)), key=None)
    await rig.run(11)
    started = rig.of(EventType.INTERVAL_STARTED)[0]
    assert started.public
    assert started.data["index"] == 1
    assert started.data["direction"] == "forward"
    assert started.data["speed"] == 2.0
    assert started.data["incline"] == 1.0
    assert started.data["ends_at"] == (rig.start + timedelta(seconds=70)).isoformat()
    await rig.close()


async def test_busy_and_invalid_start_change_nothing() -> None:
    """A second start is refused; an unsafe programme leaves the engine idle."""
    rig = Rig()
    with pytest.raises(ProgrammeError):
        await rig.engine.start(programme(seg("backward", speed=5.0)), key=None)
    assert rig.engine.status is S.IDLE
    assert rig.events == []
    assert rig.engine.session is None
    assert rig.engine.snapshot().interval_index is None
    await rig.engine.start(programme(seg()), key=None)
    with pytest.raises(EngineBusyError):
        await rig.engine.start(programme(seg()), key=None)
    await rig.close()


async def test_wait_for_person_confirm() -> None:
    """wait_for_person waits, then counts down after confirmation."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key=None, wait_for_person=True)
    assert rig.engine.status is S.WAITING
    assert rig.of(CueType.WAITING_FOR_PERSON)[0].data == {"timeout_s": 600.0}
    await rig.run(300)
    assert rig.tm.log == []
    rig.engine.confirm_person()
    assert rig.engine.status is S.COUNTDOWN
    rig.engine.confirm_person()  # no effect outside waiting
    await rig.run(10)
    assert rig.commands()[:2] == [(310.0, "set_speed", 2.0), (310.0, "start", None)]
    await rig.run(400)  # the old 10-minute timeout no longer applies
    assert rig.engine.status is S.COMPLETED
    await rig.close()


async def test_wait_for_person_console_start_and_timeout() -> None:
    """A console start confirms; nobody for 10 minutes aborts with no_person."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key=None, wait_for_person=True)
    rig.tm.console_start()
    # The person started the belt: no countdown, the segment's speed goes out at once
    # (the machine resumed at whatever it had stored).
    assert rig.engine.status is S.RUNNING
    await rig.run(0.5)
    assert rig.commands()[0][1:] == ("set_speed", 2.0)
    await rig.engine.stop()
    rig2 = Rig()
    await rig2.engine.start(programme(seg()), key=None, wait_for_person=True)
    await rig2.run(600)
    assert rig2.engine.status is S.ABORTED
    assert rig2.sessions[0].reason == "no_person"
    assert rig2.tm.log == []
    await rig.close()
    await rig2.close()


async def test_pause_resume_shifts_timeline() -> None:
    """Pause keeps the position; resume counts down again and shifts the rest."""
    rig = Rig()
    await rig.engine.start(programme(seg(duration=60), seg(speed=3.0)), key=None)
    await rig.run(30)  # 20 s into the first segment
    await rig.engine.pause()
    assert rig.engine.status is S.PAUSED
    assert rig.commands()[-1][1] == "pause"
    snap = rig.engine.snapshot()
    assert snap.interval_ends_at is None
    assert snap.programme_ends_at is None
    await rig.engine.pause()  # no effect when paused
    await rig.run(100)
    await rig.engine.resume()
    assert rig.engine.status is S.COUNTDOWN
    await rig.run(10)
    assert rig.commands()[-2:] == [(140.0, "set_speed", 2.0), (140.0, "start", None)]
    await rig.run_until(lambda: len(rig.of(EventType.INTERVAL_STARTED)) == 2)
    assert rig.t(rig.of(EventType.INTERVAL_STARTED)[1].at) == 180.0  # 10 + 60 + 100 + 10
    await rig.engine.resume()  # no effect when running
    await rig.close()


async def test_pause_during_countdown_then_resume() -> None:
    """A pause during the countdown cancels it; resume counts down afresh."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key=None)
    await rig.run(5)
    await rig.engine.pause()
    await rig.run(20)
    assert rig.tm.log == []
    await rig.engine.resume()
    await rig.run(10)
    assert rig.commands()[:2] == [(35.0, "set_speed", 2.0), (35.0, "start", None)]
    await rig.close()


async def test_skip_to_next_and_into_turn() -> None:
    """Skip moves on at once, but a turn still gets its lead time; turns are never skipped."""
    rig = Rig()
    await rig.engine.start(programme(seg(), seg(speed=3.0), seg("backward")), key=None)
    await rig.run(20)
    await rig.engine.skip()
    assert rig.engine.snapshot().interval_index == 2
    assert rig.engine.session is not None
    assert rig.engine.session.segments[0].skipped
    await rig.run(1)
    await rig.engine.skip()  # next is a turn: lead time first
    soon = rig.of(EventType.TURN_AROUND_SOON)
    assert soon[0].data["seconds"] == 5.0
    assert rig.engine.status is S.RUNNING
    await rig.run(5)
    assert rig.engine.status is S.TURNING
    await rig.engine.skip()  # never skips a turn
    assert rig.engine.status is S.TURNING
    await rig.run_until(lambda: rig.engine.direction is Direction.BACKWARD)
    await rig.close()


async def test_skip_short_remaining_before_turn() -> None:
    """Skipping with less than the lead time left keeps the planned end."""
    rig = Rig()
    await rig.engine.start(programme(seg(duration=10), seg("backward")), key=None)
    await rig.run(17)
    await rig.engine.skip()
    await rig.run(3)
    assert rig.engine.status is S.TURNING
    await rig.close()


async def test_turn_waits_for_measured_speed() -> None:
    """TURN_NOW comes only once the measured speed is at turn_speed; incline after speed."""
    rig = Rig(deceleration=0.5)
    await rig.engine.start(programme(seg(speed=4.0), seg("backward", incline=2.0)), key=None)
    await rig.run(70)
    assert rig.engine.status is S.TURNING
    assert rig.engine.direction is Direction.TURNING
    slow = rig.of(CueType.SLOW_DOWN)[0]
    assert slow.data == {"turn_speed": 1.0, "turn_mode": "slow", "advisory": False}
    assert rig.of(CueType.TURN_NOW) == []
    await rig.run_until(lambda: bool(rig.of(CueType.TURN_NOW)))
    assert rig.tm.speed <= 1.05
    turn_now = rig.t(rig.of(CueType.TURN_NOW)[0].at)
    assert turn_now >= 70 + 3 / 0.5 - 1
    await rig.run_until(lambda: rig.engine.direction is Direction.BACKWARD)
    changed = rig.of(EventType.DIRECTION_CHANGED)[0]
    assert rig.t(changed.at) == turn_now + 5
    assert changed.data["previous"] == "turning"
    await rig.run(4)
    cmds = [c for c in rig.commands() if c[0] >= rig.t(changed.at)]
    assert cmds[0][1:] == ("set_speed", 2.0)
    assert cmds[1] == (rig.t(changed.at) + 3, "set_incline", 2.0)
    await rig.close()


async def test_turn_pause_mode_restarts_with_countdown() -> None:
    """In pause mode the belt pauses at the turn and restarts after a countdown."""
    rig = Rig(EngineOptions(turn_mode=TurnMode.PAUSE))
    await rig.engine.start(programme(seg(), seg("backward")), key=None)
    await rig.run(70.5)
    assert "pause" in [c[1] for c in rig.commands()]
    await rig.run_until(lambda: rig.engine.direction is Direction.BACKWARD)
    assert rig.engine.status is S.COUNTDOWN
    await rig.run(10)
    assert [c[1] for c in rig.commands()][-2:] == ["set_speed", "start"]
    await rig.close()


async def test_turn_timeout_pauses_belt() -> None:
    """A belt that does not reach turn_speed in time is paused."""
    rig = Rig(deceleration=0.05)
    await rig.engine.start(programme(seg(speed=4.0), seg("backward")), key=None)
    await rig.run(70)
    await rig.run(15)
    assert rig.commands()[-1] == (85.0, "pause", None)
    rig.tm.deceleration = 5.0
    await rig.run_until(lambda: bool(rig.of(CueType.TURN_NOW)))
    await rig.run_until(lambda: rig.engine.status is S.COUNTDOWN)
    await rig.close()


async def test_no_speaker_waits_at_turn() -> None:
    """Without a working speaker the turn falls back to pause-and-wait (rule 2)."""
    rig = Rig()
    await rig.engine.start(programme(seg(), seg("backward")), key=None)
    await rig.run(30)
    rig.speaker = False
    await rig.run(41)
    assert rig.engine.status is S.PAUSED
    assert not rig.of(CueType.WAIT_AT_TURN)  # not while the belt still runs (finding 10)
    await rig.run_until(lambda: bool(rig.of(CueType.WAIT_AT_TURN)))
    assert rig.events[-1].type is CueType.WAIT_AT_TURN
    assert rig.tm.trace[-1][1][1] <= 0.05  # said with the belt at rest
    assert rig.of(CueType.WAIT_AT_TURN)[0].data == {"to": "backward"}
    assert rig.of(EventType.PROGRAMME_PAUSED)[0].data["reason"] == "wait_at_turn"
    assert rig.commands()[-1][1] == "pause"
    await rig.run(60)
    assert rig.engine.status is S.PAUSED
    rig.speaker = True  # a speaker works again: the countdown can be heard (rule 9)
    await rig.engine.resume()
    assert rig.engine.status is S.TURNING
    await rig.run(2)  # two fresh samples of a still belt
    assert rig.of(CueType.TURN_NOW)
    await rig.run(5)
    assert rig.engine.direction is Direction.BACKWARD
    assert rig.engine.status is S.COUNTDOWN
    await rig.run(10)
    # Rule 3: the backward speed is set and confirmed before the belt starts.
    assert [c[1:] for c in rig.commands()[-2:]] == [("set_speed", 2.0), ("start", None)]
    await rig.close()


async def test_final_turn_to_forward() -> None:
    """A programme ending backward ends with a turn to face forward, then stops."""
    rig = Rig()
    await rig.engine.start(programme(seg("backward")), key=None)
    assert rig.of(CueType.MOUNT)[0].data == {"direction": "backward", "handrails": "both"}
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    assert rig.of(EventType.DIRECTION_CHANGED)[-1].data["to"] == "forward"
    assert rig.commands()[-1][1] == "stop"
    await rig.close()


async def test_pause_during_turn_resumes_safely() -> None:
    """A pause mid-turn: resume finishes the turn with the belt still, then counts down."""
    rig = Rig(deceleration=0.5)
    await rig.engine.start(programme(seg(speed=4.0), seg("backward")), key=None)
    await rig.run(71)
    await rig.engine.pause()
    await rig.run(30)
    await rig.engine.resume()
    assert rig.engine.status is S.TURNING
    await rig.run_until(lambda: rig.engine.status is S.COUNTDOWN)
    await rig.run(10)
    assert rig.engine.status is S.RUNNING
    await rig.close()


async def test_console_start_during_paused_turn_slows_first() -> None:
    """If the person restarts the belt on the console mid-turn, the turn begins again."""
    rig = Rig(deceleration=0.5)
    await rig.engine.start(programme(seg(speed=4.0), seg("backward")), key=None)
    await rig.run(71)
    rig.tm.console_pause()
    await rig.run(5)
    rig.tm.console_start()
    assert rig.engine.status is S.TURNING
    assert len(rig.of(CueType.SLOW_DOWN)) == 2
    await rig.close()


async def test_distance_segment_ends_on_measured_distance() -> None:
    """A distance segment ends when the machine has measured the distance."""
    rig = Rig()
    await rig.engine.start(
        programme({"direction": "forward", "distance": 50, "speed": 3.6}, seg("backward")),
        key=None,
    )
    await rig.run_until(lambda: bool(rig.of(EventType.TURN_AROUND_SOON)))
    await rig.run_until(lambda: rig.engine.status is S.TURNING)
    record = rig.engine.session
    assert record is not None
    assert record.segments[0].actual_distance_m == pytest.approx(50, abs=1.5)
    assert rig.engine.snapshot().interval_ends_at is None
    await rig.close()


async def test_distance_segment_estimated_in_advisory_mode() -> None:
    """In advisory mode a distance segment ends on time x target speed."""
    rig = Rig(caps=MANUAL_CAPS)
    await rig.engine.start(
        programme({"direction": "forward", "distance": 50, "speed": 3.6}), key=None
    )
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    assert rig.sessions[0].total_distance_m == pytest.approx(50, abs=0.01)
    assert rig.tm.log == []
    await rig.close()


async def test_advisory_mode_manual_treadmill() -> None:
    """A manual treadmill gets cues, never commands; turns are timed."""
    rig = Rig(caps=MANUAL_CAPS)
    await rig.engine.start(programme(seg(speed=3.0, incline=1.0), seg("backward")), key=None)
    assert rig.engine.advisory
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    assert rig.tm.log == []
    changes = rig.of(CueType.SPEED_CHANGE)
    assert changes[0].data == {"speed": 3.0, "advisory": True}
    assert rig.of(CueType.INCLINE_CHANGE)[0].data == {"incline": 1.0, "advisory": True}
    slow = rig.of(CueType.SLOW_DOWN)[0]
    turn = rig.of(CueType.TURN_NOW)[0]
    assert (turn.at - slow.at).total_seconds() == 5.0
    with pytest.raises(ProgrammeError) as info:
        await rig.engine.set_speed(2.0)
    assert info.value.key == "not_controllable"
    await rig.engine.stop()  # nothing to send
    assert rig.tm.log == []
    await rig.close()


async def test_remote_control_off_is_advisory() -> None:
    """remote_control off: a controllable treadmill gets no commands at all."""
    rig = Rig(EngineOptions(remote_control=False))
    await rig.engine.start(programme(seg(), seg("backward")), key=None)
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    await rig.run(1)
    # Rule 7: the one command is the completion's stop (sent whenever a link exists),
    # and the person is told to stop the belt.
    assert [c.name for c in rig.tm.log] == ["stop"]
    assert rig.of(CueType.STOP_THE_BELT)
    await rig.close()


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("console_speed", "console_change"),
        ("console_incline", "console_change"),
        ("control_lost", "control_lost"),
    ],
)
async def test_console_change_switches_to_advisory(fault: str, reason: str) -> None:
    """A console change or control taken back switches to advisory for the session."""
    rig = Rig()
    await rig.engine.start(programme(seg(), seg(speed=3.0), seg("backward")), key=None)
    await rig.run(20)
    if fault == "control_lost":
        rig.tm.control_lost()
    else:
        getattr(rig.tm, fault)(2.5)
    assert rig.engine.advisory
    assert rig.of(CueType.ADVISORY_MODE)[0].data == {"reason": reason}
    sent = len(rig.tm.log)
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    await rig.run(1)
    assert [c.name for c in rig.tm.log[sent:]] == ["stop"]  # only the completion's stop
    assert rig.of(CueType.SPEED_CHANGE)[-1].data["advisory"] is True
    rig.tm.control_lost()  # no run: ignored
    await rig.close()


async def test_advisory_switch_mid_distance_segment() -> None:
    """A distance segment switches to an estimated end when control goes."""
    rig = Rig()
    await rig.engine.start(
        programme({"direction": "forward", "distance": 100, "speed": 3.6}), key=None
    )
    await rig.run(30)
    rig.tm.control_lost()
    rig.tm.control_lost()  # once is enough
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED, limit=200)
    assert rig.sessions[0].total_distance_m == pytest.approx(100, abs=3)
    await rig.close()


@pytest.mark.parametrize(
    ("fault", "reason"), [("console_pause", "console_pause"), ("drop_link", "disconnected")]
)
async def test_fault_pauses_and_nothing_moves(fault: str, reason: str) -> None:
    """Console pause or lost link: paused, nothing moves, even after reconnecting (rule 6)."""
    rig = Rig()
    await rig.engine.start(programme(seg(), seg(speed=3.0)), key=None)
    await rig.run(20)
    getattr(rig.tm, fault)()
    assert rig.engine.status is S.PAUSED
    assert rig.of(EventType.PROGRAMME_PAUSED)[0].data["reason"] == reason
    sent = len(rig.tm.log)
    rig.tm.reconnect()
    await rig.run(200)
    assert len(rig.tm.log) == sent
    assert rig.engine.status is S.PAUSED
    getattr(rig.tm, fault)()  # again while paused: still paused
    rig.tm.reconnect()
    await rig.engine.resume()
    assert rig.engine.status is S.COUNTDOWN
    await rig.run(10)
    assert [c[1:] for c in rig.commands()[sent:]] == [("set_speed", 2.0), ("start", None)]
    await rig.close()


async def test_console_start_resumes_without_countdown() -> None:
    """The person restarting on the console resumes the programme at once."""
    rig = Rig()
    await rig.engine.start(programme(seg(), seg(speed=3.0)), key=None)
    await rig.run(20)
    rig.tm.console_pause()
    await rig.run(5)
    sent = len(rig.tm.log)
    rig.tm.console_start()
    assert rig.engine.status is S.RUNNING
    await rig.run(1)
    # The machine resumes at its stored target, which the interlock knows is 2.0.
    assert rig.engine.interlock.stored_target == 2.0
    assert len(rig.tm.log) == sent
    await rig.close()


async def test_safety_key_aborts() -> None:
    """The safety key aborts the programme."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key="k")
    await rig.run(20)
    rig.tm.safety_key()
    assert rig.engine.status is S.ABORTED
    assert rig.of(CueType.SAFETY_KEY)
    assert rig.of(EventType.PROGRAMME_ABORTED)[0].data["reason"] == "safety_key"
    assert rig.sessions[0].outcome is SessionOutcome.ABORTED
    assert rig.sessions[0].segments[0].skipped
    await rig.close()


async def test_console_stop_ends_stopped() -> None:
    """A console stop ends the session as stopped."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key="k")
    await rig.run(20)
    rig.tm.console_stop()
    assert rig.engine.status is S.IDLE
    assert rig.sessions[0].outcome is SessionOutcome.STOPPED
    assert rig.sessions[0].reason == "console_stop"
    await rig.close()


async def test_command_failure_pauses_and_says_so() -> None:
    """A failing command pauses the programme, says so, and tries to pause the belt."""
    rig = Rig()
    await rig.engine.start(programme(seg(), seg(speed=3.0)), key=None)
    await rig.run(20)
    rig.tm.failures["set_speed"] = CommandFailure.OPERATION_FAILED
    await rig.run(60)
    failed = rig.of(CueType.COMMAND_FAILED)[0]
    assert failed.data == {"command": "set_speed", "reason": "operation_failed"}
    assert rig.of(EventType.PROGRAMME_PAUSED)[0].data["reason"] == "command_failed"
    assert rig.engine.status is S.PAUSED
    assert rig.commands()[-1][1] == "pause"
    await rig.close()


async def test_start_failure_pauses_and_sends_a_pause() -> None:
    """A failing start pauses the programme and the belt: its reply may be lost."""
    rig = Rig()
    rig.tm.failures["start"] = CommandFailure.CONTROL_NOT_PERMITTED
    await rig.engine.start(programme(seg()), key=None)
    await rig.run(11)
    assert rig.engine.status is S.PAUSED
    assert [c[1] for c in rig.commands()] == ["set_speed", "start", "pause"]
    await rig.close()


async def test_failure_after_stop_is_only_reported() -> None:
    """A command failing when no programme runs is only reported."""
    rig = Rig()
    rig.tm.failures["stop"] = CommandFailure.TIMEOUT
    await rig.engine.start(programme(seg(duration=5)), key=None)
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    await rig.run(1)
    assert rig.of(CueType.COMMAND_FAILED)[0].data["command"] == "stop"
    await rig.close()


async def test_stop_wins_and_cancels_countdown() -> None:
    """Stop is sent at once; a stop during the countdown means the belt never starts."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key=None)
    await rig.run(5)
    await rig.engine.stop()
    assert [c[1] for c in rig.commands()] == ["stop"]
    await rig.run(30)
    assert [c[1] for c in rig.commands()] == ["stop"]
    assert rig.engine.status is S.IDLE
    assert rig.sessions[0].outcome is SessionOutcome.STOPPED
    await rig.engine.stop()  # idle: still sent
    assert [c[1] for c in rig.commands()] == ["stop", "stop"]
    await rig.close()


async def test_stop_unreachable() -> None:
    """A stop that cannot reach the belt says so and raises."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key=None)
    await rig.run(20)
    rig.tm.drop_link()
    with pytest.raises(CommandError):
        await rig.engine.stop()
    assert rig.of(CueType.STOP_UNREACHABLE)[0].data == {
        "command": "stop",
        "reason": "disconnected",
    }
    assert rig.sessions[0].outcome is SessionOutcome.STOPPED
    with pytest.raises(CommandError):
        await rig.engine.stop()  # idle and unreachable
    await rig.close()


async def test_user_pause_command_failure_raises() -> None:
    """A pause that cannot be sent is reported and raised."""
    rig = Rig()
    await rig.engine.start(programme(seg()), key=None)
    await rig.run(20)
    rig.tm.failures["pause"] = CommandFailure.TIMEOUT
    with pytest.raises(CommandError):
        await rig.engine.pause()
    assert rig.engine.status is S.PAUSED
    assert rig.of(CueType.COMMAND_FAILED)
    await rig.close()


async def test_shutdown_slows_pauses_and_records() -> None:
    """Shutdown announces, slows the belt, pauses it and records an abort (rule 11)."""
    rig = Rig()
    await rig.engine.start(programme(seg(speed=3.0)), key=None)
    await rig.run(20)
    await rig.engine.shutdown("unload")
    assert [c[1:] for c in rig.commands()][-2:] == [("set_speed", 1.0), ("pause", None)]
    assert rig.of(EventType.PROGRAMME_ABORTED)[0].data["reason"] == "unload"
    assert rig.engine.status is S.ABORTED
    assert rig.sessions[0].reason == "unload"
    await rig.engine.shutdown("again")  # idle: nothing
    await rig.close()


async def test_shutdown_with_unreachable_belt_still_records() -> None:
    """Shutdown records the abort even when the belt cannot be reached."""
    rig = Rig()
    await rig.engine.start(programme(seg(speed=3.0)), key=None)
    await rig.run(20)
    rig.tm.drop_link()
    rig.tm.link = False
    rig.engine._run.belt_moving = True  # type: ignore[union-attr]
    await rig.engine.shutdown("unload")
    assert rig.engine.status is S.ABORTED
    await rig.close()


async def test_close_leaves_no_timers_or_tasks() -> None:
    """close() cancels every engine timer and task."""
    rig = Rig(EngineOptions(summary_interval=60))
    await rig.engine.start(programme(seg(), seg("backward")), key=None)
    await rig.run(20)
    rig.tm.close()
    await rig.engine.close()
    live = [i for _, i, _ in rig.clock._heap if i not in rig.clock._cancelled]
    assert live == []
    assert rig.engine._tasks == set()
    await rig.engine.close()  # twice is fine


async def test_set_speed_and_incline_by_hand() -> None:
    """Manual changes keep the cap while backward and the machine's range."""
    rig = Rig()
    with pytest.raises(InterlockError) as refused:
        await rig.engine.set_speed(6.0)  # idle, at rest: a raise is refused (rule 9)
    assert refused.value.key == "belt_at_rest"
    assert rig.tm.running is False
    assert rig.tm.log == []
    await rig.engine.start(programme(seg("backward")), key=None)
    await rig.run(20)
    assert rig.engine.speed_limit == 4.0
    with pytest.raises(ProgrammeError) as info:
        await rig.engine.set_speed(4.5)
    assert str(info.value) == "speed: 4.5 km/h is above the maximum backward speed of 4.0 km/h"
    with pytest.raises(ProgrammeError) as info:
        await rig.engine.set_incline(20)
    assert str(info.value) == (
        "incline: 20.0 % is outside this treadmill's incline range of 0.0-15.0 %"
    )
    await rig.engine.set_speed(3.0)
    with pytest.raises(InterlockError) as refused:
        await rig.engine.set_incline(2.0)  # rule 4: not within 3 s of the speed raise
    assert refused.value.key == "raise_too_soon"
    assert "wait 3.0 s" in str(refused.value)
    await rig.run(3)
    await rig.engine.set_incline(2.0)
    assert rig.engine.snapshot().target_speed == 3.0
    assert rig.engine.snapshot().target_incline == 2.0
    await rig.close()


async def test_summary_every_interval() -> None:
    """A periodic summary while moving, at absolute times."""
    rig = Rig(EngineOptions(summary_interval=30))
    await rig.engine.start(programme(seg(duration=100)), key=None, wait_for_person=True)
    rig.engine.confirm_person()
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    periodic = [e for e in rig.of(CueType.SUMMARY) if not e.data["final"]]
    # The one due at 90 s falls in the last 30 s: the final summary comes instead.
    assert [rig.t(e.at) for e in periodic] == [30, 60]
    assert rig.of(CueType.SUMMARY)[-1].data["final"]
    await rig.close()


async def test_broken_listener_does_not_stop_the_engine() -> None:
    """A listener raising never breaks the belt logic."""
    rig = Rig()

    def broken(_event: object) -> None:
        raise RuntimeError

    remove = rig.engine.add_listener(broken)
    await rig.engine.start(programme(seg(duration=5)), key=None)
    await rig.run_until(lambda: rig.engine.status is S.COMPLETED)
    remove()
    remove()
    remove_session = rig.engine.add_session_listener(lambda _r: None)
    remove_session()
    remove_session()
    await rig.close()


async def test_no_speed_reports_times_the_turn() -> None:
    """A controllable machine without speed reports gets timed turns."""
    rig = Rig(caps=Capabilities(controllable=True))
    rig.tm.reports = False
    await rig.engine.start(programme(seg(), seg("backward")), key=None)
    await rig.run_until(lambda: bool(rig.of(CueType.TURN_NOW)))
    slow = rig.of(CueType.SLOW_DOWN)[0]
    assert (rig.of(CueType.TURN_NOW)[0].at - slow.at).total_seconds() == 5.0
    await rig.close()


async def test_snapshot_progress_and_totals() -> None:
    """Progress grows to 100; totals split by direction."""
    rig = Rig()
    await rig.engine.start(programme(seg(duration=40), seg("backward", duration=40)), key=None)
    await rig.run(30)
    snap = rig.engine.snapshot()
    assert 0 < snap.progress < 50
    assert snap.forward_time_s == 20
    assert snap.programme_name == "T"
    await rig.run_until(lambda: rig.engine.direction is Direction.BACKWARD)
    await rig.run(10)
    snap = rig.engine.snapshot()
    assert snap.backward_time_s == pytest.approx(10)
    assert snap.backward_distance_m > 0
    assert snap.distance_m >= snap.backward_distance_m + snap.forward_distance_m - 1e-6
    await asyncio.sleep(0)
    await rig.close()


async def test_console_start_mid_pause_turn_slows_again() -> None:
    """A belt restarted on the console during a pause-mode turn is paused again first."""
    rig = Rig(EngineOptions(turn_mode=TurnMode.PAUSE), deceleration=0.3)
    await rig.engine.start(programme(seg(speed=6.0), seg("backward")), key=None)
    await rig.run(75)
    assert rig.engine.status is S.TURNING
    rig.tm.console_start()
    assert len(rig.of(CueType.SLOW_DOWN)) == 2
    await rig.run(1)
    assert rig.commands()[-1][1] == "pause"
    await rig.close()


async def test_console_start_during_countdown_applies_speed_at_once() -> None:
    """A console start during the countdown enters the segment at once, sending no start."""
    rig = Rig()
    await rig.engine.start(programme(seg(speed=3.0)), key=None)
    await rig.run(4)
    rig.tm.console_start()
    assert rig.engine.status is S.RUNNING
    await rig.run(1)
    assert [c[1:] for c in rig.commands()] == [("set_speed", 3.0)]
    await rig.close()


async def test_runtime_stagger_after_manual_incline() -> None:
    """A manual incline change cannot make a planned lowering into a joint raise (rule 4)."""
    rig = Rig()
    await rig.engine.start(programme(seg(incline=4.0), seg(speed=3.0, incline=2.0)), key=None)
    await rig.run(30)
    await rig.engine.set_incline(0.0)
    await rig.run(45)
    changes = [c for c in rig.commands() if c[0] >= 70]
    assert changes == [(70.0, "set_speed", 3.0), (73.0, "set_incline", 2.0)]
    await rig.close()
