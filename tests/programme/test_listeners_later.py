"""Listeners hear a boundary after its belt commands went out, in order (the scale figure).

With many treadmills in one Home Assistant, every boundary due at the same instant runs
in one loop pass. Each engine's listeners (entities, bus events, speakers) cost about a
millisecond; told at once, the last treadmill's command waited behind all the others'
listeners, and a start (its speed's reply comes back through the loop) behind them all.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import heapq

import pytest

from custom_components.treadreverse.programme.events import CueType, EngineEvent, EventType
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import Programme
from custom_components.treadreverse.programme.session import SessionRecord
from custom_components.treadreverse.treadmill.clock import settle

from .fake import CAPS, FakeTreadmill, FastClock
from .rig import RigBase, programme, seg

OPTIONS = EngineOptions(start_countdown=5, cue_lead_time=5)
TURNING = programme(
    seg("forward", duration=30, speed=3.0),
    seg("backward", duration=30, speed=2.0),
)
TWO_SPEEDS = programme(
    seg("forward", duration=30, speed=3.0),
    seg("forward", duration=30, speed=4.0),
)


class OnePassClock(FastClock):
    """Run timers as asyncio does: those due at one instant in one pass.

    A timer set in a pass for a moment already past (a lead cue of a short segment) runs
    in the next pass, with what the first one scheduled (call_soon), not after it all.
    """

    async def advance(self, seconds: float) -> None:
        """Move time forward; callbacks due at the same instant share one pass."""
        target = self._now + timedelta(seconds=seconds)
        await settle(self.rounds)
        while True:
            if self._heap and self._heap[0][0] <= self._now:
                batch = []
                while self._heap and self._heap[0][0] <= self._now:
                    batch.append(heapq.heappop(self._heap))
                for _, ident, callback in batch:
                    if ident in self._cancelled:
                        self._cancelled.discard(ident)
                        continue
                    callback()
                await asyncio.sleep(0)  # one pass: what the batch scheduled runs
                continue
            await settle(self.rounds)
            if self._heap and self._heap[0][0] <= self._now:
                continue
            if not self._heap or self._heap[0][0] > target:
                break
            self._now = self._heap[0][0]
        self._now = target
        await settle(self.rounds)


def _rigs(count: int, **fake: object) -> tuple[OnePassClock, list[RigBase]]:
    """Return `count` engines on one clock, each on its own treadmill replying via the loop."""
    clock = OnePassClock()
    rigs = [
        RigBase(clock, FakeTreadmill(clock, CAPS, latency=1.0, **fake), OPTIONS)  # type: ignore[arg-type]
        for _ in range(count)
    ]
    return clock, rigs


def _written(rigs: list[RigBase]) -> list[list[tuple[str, float | None]]]:
    """Return what each treadmill was sent so far."""
    return [[(c.name, c.value) for c in rig.tm.log] for rig in rigs]


async def test_every_treadmills_commands_go_out_before_any_listener_hears() -> None:
    """Starts and speed changes due at one instant: all written before the first listener."""
    clock, rigs = _rigs(3)
    heard: list[tuple[int, str, list[list[tuple[str, float | None]]]]] = []
    for number, rig in enumerate(rigs):
        rig.engine.add_listener(
            lambda event, number=number: heard.append((number, str(event.type), _written(rigs)))
        )
        await rig.engine.start(TWO_SPEEDS, key=None)
    await rigs[0].run(6)
    starts = [(n, sent) for n, kind, sent in heard if kind == "interval_started"]
    assert [n for n, _ in starts] == [0, 1, 2]
    for _, sent in starts:
        # The start of every treadmill, its speed confirmed first (rule 3), is out.
        assert all(log[-2:] == [("set_speed", 3.0), ("start", None)] for log in sent), sent
    heard.clear()
    await rigs[0].run(30)
    changes = [(n, sent) for n, kind, sent in heard if kind == "interval_started"]
    assert [n for n, _ in changes] == [0, 1, 2]
    for _, sent in changes:
        assert all(log[-1] == ("set_speed", 4.0) for log in sent), sent
    del clock


async def test_what_is_told_later_keeps_its_order_and_time() -> None:
    """A stop while the start's reply is late: the start's events first, then the stop's."""
    _, (rig,) = _rigs(1)
    told: list[EngineEvent | SessionRecord] = []
    rig.engine.add_listener(told.append)
    rig.engine.add_session_listener(told.append)
    rig.tm.late_reply("start", 2.0)
    await rig.engine.start(TWO_SPEEDS, key=None)
    await rig.run(5)
    end = rig.start + timedelta(seconds=5)
    kinds = [e.type for e in told if isinstance(e, EngineEvent)]
    # The countdown's end is told once START is out and answered; nothing before.
    assert EventType.INTERVAL_STARTED not in kinds
    assert rig.commands()[-1] == (5.0, "start", None)
    await rig.run(1)
    await rig.engine.stop()
    await settle()
    names = [str(e.type) if isinstance(e, EngineEvent) else "session" for e in told]
    # Still on its way when the stop came: the start's events first, then the stop's,
    # then the session they end.
    assert names.index("interval_started") < names.index("programme_aborted")
    assert names[-1] == "session"
    assert "session" not in names[:-1]
    started = next(
        e for e in told if isinstance(e, EngineEvent) and e.type is EventType.INTERVAL_STARTED
    )
    assert started.at == end  # said at the countdown's end, heard once the start was out
    assert rig.types() == names[:-1]  # the trace (as said) and the listeners agree


async def test_a_lost_start_reply_is_told_before_its_failure() -> None:
    """The start's events wait for START; its failure and the pause come after them."""
    _, (rig,) = _rigs(1)
    told: list[str] = []
    rig.engine.add_listener(lambda event: told.append(str(event.type)))
    rig.tm.lose_reply("start")
    await rig.engine.start(TWO_SPEEDS, key=None)
    await rig.run(5.5)
    assert "interval_started" not in told  # START is on its way: its reply is awaited
    await rig.run(6)
    assert told.index("interval_started") < told.index(str(CueType.COMMAND_FAILED))
    assert told.index(str(CueType.COMMAND_FAILED)) < told.index("programme_paused")
    assert told == rig.types()


@pytest.mark.parametrize("late", [0.3, 2.0, 4.0])
async def test_a_turn_cue_is_heard_when_said_while_a_start_is_on_its_way(late: float) -> None:
    """Resumed near a turn, the fresh turn cue is heard a full lead ahead (rule 2).

    Its cue comes due as the countdown ends, while START is with a treadmill that answers
    slowly; waiting for START with the countdown's news, it was heard 0.6-4 s late and
    the turn came on time: 4.4 s of warning, then 1, then none.
    """
    _, (rig,) = _rigs(1)
    rig.engine._options = OPTIONS
    heard: list[tuple[float, str]] = []
    rig.engine.add_listener(lambda event: heard.append((rig.t(), str(event.type))))
    await rig.engine.start(TURNING, key=None)
    await rig.run(31)  # the countdown ends at 5, the turn cue is said at 30 (turn at 35)
    assert "turn_around_soon" in [kind for _, kind in heard]
    await rig.engine.pause()  # the person pauses when told to turn
    await rig.run(9)
    rig.tm.late_reply("set_speed", late)
    rig.tm.late_reply("start", late)
    heard.clear()
    await rig.engine.resume()
    await rig.run(15, step=0.1)
    said = [e for e in rig.events if e.type is EventType.TURN_AROUND_SOON][-1]
    cue = next(t for t, kind in heard if kind == "turn_around_soon")
    slow = next(t for t, kind in heard if kind == "slow_down")
    assert cue == pytest.approx(rig.t(said.at))
    assert slow - cue >= OPTIONS.cue_lead_time - 1e-6, (cue, slow)
    assert not rig.late_cues()


async def test_a_programme_started_in_the_pass_that_ended_the_last_is_told_after_it() -> None:
    """The last programme's end is told before the next begins, with its own figures."""
    clock, (rig,) = _rigs(1)
    seen: list[tuple[str, str | None, str]] = []

    def hear(event: EngineEvent) -> None:
        snapshot = rig.engine.snapshot()
        seen.append((str(event.type), snapshot.programme_name, str(snapshot.status)))

    rig.engine.add_listener(hear)
    short = programme(seg("forward", duration=10, speed=3.0))
    await rig.engine.start(short, key=None)
    end = rig.start + timedelta(seconds=15)
    follow = Programme.from_dict({"name": "Next", "segments": [seg("forward", speed=2.0)]})
    started: list[asyncio.Task[None]] = []

    def start_next() -> None:  # an automation's start, in the pass the timer ended it
        coro = rig.engine.start(follow, key=None, wait_for_person=True)
        started.append(asyncio.get_running_loop().create_task(coro, eager_start=True))

    # Queued after the programme's own end (timers due together run in the order set).
    clock.call_at(rig.start + timedelta(seconds=6), lambda: clock.call_at(end, start_next))
    await rig.run(16)
    assert started
    assert started[0].done()
    assert started[0].exception() is None
    completed = [s for s in seen if s[0] == "programme_completed"]
    assert completed == [("programme_completed", "T", "completed")]
    names = [kind for kind, _, _ in seen]
    assert names.index("programme_completed") < names.index("programme_started", 1)


async def test_a_timer_with_nothing_to_tell_leaves_the_start_first() -> None:
    """Short segments: their lead-cue timer (nothing to say) comes due with the start.

    Due at once, it runs in the pass after the countdown's end, before the start's speed
    is answered (1 ms later); it must not let the countdown's news out ahead of START.
    """
    clock, rigs = _rigs(3, reply_latency=0.001)
    short = programme(seg("forward", duration=2, speed=3.0), seg("forward", duration=2, speed=4.0))
    heard: list[tuple[int, list[list[tuple[str, float | None]]]]] = []
    for number, rig in enumerate(rigs):
        rig.engine.add_listener(
            lambda event, number=number: (
                heard.append((number, _written(rigs)))
                if event.type is EventType.INTERVAL_STARTED
                else None
            )
        )
        await rig.engine.start(short, key=None)
    await rigs[0].run(6)
    assert [n for n, _ in heard] == [0, 1, 2]
    for _, sent in heard:
        assert all(log[-2:] == [("set_speed", 3.0), ("start", None)] for log in sent), sent
    del clock


async def test_a_broken_session_listener_stops_neither_the_others_nor_what_follows() -> None:
    """A session listener that raises: the next one still gets the record, the cues go on."""
    _, (rig,) = _rigs(1)
    got: list[SessionRecord] = []

    def broken(_record: SessionRecord) -> None:
        raise RuntimeError("broken listener")

    rig.engine.add_session_listener(broken)
    rig.engine.add_session_listener(got.append)
    await rig.engine.start(programme(seg("forward", duration=10, speed=3.0)), key=None)
    await rig.run(20)
    assert len(got) == 1
    assert rig.types()[-2:] == ["programme_completed", "summary"]
    heard = [str(event.type) for event, _ in rig.heard]
    assert heard[-2:] == ["programme_completed", "summary"]
