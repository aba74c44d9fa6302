"""Rule 2: a turn begins only once its turn cue was accepted by a working speaker.

A speaker may take seconds to accept a cue (Google Cast adds up to ~4 s before audio):
the turn waits for the receipt up to 10 s past its planned moment, then falls back to
pause-and-wait. Judged on the belt's true state (the hostile fake), not the engine's word.
"""

from __future__ import annotations

from custom_components.treadreverse.programme.compiler import compile_programme
from custom_components.treadreverse.programme.engine import CUE_RECEIPT_WAIT_S
from custom_components.treadreverse.programme.events import Direction, EventType, ProgrammeStatus
from custom_components.treadreverse.programme.options import EngineOptions

from .fake import CAPS
from .rig import Rig, programme, seg

S = ProgrammeStatus
OPTIONS = EngineOptions(cue_lead_time=5, turn_speed=1.0, max_backward_speed=3.0)
PLAN = programme(seg(duration=30, speed=4.0), seg("backward", duration=30, speed=2.0))


def _first_slow_write(rig: Rig) -> float | None:
    """Return when the turn's slow-down to turn_speed was first written (s since start)."""
    for at, name, value in rig.commands():
        if name == "set_speed" and value == OPTIONS.turn_speed:
            return at
    return None


async def _to_the_cue(rig: Rig) -> float:
    """Run the programme until its turn cue is said; return when (s since start)."""
    await rig.engine.start(PLAN, key=None)
    await rig.run_until(lambda: bool(rig.of(EventType.TURN_AROUND_SOON)), limit=120)
    return rig.t(rig.of(EventType.TURN_AROUND_SOON)[0].at)


async def test_a_late_receipt_holds_the_turn_until_it_comes() -> None:
    """Accepted 8 s after it was said (3 s past the planned turn): the turn begins then."""
    rig = Rig(OPTIONS)
    rig.receipt_delay = 8.0
    said_at = await _to_the_cue(rig)
    await rig.run(7.5)  # 2.5 s past the planned turn: still walking at 4 km/h
    assert rig.engine.status is S.RUNNING
    assert rig.engine.direction is Direction.FORWARD
    assert _first_slow_write(rig) is None
    assert rig.tm.speed >= 4.0 - 1e-6
    await rig.run_until(lambda: rig.engine.direction is Direction.BACKWARD, limit=60)
    slowed = _first_slow_write(rig)
    assert slowed is not None
    assert slowed >= said_at + 8.0 - 1e-6
    assert not [e for e in rig.events if str(e.type) == "wait_at_turn"]
    await rig.close()


async def test_no_receipt_in_10_s_falls_back_to_pause_and_wait() -> None:
    """Never accepted: 10 s past the planned turn the belt pauses and the person is told."""
    rig = Rig(OPTIONS)
    rig.receipt_delay = None
    said_at = await _to_the_cue(rig)
    planned = said_at + OPTIONS.cue_lead_time
    await rig.run(OPTIONS.cue_lead_time + CUE_RECEIPT_WAIT_S - 1.0)
    assert rig.engine.status is S.RUNNING  # 9 s past the turn: still waiting for a receipt
    assert _first_slow_write(rig) is None
    await rig.run_until(lambda: rig.engine.status is S.PAUSED, limit=5)
    paused = [e for e in rig.of(EventType.PROGRAMME_PAUSED) if e.data.get("reason")]
    assert paused[-1].data["reason"] == "wait_at_turn"
    assert rig.t(paused[-1].at) >= planned + CUE_RECEIPT_WAIT_S - 1e-6
    assert _first_slow_write(rig) is None  # never turned without a heard cue
    await rig.run_until(lambda: rig.tm.speed <= 0.05, limit=60)
    await rig.run(2)
    assert [e for e in rig.events if str(e.type) == "wait_at_turn"]
    await rig.close()


async def test_a_receipt_after_the_fallback_changes_nothing() -> None:
    """A receipt arriving after the turn fell back to pause-and-wait does not start a turn."""
    rig = Rig(OPTIONS)
    rig.receipt_delay = OPTIONS.cue_lead_time + CUE_RECEIPT_WAIT_S + 3.0
    await _to_the_cue(rig)
    await rig.run(OPTIONS.cue_lead_time + CUE_RECEIPT_WAIT_S + 8.0)
    assert rig.engine.status is S.PAUSED
    assert _first_slow_write(rig) is None
    await rig.close()


async def test_a_fresh_cue_after_a_pause_needs_its_own_receipt() -> None:
    """The cue said again after a pause is a new one: the old receipt does not count."""
    rig = Rig(OPTIONS)
    said_at = await _to_the_cue(rig)
    assert said_at > 0
    rig.receipt_delay = None  # the speaker goes quiet after the first cue
    await rig.engine.pause()
    await rig.run(3)
    await rig.engine.resume()
    await rig.run_until(lambda: len(rig.of(EventType.TURN_AROUND_SOON)) >= 2, limit=60)
    await rig.run(OPTIONS.cue_lead_time + 2.0)
    assert rig.engine.direction is Direction.FORWARD
    assert rig.engine.status is S.RUNNING
    await rig.close()


async def test_a_distance_segment_never_outlasts_its_bound_waiting_for_a_receipt() -> None:
    """Rule 8 holds too: at a distance segment's bound the turn falls back at once."""
    rig = Rig(OPTIONS)
    rig.receipt_delay = None
    plan = programme(
        {"direction": "forward", "distance": 5, "speed": 3.0},
        seg("backward", duration=30, speed=2.0),
    )
    bound = compile_programme(plan, OPTIONS, CAPS).phases[0].max_duration
    assert bound is not None
    await rig.engine.start(plan, key=None)
    await rig.run_until(lambda: rig.engine.status is S.PAUSED, limit=200, step=0.5)
    record = rig.engine.session
    assert record is not None
    assert record.segments[0].actual_duration_s <= bound + 1e-6
    await rig.close()


async def test_no_turn_cue_is_said_after_a_resumed_turn() -> None:
    """A pause-and-wait cue waiting for the belt to rest is dropped when the person resumes."""
    rig = Rig(OPTIONS, deceleration=0.3)
    rig.receipt_delay = None
    await _to_the_cue(rig)
    await rig.run_until(lambda: rig.engine.status is S.PAUSED, limit=30, step=0.5)
    assert rig.tm.speed > 0.5  # still coasting: the cue waits for the belt to rest
    rig.receipt_delay = 0.0
    await rig.engine.resume()
    await rig.run_until(lambda: rig.engine.direction is Direction.BACKWARD, limit=120)
    await rig.run(10)
    assert not [e for e in rig.events if str(e.type) == "wait_at_turn"]
    await rig.close()
