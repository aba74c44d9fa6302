"""The interlock alone, on the hostile fake: each invariant of its docstring, directly.

The engine never asks for some of these commands (a start after a stop, a start the
countdown did not release); these tests make sure the interlock refuses them anyway,
since other sources (voice, the card, device actions) will ask.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Coroutine
from typing import Any

import pytest

from custom_components.treadreverse.programme.events import Direction
from custom_components.treadreverse.programme.interlock import (
    Interlock,
    InterlockError,
    Origin,
    Refusal,
    Verb,
)
from custom_components.treadreverse.treadmill.base import CommandError, CommandFailure

from .fake import FakeTreadmill, FastClock

P = Origin.PERSON


class Bench:
    """An interlock on a hostile fake treadmill in virtual time."""

    def __init__(self, **fake: Any) -> None:
        """Build the clock, the fake and the interlock (cap 4 km/h)."""
        self.clock = FastClock()
        self.tm = FakeTreadmill(self.clock, **fake)
        self.lock = Interlock(self.tm, self.clock, max_backward_speed=4.0, may_move=lambda: True)

    async def run(self, seconds: float) -> None:
        """Let virtual time pass."""
        await self.clock.advance(seconds)

    async def do(self, coro: Coroutine[Any, Any, None]) -> None:
        """Await a command while virtual time passes (replies may come late)."""
        task = asyncio.get_running_loop().create_task(coro)
        while not task.done():
            await self.clock.advance(0.25)
        await task

    async def started(self, speed: float = 3.0) -> None:
        """Start the belt as a released countdown does, and let it reach its speed."""
        self.lock.release_start()
        await self.do(self.lock.start(P, speed))
        await self.run(5)

    def names(self) -> list[str]:
        """Return the commands written, in order."""
        return [c.name for c in self.tm.log]


@pytest.fixture
async def bench() -> AsyncGenerator[Bench]:
    """Return a fresh bench and stop its fake's reports afterwards."""
    made = Bench()
    yield made
    made.lock.close()
    made.tm.close()


async def test_start_needs_the_countdown(bench: Bench) -> None:
    """Rule 9: no START the countdown did not release; nothing is written."""
    with pytest.raises(InterlockError) as refused:
        await bench.lock.start(P, 2.0)
    assert refused.value.refusal is Refusal.START_NOT_RELEASED
    assert bench.tm.log == []
    bench.lock.release_start()
    bench.lock.withdraw_start()  # a cancelled countdown withdraws it
    with pytest.raises(InterlockError):
        await bench.lock.start(P, 2.0)
    assert bench.tm.log == []


async def test_start_sets_the_speed_first(bench: Bench) -> None:
    """Rule 3: START always follows a confirmed speed."""
    await bench.started(2.0)
    assert [(c.name, c.value) for c in bench.tm.log] == [("set_speed", 2.0), ("start", None)]
    assert bench.tm.running


async def test_after_a_stop_only_a_person_starts_again(bench: Bench) -> None:
    """Rule 7: the stop latch refuses START until a person's start or resume lifts it."""
    await bench.started()
    await bench.lock.stop(P)
    assert bench.lock.latched
    bench.lock.release_start()
    with pytest.raises(InterlockError) as refused:
        await bench.lock.start(Origin.AUTOMATION, 2.0)
    assert refused.value.refusal is Refusal.STOP_LATCHED
    with pytest.raises(InterlockError):
        await bench.lock.set_speed(P, 5.0)  # a raise: refused while latched
    assert bench.names() == ["set_speed", "start", "stop"]
    bench.lock.lift_latch(Origin.AUTOMATION)  # an automation cannot lift it
    assert bench.lock.latched
    bench.lock.lift_latch(P)
    await bench.lock.start(P, 2.0)
    assert bench.names()[-2:] == ["set_speed", "start"]


async def test_a_command_waiting_for_its_turn_is_superseded_by_a_stop() -> None:
    """Rule 7: a command queued in the interlock never goes out after a stop."""
    bench = Bench(reply_latency=1.0)
    await bench.started()
    results: list[BaseException | None] = []

    async def attempt(coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except CommandError as err:
            results.append(err)
        else:
            results.append(None)

    loop = asyncio.get_running_loop()
    first = loop.create_task(attempt(bench.lock.set_speed(P, 3.5)))  # on the wire
    await bench.clock.advance(0)
    second = loop.create_task(attempt(bench.lock.set_speed(P, 2.0)))  # waits its turn
    await bench.clock.advance(0)
    stop = loop.create_task(bench.lock.stop(P))
    await bench.run(5)
    await asyncio.gather(first, second, stop)
    assert [(c.name, c.value) for c in bench.tm.log[-2:]] == [("set_speed", 3.5), ("stop", None)]
    failure = results[1]
    assert isinstance(failure, CommandError)
    assert failure.failure is CommandFailure.SUPERSEDED
    bench.lock.close()
    bench.tm.close()


async def test_start_waits_three_seconds_after_an_incline_raise(bench: Bench) -> None:
    """Rule 4: a start is a speed raise, so not within 3 s of an incline raise."""
    await bench.started()
    await bench.lock.pause(P)
    bench.tm.console_start()
    await bench.run(1)
    bench.tm.console_incline(2.0)  # the person raises the incline on the console
    await bench.lock.pause(P)
    bench.lock.lift_latch(P)
    bench.lock.release_start()
    with pytest.raises(InterlockError) as refused:
        await bench.lock.start(P, 3.0)
    assert refused.value.refusal is Refusal.RAISE_TOO_SOON
    await bench.run(3)
    bench.lock.release_start()
    await bench.lock.start(P, 3.0)


async def test_a_stop_while_backward_leaves_no_stored_speed_above_the_cap() -> None:
    """Rule 3: stopped while turning to backward, the stored target is lowered to the cap."""
    bench = Bench(stop_keeps_target=True)
    await bench.started(6.0)  # forward at 6 km/h
    bench.lock.set_direction(Direction.TURNING)
    await bench.lock.stop(P)
    assert bench.names() == ["set_speed", "start", "stop", "set_speed"]
    assert bench.tm.log[-1].value == 4.0
    assert bench.tm.target <= 4.0  # a restart from the console resumes at or below the cap
    bench.lock.close()
    bench.tm.close()


async def test_a_pause_while_backward_lowers_the_stored_speed_first(bench: Bench) -> None:
    """Rule 3: before a pause with the person about to face backward, the target is capped."""
    await bench.started(6.0)
    bench.lock.set_direction(Direction.FORWARD, about_backward=True)
    await bench.lock.pause(P)
    assert [(c.name, c.value) for c in bench.tm.log[-2:]] == [("set_speed", 4.0), ("pause", None)]
    bench.tm.console_start()
    await bench.run(10)
    assert bench.tm.speed <= 4.0


async def test_above_the_cap_is_refused_never_clipped(bench: Bench) -> None:
    """Rule 3: a speed above the cap while backward is refused, nothing written."""
    await bench.started(2.0)
    bench.lock.set_direction(Direction.BACKWARD)
    written = len(bench.tm.log)
    with pytest.raises(InterlockError) as refused:
        await bench.lock.set_speed(P, 4.5)
    assert refused.value.refusal is Refusal.ABOVE_BACKWARD_CAP
    assert refused.value.placeholders == {"value": "4.5", "cap": "4.0"}
    assert len(bench.tm.log) == written


async def test_nothing_rises_in_a_turn(bench: Bench) -> None:
    """Rules 1 and 4: neither speed nor incline rises during a turn; lowering is fine."""
    await bench.started(3.0)
    bench.lock.set_direction(Direction.TURNING)
    for ask, refusal in (
        (bench.lock.set_incline(P, 3.0), Refusal.INCLINE_IN_TURN),
        (bench.lock.set_speed(P, 3.5), Refusal.SPEED_IN_TURN),
    ):
        with pytest.raises(InterlockError) as refused:
            await ask
        assert refused.value.refusal is refusal
    await bench.lock.set_speed(P, 1.0)
    assert bench.tm.log[-1].value == 1.0


async def test_control_taken_back_refuses_all_but_stop_and_pause(bench: Bench) -> None:
    """Rule 10: after the console takes control, only stop and pause are asked for."""
    await bench.started(3.0)
    bench.tm.control_lost()
    for ask in (bench.lock.set_speed(P, 2.0), bench.lock.set_incline(P, 1.0)):
        with pytest.raises(InterlockError) as refused:
            await ask
        assert refused.value.refusal is Refusal.CONSOLE_HAS_CONTROL
    await bench.lock.pause(P)
    assert bench.names()[-1] == "pause"
    await bench.lock.take_control(P)
    assert not bench.lock.control_taken_back


async def test_a_failed_reply_forgets_the_stored_target() -> None:
    """A lost reply may or may not have landed: the target is unknown, never assumed."""
    bench = Bench()
    await bench.started(3.0)
    bench.tm.lose_reply("set_speed")
    task = asyncio.get_running_loop().create_task(bench.lock.set_speed(P, 2.0))
    await bench.run(6)
    with pytest.raises(CommandError):
        await task
    assert bench.lock.stored_target is None
    bench.lock.close()
    bench.tm.close()


async def test_a_pause_jumps_a_command_whose_reply_is_lost() -> None:
    """Rule 1: a pause with nothing to lower first goes out at once, not after a lost reply.

    Behind a set_incline whose reply never comes it would wait out the reply timeout: a
    turn's timeout pause came 2 s after the rule's bound (soak-properties, seed 20261203).
    """
    bench = Bench()
    await bench.started(3.0)
    bench.tm.lose_reply("set_incline")
    incline = asyncio.get_running_loop().create_task(bench.lock.set_incline(P, 1.0))
    await bench.run(0.5)
    pause = asyncio.get_running_loop().create_task(bench.lock.pause(Origin.SAFETY))
    await bench.run(0.5)
    assert bench.names()[-2:] == ["set_incline", "pause"]
    assert pause.done()
    await pause
    await bench.run(6)
    with pytest.raises(CommandError):
        await incline
    bench.lock.close()
    bench.tm.close()


async def test_a_console_start_outlives_a_late_pause_reply() -> None:
    """A person's console start while our pause's reply is late: the belt counts as running.

    The late reply took it for paused again, and the programme's next speed was refused as
    a raise at rest (soak-properties, seed 20261203).
    """
    bench = Bench()
    await bench.started(3.0)
    bench.tm.late_reply("pause", 1.2)
    pause = asyncio.get_running_loop().create_task(bench.lock.pause(Origin.SAFETY))
    await bench.run(0.5)
    assert not bench.lock.running
    bench.tm.console_start()
    await bench.run(1.0)
    await pause
    assert bench.lock.running
    await bench.do(bench.lock.set_speed(P, 3.5))  # no raise at rest: the belt runs
    bench.lock.close()
    bench.tm.close()


async def test_a_target_is_judged_against_one_on_its_way() -> None:
    """Rule 4: behind a lowering still in flight, a target above it is a raise.

    A person lowered the incline to 0 while the programme's ramp stepped down from 3: the
    ramp's step to 2 was judged a lowering, then written after the 0 as a raise 1.5 s
    after a speed raise, and refused (soak-properties, seed 20261203).
    """
    bench = Bench()
    await bench.started(3.0)
    await bench.do(bench.lock.set_incline(P, 3.0))
    bench.tm.late_reply("set_incline", 1.0)
    lowering = asyncio.get_running_loop().create_task(bench.lock.set_incline(P, 0.0))
    await bench.run(0.25)
    assert bench.lock.is_raise(Verb.SET_INCLINE, 2.0)
    assert not bench.lock.is_raise(Verb.SET_INCLINE, 0.0)
    await bench.run(1.0)
    await lowering
    assert bench.lock.is_raise(Verb.SET_INCLINE, 2.0)
    bench.lock.close()
    bench.tm.close()


async def test_a_pause_lowers_a_raise_still_on_its_way() -> None:
    """Rule 3: a pause as a turn begins waits to lower a speed raise still in flight.

    The pause with nothing to lower jumps the queue; a person's 6.0 whose reply was late
    counted as nothing to lower, and the paused belt kept 6.0 stored with the person about
    to face backward (cap 4; found by an adversarial review).
    """
    bench = Bench()
    await bench.started(2.0)
    bench.tm.late_reply("set_speed", 1.0)
    raising = asyncio.get_running_loop().create_task(bench.lock.set_speed(P, 6.0))
    await bench.run(0.25)
    bench.lock.set_direction(Direction.TURNING)
    await bench.do(bench.lock.pause(Origin.SAFETY))
    await bench.run(2)
    await raising
    assert bench.names()[-3:] == ["set_speed", "set_speed", "pause"]
    assert bench.tm.target <= 4.0
    bench.lock.close()
    bench.tm.close()


async def test_a_start_waiting_for_its_turn_is_superseded_by_a_pause() -> None:
    """Rule 6: a start asked before a pause and still waiting never goes out after it."""
    bench = Bench()
    await bench.started(2.0)
    bench.tm.lose_reply("set_speed")
    stuck = asyncio.get_running_loop().create_task(bench.lock.set_speed(P, 1.5))
    await bench.run(0.25)
    bench.lock.release_start()
    start = asyncio.get_running_loop().create_task(bench.lock.start(P, 1.5))
    await bench.run(0.25)
    await bench.do(bench.lock.pause(P))
    await bench.run(6)
    with pytest.raises(CommandError):
        await stuck
    with pytest.raises(CommandError) as superseded:
        await start
    assert superseded.value.failure is CommandFailure.SUPERSEDED
    assert bench.names()[-2:] == ["set_speed", "pause"]
    bench.lock.close()
    bench.tm.close()
