"""The engine's turns room (rules 1 and 2): lead cues, the cue's receipt, slowing and turning."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import math

from ..treadmill.base import CommandError, DataField, LiveData
from .compiler import TURN_SLOW_TIMEOUT_S, PhaseKind
from .core import _LOGGER, EngineCore
from .events import CueType, Direction, EventType, ProgrammeStatus
from .interlock import AT_REST_KMH, InterlockError, Origin, Verb
from .options import TurnMode
from .run import _SegmentMeter
from .schema import HALF_SQUAT_MAX_S, Posture

TURN_SPEED_TOLERANCE = 0.01  # km/h: the FTMS speed resolution
CUE_RECEIPT_WAIT_S = 10.0  # rule 2: a turn waits this long for its cue to be accepted
DECK_SETTLE_WAIT_S = 60.0  # rule 1: a turn waits at most this long for our incline to settle
DECK_STILL_S = 3.0  # a deck whose reading did not rise for this long has settled
DECK_POLL_S = 0.5  # s between looks at the deck meanwhile


class TurnsMixin(EngineCore):
    """Announce each turn, wait for its cue to be heard, slow the belt and turn."""

    def _say_lead_cues(self, end: datetime) -> None:
        """Say the turn-soon and knee warning cues once, before the phase ends (rule 2)."""
        run = self._run
        assert run is not None
        if run.lead_said:
            return
        run.lead_said = True
        run.lead_said_at = self._clock.now()
        left = max((end - self._clock.now()).total_seconds(), 0.0)
        for step in run.phase.lead_cues:
            if step.cue is EventType.TURN_AROUND_SOON:
                # A fresh cue needs its own receipt (a resume says it again); noted
                # before the listeners hear it, as a speaker may accept it at once.
                cue = self._event(
                    EventType.TURN_AROUND_SOON, {"seconds": round(left, 1), **step.data}
                )
                run.turn_cue, run.turn_cue_heard = cue, not self._cue_receipts
                run.receipt_wait_since = None
                self._tell(cue)
            elif step.cue is not None:
                self._emit(step.cue, **step.data)

    def _end_segment(self, *, skipped: bool, at: datetime) -> None:
        """Close the segment's record and go on at `at` (its planned end: no drift)."""
        run = self._run
        assert run is not None
        self._cancel_timers()
        held = self._turn_held_until()
        if held is not None:
            # The turn cue must come a full lead time before the turn (rule 2), also when
            # a measured distance ran out early (the counter moves in whole metres).
            run.end_held_until = held
            self._schedule_end(held)
            return
        self._say_lead_cues(at)
        if self._wait_for_receipt(skipped=skipped) or self._wait_for_deck(skipped=skipped):
            return
        self._record_segment(skipped=skipped)
        self._next_phase(at)

    def _wait_for_receipt(self, *, skipped: bool) -> bool:
        """Hold the segment's end until a speaker accepted the turn cue (rule 2).

        Up to CUE_RECEIPT_WAIT_S past the planned turn; then the turn goes on as
        pause-and-wait. Return whether the end is held.
        """
        run = self._run
        assert run is not None
        if run.turn_cue is None or run.turn_cue_heard or run.receipt_missed or self.advisory:
            return False
        if not self._speaker_check():
            return False  # no speaker works: _begin_turn pauses and waits anyway
        now = self._clock.now()
        run.receipt_wait_since, give_up = self._hold_since(
            run.receipt_wait_since, CUE_RECEIPT_WAIT_S, "its cue to be accepted by a speaker"
        )
        if now >= give_up:
            run.receipt_missed, run.receipt_wait_since = True, None
            _LOGGER.warning("No speaker accepted the turn cue: pausing at the turn instead")
            return False

        def missed() -> None:
            self._end_segment(skipped=skipped, at=give_up)

        self._at(give_up, missed)
        return True

    def _hold_since(
        self, since: datetime | None, wait_s: float, what: str
    ) -> tuple[datetime, datetime]:
        """Return when a turn began to wait for `what` (now, the first time) and its limit."""
        if since is None:
            since = self._clock.now()
            _LOGGER.info("The turn waits for %s", what)
        return since, self._end_held_at_most(since + timedelta(seconds=wait_s))

    def _end_held_at_most(self, give_up: datetime) -> datetime:
        """Return when a held segment end goes on at the latest, `give_up` or sooner."""
        run = self._run
        assert run is not None
        longest = self._longest(run.phase)
        if longest is not None and run.phase_start is not None:
            # Rule 8 holds too: a distance segment never outlasts its bound, held or not.
            give_up = min(give_up, run.phase_start + timedelta(seconds=longest))
        interval = run.phase.interval
        if interval is not None and interval.segment.posture is Posture.HALF_SQUAT:
            # Rule 5 holds too: a half squat never outlasts its 60 s, held or not.
            now = self._clock.now()
            left = HALF_SQUAT_MAX_S - self._phase_elapsed(now)
            give_up = min(give_up, now + timedelta(seconds=max(left, 0.0)))
        return give_up

    def _wait_for_deck(self, *, skipped: bool) -> bool:
        """Hold the segment's end while our own incline raise climbs and cannot be held.

        Rule 1: the incline never rises in a turn. After the treadmill took control back,
        Home Assistant may only stop or pause (rule 10), and neither stops an incline
        motor: the turn begins once the deck reached the programme's target or stopped
        rising (DECK_STILL_S), within rules 5 and 8 and at most DECK_SETTLE_WAIT_S past
        its moment. Return whether the end is held.
        """
        run = self._run
        assert run is not None
        now = self._clock.now()
        if self._turn_follows() and self._deck_climbs_unheld() and not self._deck_still(now):
            run.deck_wait_since, give_up = self._hold_since(
                run.deck_wait_since, DECK_SETTLE_WAIT_S, "the incline the programme set to settle"
            )
            if now < give_up:
                at = min(now + timedelta(seconds=DECK_POLL_S), give_up)
                self._at(at, lambda: self._end_segment(skipped=skipped, at=at))
                return True
        run.deck_wait_since = run.deck_level = run.deck_rose_at = None
        return False

    def _deck_still(self, now: datetime) -> bool:
        """Return whether the deck's reading has not risen for DECK_STILL_S (it settled)."""
        run = self._run
        assert run is not None
        measured = self._treadmill.data.incline
        if measured is None:
            return True  # _deck_climbs_unheld saw a reading: it went away, nothing to wait on
        if run.deck_level is None or run.deck_rose_at is None or measured > run.deck_level + 1e-6:
            run.deck_level, run.deck_rose_at = measured, now
            return False
        return now - run.deck_rose_at >= timedelta(seconds=DECK_STILL_S)

    def _turn_follows(self) -> bool:
        """Return whether the phase after this one is a turn."""
        run = self._run
        assert run is not None
        phases = run.timeline.phases
        following = run.phase_index + 1
        return following < len(phases) and phases[following].kind is PhaseKind.TURN

    def _deck_climbs_unheld(self) -> bool:
        """Return whether the deck still climbs to our target and no hold may stop it."""
        run = self._run
        assert run is not None
        measured = self._treadmill.data.incline
        target = run.target_incline
        if measured is None or target is None or measured >= target - 1e-6:
            return False
        if self.interlock.incline_target not in (None, target):
            # The deck's target is no longer ours: the person's climb. Unknown (our write's
            # reply lost or cancelled as control was taken back) it may be ours.
            return False
        if not self.advisory:
            return False  # _hold_incline commands the hold
        # Only a deck we set, which control taken back keeps us from holding: without
        # remote control the person sets the incline, and a turn does not wait on them.
        return self.can_control and self.interlock.control_taken_back

    def _turn_held_until(self) -> datetime | None:
        """Return when the segment may end at the earliest, if its turn cue needs longer."""
        run = self._run
        assert run is not None
        lead = self._options.cue_lead_time
        cue = any(step.cue is EventType.TURN_AROUND_SOON for step in run.phase.lead_cues)
        if not cue or lead <= 0:
            return None
        now = self._clock.now()
        if not run.lead_said:
            self._say_lead_cues(now + timedelta(seconds=lead))
        said = run.lead_said_at or now
        earliest = said + timedelta(seconds=lead)
        return earliest if earliest > now + timedelta(microseconds=1000) else None

    def _begin_turn(self, at: datetime, *, resumed: bool = False) -> None:
        """Slow (or pause) the belt; the turn is timed from when it has slowed."""
        run = self._run
        assert run is not None
        run.turn_slowed = False
        run.turn_samples = []
        # A pause-and-wait cue still waiting for the belt to rest is moot once the person
        # resumed: said later, it would tell them to turn after the turn.
        run.wait_cue_pending = False
        self._set_status(ProgrammeStatus.TURNING)
        self._set_direction(Direction.TURNING)
        self._hold_incline()
        if not resumed and (not self._speaker_check() or run.receipt_missed):
            run.receipt_missed = False
            self._wait_at_turn()
            return
        if not resumed or self._belt_may_move():
            # On a resume the link may have dropped as the turn began, or the person
            # restarted the belt: slowed again, whatever the engine believed (finding 9).
            self._slow_down(again=resumed)
        if self.advisory or DataField.SPEED not in self._treadmill.capabilities.fields:
            # Nothing to measure: give the person turn_duration to slow down.
            slowed_at = at + timedelta(seconds=self._options.turn_duration)
            self._at(slowed_at, lambda: self._turn_slowed(slowed_at))
            return
        self._at(at + timedelta(seconds=TURN_SLOW_TIMEOUT_S), self._turn_timeout)

    def _hold_incline(self) -> None:
        """Stop an incline still rising toward its target: it never rises in a turn (rule 1)."""
        run = self._run
        assert run is not None
        rng = self._treadmill.capabilities.incline
        measured = self._treadmill.data.incline
        target = run.target_incline
        if rng is None or measured is None or target is None or measured >= target - 1e-6:
            return
        steps = math.floor((measured - rng.minimum) / rng.step + 1e-9) if rng.step > 0 else 0
        hold = max(rng.minimum, min(rng.minimum + steps * rng.step, target))
        if not self.advisory:
            run.target_incline = hold
            self._command(Verb.SET_INCLINE, hold, Origin.SAFETY)
        elif self.can_control and self.interlock.incline_target == target:
            # Advisory after a console change of the speed: the deck still climbs to the
            # programme's own target, which the person did not choose; held all the same.
            run.target_incline = hold
            self._own(self._spawn_hold(hold))

    def _spawn_hold(self, hold: float) -> asyncio.Task[None]:
        """Send an advisory turn's incline hold through the interlock; a refusal is logged."""

        async def send() -> None:
            try:
                await self.interlock.hold_incline(hold)
            except (CommandError, InterlockError) as err:
                _LOGGER.warning("Could not hold the incline for the turn: %s", err)

        return asyncio.get_running_loop().create_task(send())

    def _faster_than(self, speed: float) -> bool:
        """Return whether the belt's target is above `speed` (so setting `speed` lowers it).

        The machine's stored target decides when the interlock knows it; otherwise (a
        command lost with the link) the engine's target or the measured speed.
        """
        run = self._run
        assert run is not None
        coming = self.interlock.lowest_on_its_way(Verb.SET_SPEED)
        if coming is not None and coming <= speed + 1e-6:
            # A person's lowering on its way leaves it low enough; a write after it would
            # be a raise in the turn. Lost, the turn's timeout pauses a belt still fast.
            return False
        stored = self.interlock.stored_target
        if stored is not None:
            return stored > speed + 1e-6
        at_most = self.interlock.stored_target_at_most
        if at_most is not None and at_most <= speed + 1e-6:
            return False  # a lost reply left it between two values, both at or below
        if (
            not self.interlock.running
            and at_most is not None
            and at_most <= self.interlock.cap + 1e-6
        ):
            # Not running by our command or a status (a measurement after a reconnect may
            # be stale), its stored target within the cap: the next start sets its speed
            # first (rule 3), and a write now could raise what it stores. A belt the
            # console runs meanwhile is paused by the turn's timeout.
            return False
        measured = self._treadmill.data.speed
        return run.target_speed > speed + 1e-6 or (measured is not None and measured > speed + 1e-6)

    def _slow_down(self, *, again: bool = False) -> None:
        """Bring the belt to turn_speed, or pause it, by turn_mode; then say slow down."""
        run = self._run
        assert run is not None
        mode = self._options.turn_mode
        # Said first: the announcer names the turn speed here, not again as a change.
        self._emit(
            CueType.SLOW_DOWN,
            turn_speed=run.timeline.turn_speed,
            turn_mode=mode.value,
            advisory=self.advisory,
        )
        if mode is TurnMode.PAUSE and self._belt_may_move():
            self._command(Verb.PAUSE, None, Origin.SAFETY)
            run.belt_moving = self.advisory
        elif self._faster_than(run.timeline.turn_speed):
            if self.interlock.is_raise(Verb.SET_SPEED, run.timeline.turn_speed):
                # Faster by measure, but the stored target may be lower (a reply lost with
                # the link): turn speed written could raise it in the turn. The belt is
                # paused instead, rule 1's own fallback; the next segment starts anew.
                self._command(Verb.PAUSE, None, Origin.SAFETY)
                run.belt_moving = self.advisory
            else:
                self._speed(run.timeline.turn_speed, force=again)

    def _wait_at_turn(self) -> None:
        """No speaker works: pause the belt and wait for the person (rule 2)."""
        run = self._run
        assert run is not None
        moving = self._belt_may_move()
        if moving:
            self._command(Verb.PAUSE, None, Origin.SAFETY)
            if self.advisory:
                self._emit(CueType.SLOW_DOWN, turn_speed=0.0, turn_mode="pause", advisory=True)
        run.belt_moving = False
        run.waiting_at_turn = True
        self._set_status(ProgrammeStatus.PAUSED)
        self._emit(EventType.PROGRAMME_PAUSED, reason="wait_at_turn")
        measured = DataField.SPEED in self._treadmill.capabilities.fields
        if moving and measured:
            run.wait_cue_pending = True  # "turn around" only once the belt is at rest
        else:
            self._emit(CueType.WAIT_AT_TURN, to=run.phase.direction.value)

    def _say_wait_cue_when_at_rest(self, data: LiveData) -> None:
        """Say the pause-and-wait turn cue once the measured belt is at rest."""
        run = self._run
        assert run is not None
        if run.wait_cue_pending and data.speed is not None and data.speed <= AT_REST_KMH:
            run.wait_cue_pending = False
            self._emit(CueType.WAIT_AT_TURN, to=run.phase.direction.value)

    def _turn_timeout(self) -> None:
        """Pause a belt that did not slow in time (rule 1)."""
        run = self._run
        assert run is not None
        if run.turn_slowed:
            return
        self._command(Verb.PAUSE, None, Origin.SAFETY)
        run.belt_moving = False

    def _check_turn_speed(self, data: LiveData) -> None:
        """Declare the belt slowed on two fresh samples at turn_speed, not rising."""
        # Only samples received since the turn began count: an older one may predate the
        # slow-down, and a belt still speeding up could pass turn_speed in between.
        run = self._run
        if run is None or self.status is not ProgrammeStatus.TURNING or run.turn_slowed:
            return
        if self.advisory or data.speed is None:
            return  # an advisory turn is timed (rule 10)
        run.turn_samples = [*run.turn_samples[-1:], data.speed]
        if len(run.turn_samples) < 2:
            return
        previous, latest = run.turn_samples
        slow = latest <= run.timeline.turn_speed + TURN_SPEED_TOLERANCE
        if slow and latest <= previous + TURN_SPEED_TOLERANCE:
            self._turn_slowed(self._clock.now())

    def _turn_slowed(self, at: datetime) -> None:
        """Tell the person to turn, then wait turn_duration."""
        run = self._run
        assert run is not None
        if run.turn_slowed:
            return
        run.turn_slowed = True
        self._cancel_timers()
        following = self._phase_after(run.phase_index)
        handrails = None
        if following is not None and following.interval is not None:
            rails = following.interval.segment.handrails
            handrails = rails.value if rails else None
        self._emit(CueType.TURN_NOW, to=run.phase.direction.value, handrails=handrails)
        done = at + timedelta(seconds=self._options.turn_duration)
        self._at(done, lambda: self._finish_turn(done))

    def _finish_turn(self, at: datetime) -> None:
        """End the turn: the person has turned and the next segment may begin."""
        run = self._run
        assert run is not None
        self._timers.clear()
        before = self.direction
        self._set_direction(Direction(run.phase.direction.value))
        self._emit(EventType.DIRECTION_CHANGED, previous=before.value, to=self.direction.value)
        if run.phase.final:
            self._complete()
            return
        run.phase_index += 1
        run.elapsed = 0.0
        run.meter = _SegmentMeter()
        if not self._belt_started() and not self.advisory:
            self._start_countdown()
            return
        self._enter_phase(run.phase_index, at)
