"""The fake treadmill itself: the kind default and each hostile behaviour, without an engine."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from custom_components.treadreverse.treadmill.base import (
    CommandError,
    CommandFailure,
    LiveData,
    MachineEvent,
    MachineEventType,
)

from .fake import BeltState, FakeTreadmill, FastClock


@pytest.fixture
def clock() -> FastClock:
    """Return a virtual clock."""
    return FastClock()


def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Run a command in the background."""
    return asyncio.ensure_future(coro)


def failure(task: asyncio.Task[None]) -> CommandFailure | None:
    """Return how a finished command failed (None when it was confirmed)."""
    error = task.exception()
    if error is None:
        return None
    assert isinstance(error, CommandError)
    return error.failure


async def test_default_replies_at_once_and_applies(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    await tm.set_speed(3.0)
    await tm.start()
    assert tm.running
    assert tm.target == 3.0
    assert [c.name for c in tm.log] == ["set_speed", "start"]
    assert [item.name for kind, item in tm.trace if kind == "cmd"] == ["set_speed", "start"]
    await clock.advance(5)
    assert tm.speed == 3.0
    await tm.stop()
    assert tm.target == 0.0  # the default stop forgets the target
    assert not tm.control_taken_back
    tm.close()


async def test_start_without_target_uses_the_minimum(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    await tm.start()
    assert tm.target == 0.5
    tm.close()


async def test_pause_then_console_start_resumes_at_stored_target(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    await tm.set_speed(3.0)
    await tm.start()
    await clock.advance(5)
    await tm.pause()
    await clock.advance(5)
    assert tm.speed == 0.0
    assert tm.target == 3.0
    tm.console_start()
    await clock.advance(5)
    assert tm.speed == 3.0
    tm.close()


async def test_start_resumes_at_stored_target_below_the_minimum(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    await tm.set_speed(0.3)
    await tm.start()
    assert tm.target == 0.3  # a stored target is used as it is
    tm.close()


async def test_set_speed_while_paused_only_stores(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    await tm.set_speed(2.0)
    await tm.start()
    await clock.advance(3)
    await tm.pause()
    await tm.set_speed(6.0)
    await clock.advance(5)
    assert not tm.running
    assert tm.speed == 0.0
    await tm.start()
    await clock.advance(10)
    assert tm.speed == 6.0
    tm.close()


async def test_stop_keeps_target_when_hostile(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, stop_keeps_target=True)
    await tm.set_speed(4.0)
    await tm.start()
    await tm.stop()
    assert not tm.running
    assert tm.target == 4.0
    tm.console_start()
    await clock.advance(6)
    assert tm.speed == 4.0
    tm.close()


async def test_reply_latency_applies_at_write_and_returns_late(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, reply_latency=0.5)
    task = spawn(tm.set_speed(3.0))
    await clock.advance(0)
    assert tm.target == 3.0  # the effect landed at the write
    assert len(tm.log) == 1
    await clock.advance(0.4)
    assert not task.done()
    await clock.advance(0.1)
    assert task.done()
    assert failure(task) is None
    assert [(name, fail) for _, name, fail in tm.replies] == [("set_speed", None)]
    tm.close()


async def test_apply_delay_lands_the_effect_later(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, reply_latency=0.2, apply_delay=1.0)
    task = spawn(tm.set_speed(3.0))
    await clock.advance(0.5)
    assert task.done()
    assert tm.target == 0.0  # confirmed, but not yet on the machine
    await clock.advance(0.5)
    assert tm.target == 3.0
    tm.close()


async def test_lost_reply_times_out_after_5s_but_took_effect(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.lose_reply("start")
    task = spawn(tm.start())
    await clock.advance(0)
    assert tm.running  # the belt started anyway
    await clock.advance(4.9)
    assert not task.done()
    await clock.advance(0.1)
    assert failure(task) is CommandFailure.TIMEOUT
    await tm.start()  # only one reply was lost
    tm.close()


async def test_lost_replies_count_down(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, reply_latency=0.1)
    tm.lose_reply("set_speed", times=2)
    first = spawn(tm.set_speed(2.0))
    second = spawn(tm.set_speed(2.5))
    await clock.advance(0)
    third = spawn(tm.set_speed(3.0))
    await clock.advance(1)
    assert third.done()
    assert not first.done()
    await clock.advance(5)
    assert failure(first) is failure(second) is CommandFailure.TIMEOUT
    assert tm.target == 3.0
    tm.close()


async def test_late_reply(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.late_reply("set_incline", 3.5)
    task = spawn(tm.set_incline(2.0))
    await clock.advance(3.4)
    assert tm.incline == 2.0
    assert not task.done()
    await clock.advance(0.1)
    assert failure(task) is None
    tm.close()


async def test_late_reply_beyond_the_timeout_is_a_timeout(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.late_reply("pause", 8.0)
    task = spawn(tm.pause())
    await clock.advance(5)
    assert failure(task) is CommandFailure.TIMEOUT
    tm.close()


async def test_reordered_replies(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, reply_latency=0.5)
    done: list[str] = []

    async def run(name: str, coro: Coroutine[Any, Any, None]) -> None:
        await coro
        done.append(name)

    tm.reorder_next()
    first = spawn(run("set_speed", tm.set_speed(3.0)))
    await clock.advance(0.2)
    second = spawn(run("set_incline", tm.set_incline(1.0)))
    await clock.advance(1)
    assert first.done()
    assert second.done()
    assert done == ["set_incline", "set_speed"]
    assert [name for _, name, _ in tm.replies] == ["set_incline", "set_speed"]
    assert [c.name for c in tm.log] == ["set_speed", "set_incline"]
    # Then back in order.
    third = spawn(run("pause", tm.pause()))
    await clock.advance(0.1)
    fourth = spawn(run("stop", tm.stop()))
    await clock.advance(1)
    assert third.done()
    assert fourth.done()
    assert done[2:] == ["pause", "stop"]
    tm.close()


async def test_reordered_replies_without_latency(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.reorder_next()
    first = spawn(tm.set_speed(3.0))
    await clock.advance(0)
    assert not first.done()  # held until the next reply
    await tm.set_incline(1.0)
    await clock.advance(0)
    assert first.done()
    assert [name for _, name, _ in tm.replies] == ["set_incline", "set_speed"]
    tm.close()


async def test_a_held_reply_times_out_when_nothing_follows(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.reorder_next()
    task = spawn(tm.start())
    await clock.advance(5)
    assert failure(task) is CommandFailure.TIMEOUT
    assert tm.running
    tm.close()


async def test_refused_command_has_no_effect(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, reply_latency=0.3)
    tm.failures["set_speed"] = CommandFailure.OPERATION_FAILED
    task = spawn(tm.set_speed(5.0))
    await clock.advance(1)
    assert failure(task) is CommandFailure.OPERATION_FAILED
    assert tm.target == 0.0
    assert tm.log[-1].name == "set_speed"
    tm.close()


async def test_refused_at_once_by_default(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.failures["start"] = CommandFailure.CONTROL_NOT_PERMITTED
    with pytest.raises(CommandError) as err:
        await tm.start()
    assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert not tm.running
    tm.close()


async def test_control_taken_back_refuses_until_request_control(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    events: list[MachineEvent] = []
    tm.subscribe(on_event=events.append)
    await tm.set_speed(3.0)
    await tm.start()
    tm.control_lost()
    assert tm.control_taken_back
    assert events[-1].type is MachineEventType.CONTROL_LOST
    for command in (tm.set_speed(5.0), tm.set_incline(2.0), tm.start()):
        with pytest.raises(CommandError) as err:
            await command
        assert err.value.failure is CommandFailure.CONTROL_NOT_PERMITTED
    assert tm.target == 3.0
    assert tm.incline == 0.0
    await tm.pause()  # a pause asks for control again and is accepted
    assert not tm.running
    await tm.stop()
    assert tm.control_taken_back  # still: only request_control ends it
    assert [name for _, name in tm.control_requests] == ["pause", "stop"]
    await tm.request_control()
    assert not tm.control_taken_back
    await tm.set_speed(4.0)
    assert tm.target == 4.0
    assert "request_control" not in [c.name for c in tm.log]
    assert "request_control" in [item.name for kind, item in tm.trace if kind == "cmd"]
    tm.close()


async def test_request_control_needs_the_link(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.control_lost()
    tm.drop_link()
    with pytest.raises(CommandError) as err:
        await tm.request_control()
    assert err.value.failure is CommandFailure.DISCONNECTED
    assert tm.control_taken_back
    tm.close()


async def test_frozen_and_reset_distance(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    data: list[LiveData] = []
    tm.subscribe(on_data=data.append)
    await tm.set_speed(3.6)  # 1 m/s
    await tm.start()
    await clock.advance(10)
    moving = data[-1].distance
    assert moving is not None
    assert moving > 0
    tm.freeze_distance(True)
    await clock.advance(10)
    assert data[-1].distance == moving
    assert tm.distance > moving + 9  # the belt still moved
    tm.freeze_distance(False)
    await clock.advance(5)
    assert data[-1].distance == pytest.approx(moving + 5, abs=0.2)
    tm.reset_distance()
    await clock.advance(0)
    await clock.advance(3)
    assert data[-1].distance == pytest.approx(3.0, abs=0.2)
    tm.close()


@pytest.mark.parametrize("applied", [True, False])
async def test_link_drops_during_a_command(clock: FastClock, applied: bool) -> None:
    tm = FakeTreadmill(clock, reply_latency=0.5)
    events: list[MachineEvent] = []
    tm.subscribe(on_event=events.append)
    tm.drop_link_during("set_speed", applied=applied)
    other = spawn(tm.set_incline(1.0))
    await clock.advance(0.1)
    task = spawn(tm.set_speed(3.0))
    await clock.advance(0.2)
    assert tm.connected
    await clock.advance(0.4)
    assert other.done()  # replied before the drop
    assert failure(other) is None
    assert failure(task) is CommandFailure.DISCONNECTED
    assert not tm.connected
    assert events[-1].type is MachineEventType.DISCONNECTED
    assert tm.target == (3.0 if applied else 0.0)
    assert tm.log[-1].name == "set_speed"
    tm.close()


async def test_link_drop_without_latency(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    tm.drop_link_during("start")
    with pytest.raises(CommandError) as err:
        await tm.start()
    assert err.value.failure is CommandFailure.DISCONNECTED
    assert tm.running
    assert not tm.connected
    with pytest.raises(CommandError):
        await tm.stop()  # nothing reaches a dropped link
    tm.reconnect()
    await tm.stop()
    assert not tm.running
    tm.close()


async def test_a_dropped_link_fails_replies_in_flight(clock: FastClock) -> None:
    tm = FakeTreadmill(clock, reply_latency=1.0)
    task = spawn(tm.start())
    await clock.advance(0.5)
    tm.drop_link()
    await clock.advance(0)
    assert failure(task) is CommandFailure.DISCONNECTED
    assert tm.running  # the belt keeps doing what it did
    tm.close()


async def test_belt_trace_records_the_true_state(clock: FastClock) -> None:
    tm = FakeTreadmill(clock)
    await tm.set_speed(2.0)
    await tm.start()
    await clock.advance(3)
    tm.console_speed(5.0)
    await clock.advance(1)
    tm.safety_key()
    states = tm.belt_trace
    assert all(isinstance(state, BeltState) for state in states)
    assert any(s.running and s.target == 2.0 for s in states)
    assert any(s.target == 5.0 and s.speed == pytest.approx(3.0) for s in states)
    assert states[-1].speed == 0.0
    assert not states[-1].running
    assert [s.at for s in states] == sorted(s.at for s in states)
    assert [what for _, what in tm.faults] == ["console_speed 5.0", "safety_key"]
    assert tm.history[-1] == (states[-1].at, 0.0)
    tm.close()
