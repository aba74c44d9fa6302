"""The interlock: the one gate every belt command passes (safety rules 3, 4, 6, 7, 9, 10, 11).

The engine, the actions, the number entities, voice, shutdown, completion and the
release of the link all *ask* the interlock; it decides from what it knows of the belt
(its measured speed, the statuses the machine reported, the commands it confirmed and
the stored target speed), the direction the person faces, and the stop latch. A refusal
is an InterlockError naming the rule and, for a raise too soon, the wait: never a
silent clip. Only this module calls the treadmill's command methods; a test scans the
code for that.

Invariants, each guarded by tests and mutants (README, "Safety rules and their tests"):
- Stop is accepted at any time, written at once (it jumps every queue: commands waiting
  here are superseded, the client drops its own queue), whatever the mode, whenever a
  link exists. It latches: until a person starts or resumes, nothing that can move the
  belt or raise a target is sent; only stop, pause and lowering the stored target.
- While the belt is paused or stopped, only stop, pause and lowering set_speed pass,
  plus the set_speed at or below the coming direction's cap that `start` itself sends
  just before START, once the countdown has released the start.
- START is always preceded by a confirmed speed at or below the cap that applies.
- With the person facing backward, turning, or about to face backward, no speed above
  the cap passes, and before a pause or start the stored target is first set at or
  below the cap and confirmed, so no restart, ours or the console's, can exceed it.
- Speed and incline raises are at least STAGGER_S apart, from any source; the incline
  never rises in a turn.
- After the treadmill took control back, control is asked again only to stop or pause
  (set_speed, set_incline and start are refused) until a person starts a programme.
- A release of the link comes only after a stop is confirmed (or the belt is known to
  be at rest).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
import logging

from ..treadmill.base import (
    CommandError,
    CommandFailure,
    MachineEvent,
    MachineEventType,
    Treadmill,
)
from ..treadmill.clock import Clock
from .events import Direction
from .schema import ProgrammeError, fmt

_LOGGER = logging.getLogger(__name__)

STAGGER_S = 3.0  # s between a speed raise and an incline raise, whichever first (rule 4)
AT_REST_KMH = 0.05  # a measured speed at or below this is a belt at rest
_EPS = 1e-6


class Origin(StrEnum):
    """Who asked for a command (product.md, "Who asked")."""

    PERSON = "person"  # a dashboard, the card, voice in the room, the console
    AUTOMATION = "automation"  # an automation or a script, a satellite elsewhere
    PROGRAMME = "programme"  # the engine's own timeline
    SAFETY = "safety"  # the engine keeping someone safe: turns, shutdown, completion


class Verb(StrEnum):
    """The belt commands the interlock sends."""

    START = "start"
    PAUSE = "pause"
    STOP = "stop"
    SET_SPEED = "set_speed"
    SET_INCLINE = "set_incline"
    LOWER_TARGET = "lower_target"  # lower the stored target speed; never moves a belt


class Refusal(StrEnum):
    """Why the interlock refused a command (translation keys of the glue)."""

    STOP_LATCHED = "stop_latched"
    ABOVE_BACKWARD_CAP = "above_backward_cap"
    RAISE_TOO_SOON = "raise_too_soon"
    INCLINE_IN_TURN = "incline_rise_in_turn"
    SPEED_IN_TURN = "speed_rise_in_turn"
    BELT_AT_REST = "belt_at_rest"
    START_NOT_RELEASED = "start_not_released"
    CONSOLE_HAS_CONTROL = "console_has_control"
    NOT_ALLOWED = "not_allowed"  # advisory mode or remote control off


_REASONS: dict[Refusal, str] = {
    Refusal.STOP_LATCHED: "the belt was stopped: only a person's start or resume moves it again",
    Refusal.ABOVE_BACKWARD_CAP: "{value} km/h is above the maximum backward speed of {cap} km/h",
    Refusal.RAISE_TOO_SOON: "speed and incline are raised one at a time: wait {wait_s} s",
    Refusal.INCLINE_IN_TURN: "the incline never rises during a turn",
    Refusal.SPEED_IN_TURN: "the speed never rises during a turn",
    Refusal.BELT_AT_REST: "the belt is at rest: a target can only be lowered until it starts",
    Refusal.START_NOT_RELEASED: "the belt starts only after the spoken countdown",
    Refusal.CONSOLE_HAS_CONTROL: "the treadmill's console has control",
    Refusal.NOT_ALLOWED: "Home Assistant may not move this belt",
}


class InterlockError(ProgrammeError):
    """The interlock refused a command; nothing was sent."""

    def __init__(self, verb: Verb, refusal: Refusal, **placeholders: float) -> None:
        """Name the command, the rule and (for raises too soon) the wait."""
        field = {Verb.SET_SPEED: "speed", Verb.SET_INCLINE: "incline"}.get(verb, verb.value)
        text = _REASONS[refusal].format(**{k: fmt(v) for k, v in placeholders.items()})
        super().__init__(field, text, refusal.value)
        self.verb = verb
        self.refusal = refusal
        self.placeholders = {k: fmt(v) for k, v in placeholders.items()}


class Interlock:
    """Decides what may be sent to one treadmill now, and sends it."""

    def __init__(
        self,
        treadmill: Treadmill,
        clock: Clock,
        *,
        max_backward_speed: float,
        may_move: Callable[[], bool],
        advisory: Callable[[], bool] = lambda: False,
    ) -> None:
        """Watch the treadmill; subscribe before anyone else so our state is fresh."""
        self._treadmill = treadmill
        self._clock = clock
        self._max_backward = max_backward_speed
        self._may_move = may_move  # remote control on and a controllable machine
        self._advisory = advisory  # the programme may only advise (rule 10)
        self.direction = Direction.STOPPED
        self.about_backward = False  # the person is about to face backward
        self.latched = False  # the stop latch (rule 7)
        self.stops = 0  # counts every stop, ours or the console's: a start in preparation sees it
        self.control_taken_back = False
        self._running = False  # as far as confirmed commands and statuses tell
        self._starts = 0  # every start, ours or the console's, as sent or reported
        # Bounds of the machine's stored target speed (None: nothing known). Equal bounds
        # are the exact target; a lost reply leaves it between the old and the new value.
        self._low: float | None = None
        self._high: float | None = None
        self._incline: float | None = None
        self._raised: dict[Verb, datetime] = {}
        # Targets asked for and not yet answered (waiting for their turn or in flight): a
        # command judged now is written after them, against what they leave.
        self._pending: dict[Verb, list[float]] = {Verb.SET_SPEED: [], Verb.SET_INCLINE: []}
        self._released = False  # the countdown released a start
        self._lock = asyncio.Lock()
        self._epoch = 0  # bumped by every stop: commands waiting here are superseded
        # Bumped by every stop and pause: a start or a target change asked before one of
        # them and still waiting for its turn is superseded (nothing after a pause, rule 6).
        self._halts = 0
        self._stops_in_flight = 0
        self._no_stop_in_flight = asyncio.Event()  # a release waits for a stop's reply
        self._no_stop_in_flight.set()
        # Measurements need no bookkeeping: `belt_moving` reads them when asked.
        self._unsubscribe = treadmill.subscribe(on_event=self._on_event)

    # ----- what the interlock knows ---------------------------------------------------

    @property
    def cap(self) -> float:
        """Return the backward cap: the option, and never above the machine's maximum."""
        rng = self._treadmill.capabilities.speed
        return min(self._max_backward, rng.maximum) if rng else self._max_backward

    @property
    def capped(self) -> bool:
        """Return whether the backward cap applies now (backward, turning or about to)."""
        return self.about_backward or self.direction in (Direction.BACKWARD, Direction.TURNING)

    @property
    def speed_limit(self) -> float | None:
        """Return the highest speed that may be set now."""
        rng = self._treadmill.capabilities.speed
        if self.capped:
            return self.cap
        return rng.maximum if rng else None

    @property
    def belt_moving(self) -> bool:
        """Return whether the belt runs, by status or by its measured speed."""
        speed = self._treadmill.data.speed
        return self._running or (speed is not None and speed > AT_REST_KMH)

    @property
    def running(self) -> bool:
        """Return whether the belt runs by the commands confirmed and the statuses reported."""
        return self._running

    @property
    def stored_target(self) -> float | None:
        """Return the machine's stored target speed, when known exactly."""
        return self._low if self._low is not None and self._low == self._high else None

    @property
    def stored_target_at_most(self) -> float | None:
        """Return a speed the stored target is surely at or below, when one is known."""
        return self._high

    @property
    def _target_low(self) -> float | None:
        """Return a speed the stored target is surely at or above, when one is known."""
        if self._low is not None:
            return self._low
        rng = self._treadmill.capabilities.speed
        # A running machine runs at a target within its range (a stop may reset it to 0).
        return rng.minimum if self._running and rng else None

    def _know_target(self, low: float | None, high: float | None) -> None:
        """Set what is known of the stored target speed."""
        self._low, self._high = low, high

    def set_direction(self, direction: Direction, *, about_backward: bool = False) -> None:
        """Tell the interlock which way the person faces (the engine owns direction)."""
        self.direction = direction
        self.about_backward = about_backward

    def raise_wait(self, verb: Verb) -> float:
        """Return the seconds until a raise of this kind may be sent (rule 4)."""
        other = Verb.SET_INCLINE if verb is Verb.SET_SPEED else Verb.SET_SPEED
        last = self._raised.get(other)
        if last is None:
            return 0.0
        passed = (self._clock.now() - last).total_seconds()
        return max(STAGGER_S - passed, 0.0)

    def is_raise(self, verb: Verb, value: float) -> bool:
        """Return whether a target will be a raise when written (unknown counts as one).

        Judged against the lowest of the current target and those still on their way: a
        person's lowering in flight makes the programme's next step a raise (rule 4).
        """
        pending = self._pending[verb]
        return self._is_raise_now(verb, value) or any(value > p + _EPS for p in pending)

    def lowest_on_its_way(self, verb: Verb) -> float | None:
        """Return the lowest target asked for and not yet answered, if any."""
        pending = self._pending[verb]
        return min(pending) if pending else None

    def _is_raise_now(self, verb: Verb, value: float) -> bool:
        """Return whether a target is above the current one (unknown counts as a raise)."""
        if verb is Verb.SET_SPEED:
            # An unknown stored speed (a lost reply, a stop that may have reset it) is not
            # told by the measured one: the belt may be slowing to a lower target.
            current = self._target_low
        else:
            # The deck's measured incline is where it is: a target below it lowers it.
            current = self._incline if self._incline is not None else self._treadmill.data.incline
        return current is None or value > current + _EPS

    def lift_latch(self, origin: Origin) -> None:
        """Lift the stop latch on a person's start or resume; nothing else does."""
        if origin is Origin.PERSON:
            self.latched = False

    def release_start(self) -> None:
        """Let the next start go out: the countdown ran in full."""
        self._released = True

    def withdraw_start(self) -> None:
        """Withdraw a released start: the countdown was cancelled."""
        self._released = False

    # ----- commands ---------------------------------------------------------------------

    async def stop(self, origin: Origin, *, capped: bool | None = None) -> None:
        """Stop at once, ahead of anything else (rule 7); latch until a person starts.

        `capped` is whether the cap applied when the stop was asked for (the engine ends
        its programme, and so the person's direction, before the stop is confirmed).
        """
        capped = self.capped if capped is None else capped
        known_above = self._low is not None and self._low > self.cap + _EPS
        self._note_stop()
        # From the moment a stop is sent the stored target is unknown (machines reset or
        # keep it) and the belt counts as stopping: a "lowering" set_speed judged against
        # the old target while the stop's reply is awaited could raise a reset target.
        self._running = False
        self._know_target(None, self._high)  # a stop never raises it
        _LOGGER.debug("stop from %s", origin)
        self._stops_in_flight += 1
        self._no_stop_in_flight.clear()
        try:
            await self._treadmill.stop()
        finally:
            self._stops_in_flight -= 1
            if not self._stops_in_flight:
                self._no_stop_in_flight.set()
        self._running = False
        self._know_target(None, self._high)  # some machines reset it on a stop, others keep it
        if capped and known_above and self._may_move() and not self.control_taken_back:
            # Rule 3: no restart (ours or the console's) may resume above the cap. Only
            # after the stop: stop wins, and lowering a target never moves a belt.
            try:
                await self._write_speed(self.cap)
            except CommandError as err:
                _LOGGER.warning("Stopped, but the stored speed was not lowered: %s", err)

    async def pause(self, origin: Origin, *, lower_to: float | None = None) -> None:
        """Pause; lower the stored target first while it matters (rules 3 and 11)."""
        self._check_allowed(Verb.PAUSE, origin)
        self._halts += 1
        # A start already handed to the treadmill (waiting there for control) never goes
        # out behind this pause, nor ahead of the lowering that may come first.
        self._treadmill.drop_pending_start()
        goal = lower_to
        if self.capped:
            goal = self.cap if goal is None else min(goal, self.cap)
        if goal is None or not self._needs_lowering(goal):
            # Nothing to lower first: the pause jumps the queue as a stop does. Behind a
            # command whose reply is lost it would wait out the reply timeout, and a turn
            # that never slowed would be paused seconds after its timeout (rule 1).
            await self._write_pause()
            return
        async with self._turn() as epoch:
            if goal is not None:
                try:
                    await self._lower_stored_target(goal, epoch)
                except CommandError as err:
                    # Rule 11: the pause still goes out when the slow-down failed.
                    _LOGGER.warning("Could not lower the speed before pausing: %s", err)
            self._check_epoch(Verb.PAUSE, epoch)
            await self._write_pause()

    async def _write_pause(self) -> None:
        """Write a pause; the belt counts as resting from the moment it is sent."""
        # A reply still on its way (late) must not let a set_speed count as sent to a
        # running belt.
        self._running = False
        starts = self._starts
        try:
            await self._treadmill.pause()
        finally:
            # Even a pause whose reply was lost may have landed: no raise counts on a
            # running belt until a start or a status says so again; one that came while
            # the reply was awaited (the person started it on the console) still does.
            if starts == self._starts:
                self._running = False

    async def start(self, origin: Origin, speed: float) -> None:
        """Start after a released countdown: the speed first, confirmed, then START."""
        self._check_allowed(Verb.START, origin)
        if self.latched:
            raise InterlockError(Verb.START, Refusal.STOP_LATCHED)
        if not self._released:
            raise InterlockError(Verb.START, Refusal.START_NOT_RELEASED)
        self._check_cap(Verb.START, speed)
        wait = self.raise_wait(Verb.SET_SPEED)
        if wait > 0:
            raise InterlockError(Verb.START, Refusal.RAISE_TOO_SOON, wait_s=round(wait + 0.05, 1))
        self._released = False
        halts = self._halts
        async with self._turn() as epoch:
            self._check_epoch(Verb.SET_SPEED, epoch, halts)
            await self._write_speed(speed)
            self._check_epoch(Verb.START, epoch, halts)
            self._raised[Verb.SET_SPEED] = self._clock.now()
            self._running = True  # a start whose reply is lost may have started all the same
            self._starts += 1
            await self._treadmill.start()

    async def set_speed(self, origin: Origin, speed: float) -> None:
        """Set the target speed: refused above the cap, too soon, at rest, or latched."""
        self._check_target(Verb.SET_SPEED, origin, speed, self.is_raise(Verb.SET_SPEED, speed))
        halts = self._halts
        async with self._pending_target(Verb.SET_SPEED, speed), self._turn() as epoch:
            # Decided again after waiting for our turn: a stop, a pause or another
            # command may have come; the raise is judged (and recorded) as it is now.
            raising = self._is_raise_now(Verb.SET_SPEED, speed)
            self._check_target(Verb.SET_SPEED, origin, speed, raising)
            self._check_epoch(Verb.SET_SPEED, epoch, halts)
            if raising:
                self._raised[Verb.SET_SPEED] = self._clock.now()  # on the wire from now
            await self._write_speed(speed)

    async def set_incline(self, origin: Origin, incline: float) -> None:
        """Set the target incline: a rise never in a turn nor within 3 s of a speed rise."""
        self._check_target(
            Verb.SET_INCLINE, origin, incline, self.is_raise(Verb.SET_INCLINE, incline)
        )
        halts = self._halts
        async with self._pending_target(Verb.SET_INCLINE, incline), self._turn() as epoch:
            raising = self._is_raise_now(Verb.SET_INCLINE, incline)
            self._check_target(Verb.SET_INCLINE, origin, incline, raising)
            self._check_epoch(Verb.SET_INCLINE, epoch, halts)
            if raising:
                self._raised[Verb.SET_INCLINE] = self._clock.now()
            await self._write_incline(incline)

    @property
    def incline_target(self) -> float | None:
        """Return the machine's target incline as last set or reported, if known."""
        return self._incline

    async def hold_incline(self, incline: float) -> None:
        """Stop our own incline raise still moving as a turn begins, also in advisory mode.

        Rule 1: the incline never rises in a turn. After a console change of the speed the
        deck may still be climbing to the target the programme set: holding it changes
        nothing the person chose (rule 10); after control was taken back it is refused.
        """
        target = self._incline
        self._check_hold(incline, target, ahead=True)
        halts = self._halts
        async with self._pending_target(Verb.SET_INCLINE, incline), self._turn() as epoch:
            # Judged again in turn: a person's change may have landed meanwhile.
            self._check_hold(incline, target, ahead=False)
            self._check_epoch(Verb.SET_INCLINE, epoch, halts)
            await self._write_incline(incline)

    def _check_hold(self, incline: float, target: float | None, *, ahead: bool) -> None:
        """Refuse a hold that could raise the deck or touch a deck that is not ours."""
        if not self._may_move():
            raise InterlockError(Verb.SET_INCLINE, Refusal.NOT_ALLOWED)
        if self.control_taken_back:
            raise InterlockError(Verb.SET_INCLINE, Refusal.CONSOLE_HAS_CONTROL)
        if not self.running:  # a resting deck stays put
            raise InterlockError(Verb.SET_INCLINE, Refusal.BELT_AT_REST)
        raising = self.is_raise if ahead else self._is_raise_now
        if raising(Verb.SET_INCLINE, incline) or self._incline != target:
            raise InterlockError(Verb.SET_INCLINE, Refusal.INCLINE_IN_TURN)

    async def lower_target(self, origin: Origin, speed: float) -> None:
        """Lower the stored target speed while the belt rests (a backward-first start)."""
        self._check_allowed(Verb.LOWER_TARGET, origin)
        goal = min(speed, self.cap) if self.capped else speed
        async with self._turn() as epoch:
            await self._lower_stored_target(goal, epoch)

    async def take_control(self, origin: Origin) -> None:
        """Ask for control again when a person starts anew after the console took it."""
        if origin is not Origin.PERSON or not self.control_taken_back:
            return
        await self._treadmill.request_control()
        self.control_taken_back = False

    async def release(self) -> None:
        """Let go of the link between programmes, only once a stop is confirmed (rule 7)."""
        await self._no_stop_in_flight.wait()
        controllable = self._treadmill.capabilities.controllable
        if controllable and self._treadmill.connected and (self.belt_moving or not self.latched):
            try:
                await self.stop(Origin.SAFETY)
            except CommandError as err:
                _LOGGER.warning("Keeping the link: the stop was not confirmed (%s)", err)
                raise
        await self._treadmill.disconnect()

    async def close_link(self) -> None:
        """Close the link when leaving (rule 11 left the belt paused): after any stop's reply."""
        await self._no_stop_in_flight.wait()
        await self._treadmill.disconnect()

    def close(self) -> None:
        """Stop listening to the treadmill."""
        self._unsubscribe()

    # ----- decisions -------------------------------------------------------------------

    def _check_allowed(self, verb: Verb, origin: Origin) -> None:
        """Refuse what may not be sent at all now (remote control off, advisory, rule 10)."""
        if not self._may_move():
            raise InterlockError(verb, Refusal.NOT_ALLOWED)
        if origin in (Origin.PROGRAMME, Origin.SAFETY) and self._advisory():
            raise InterlockError(verb, Refusal.NOT_ALLOWED)
        if self.control_taken_back and verb not in (Verb.PAUSE, Verb.STOP):
            raise InterlockError(verb, Refusal.CONSOLE_HAS_CONTROL)

    def _check_cap(self, verb: Verb, speed: float) -> None:
        """Refuse a speed above the cap while it applies (rule 3): never clipped."""
        if self.capped and speed > self.cap + _EPS:
            raise InterlockError(verb, Refusal.ABOVE_BACKWARD_CAP, value=speed, cap=self.cap)

    def _check_target(self, verb: Verb, origin: Origin, value: float, raising: bool) -> None:
        """Decide a set_speed or set_incline (rules 3, 4, 7, 9, 10)."""
        self._check_allowed(verb, origin)
        if verb is Verb.SET_SPEED:
            self._check_cap(verb, value)
        elif not self._running:
            # While paused or stopped the deck stays put: only a lowering set_speed passes.
            raise InterlockError(verb, Refusal.BELT_AT_REST)
        if not raising:
            return  # lowering a speed is always safe, even latched or at rest
        if self.latched:
            raise InterlockError(verb, Refusal.STOP_LATCHED)
        if not self._running:
            # Running by our confirmed start or the machine's status, not a coasting belt
            # that was paused: while paused or stopped only lowerings pass.
            raise InterlockError(verb, Refusal.BELT_AT_REST)
        if self.direction is Direction.TURNING:
            refusal = Refusal.INCLINE_IN_TURN if verb is Verb.SET_INCLINE else Refusal.SPEED_IN_TURN
            raise InterlockError(verb, refusal)
        wait = self.raise_wait(verb)
        if wait > 0:
            raise InterlockError(verb, Refusal.RAISE_TOO_SOON, wait_s=round(wait + 0.05, 1))

    def _check_epoch(self, verb: Verb, epoch: int, halts: int | None = None) -> None:
        """Refuse a command a stop (or, given `halts`, a pause) came after."""
        if epoch != self._epoch or (halts is not None and halts != self._halts):
            raise CommandError(verb.value, CommandFailure.SUPERSEDED)

    @asynccontextmanager
    async def _pending_target(self, verb: Verb, value: float) -> AsyncIterator[None]:
        """Count a target as on its way until it is answered (see is_raise)."""
        pending = self._pending[verb]
        pending.append(value)
        try:
            yield
        finally:
            pending.remove(value)

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[int]:
        """Run one command sequence at a time; yield the epoch it belongs to.

        The epoch is taken before waiting: a stop that comes meanwhile bumps it, so the
        sequence finds itself superseded (_check_epoch) instead of writing after the stop.
        """
        epoch = self._epoch
        async with self._lock:
            yield epoch

    def _needs_lowering(self, goal: float) -> bool:
        """Return whether `_lower_stored_target(goal)` would write anything now."""
        if self.control_taken_back:
            return False
        if any(p > goal + _EPS for p in self._pending[Verb.SET_SPEED]):
            return True  # a raise on its way may land above it: lowered after it, in turn
        return not (self._high is not None and self._high <= goal + _EPS) and (
            self._target_low is not None
        )

    async def _lower_stored_target(self, goal: float, epoch: int | None = None) -> None:
        """Set the stored target at or below `goal`; never raise it, never against rule 7/10."""
        if self.control_taken_back:
            return  # rule 10: control is asked again only to stop or pause
        if self._high is not None and self._high <= goal + _EPS:
            return
        low = self._target_low
        if low is None:
            # Nothing known: a resting, paused or stopped belt may store anything down to
            # 0 (a stop may reset it), and some machines start on a target speed.
            return
        # Only a write at or below what it surely is now is no raise (a belt measured
        # faster than the goal may be slowing to a lower target).
        goal = min(goal, low)
        if epoch is not None:
            self._check_epoch(Verb.SET_SPEED, epoch)
        await self._write_speed(goal)

    async def _write_speed(self, speed: float) -> None:
        """Write a target speed; when its reply fails, the stored one is no longer known."""
        low, high = self._low, self._high
        try:
            await self._treadmill.set_speed(speed)
        except BaseException:
            # It may or may not have landed (a lost reply): either the old or the new one.
            self._know_target(
                None if low is None else min(low, speed),
                None if high is None else max(high, speed),
            )
            raise
        self._know_target(speed, speed)

    async def _write_incline(self, incline: float) -> None:
        """Write a target incline; when its reply fails, the stored one is no longer known."""
        try:
            await self._treadmill.set_incline(incline)
        except BaseException:
            self._incline = None
            raise
        self._incline = incline

    def _note_stop(self) -> None:
        """Latch, supersede everything waiting, withdraw a released start."""
        self.latched = True
        self.stops += 1
        self._epoch += 1
        self._halts += 1
        self._released = False

    # ----- what the machine says ---------------------------------------------------------

    def _on_event(self, event: MachineEvent) -> None:
        """Follow the belt's state as the machine reports it."""
        kind = event.type
        if kind is MachineEventType.STARTED:
            # The person started the belt on the console: their start lifts the latch.
            self.latched = False
            self._running = True
            self._starts += 1
            self._raised[Verb.SET_SPEED] = self._clock.now()
        elif kind is MachineEventType.PAUSED:
            self._running = False
        elif kind in (MachineEventType.STOPPED, MachineEventType.SAFETY_KEY):
            # A stop on the console (or the key) latches like ours (finding 4).
            self._note_stop()
            self._running = False
            self._know_target(None, self._high)
        elif kind is MachineEventType.TARGET_SPEED_CHANGED:
            if event.value is not None and self._is_raise_now(Verb.SET_SPEED, event.value):
                self._raised[Verb.SET_SPEED] = self._clock.now()
            self._know_target(event.value, event.value)
        elif kind is MachineEventType.TARGET_INCLINE_CHANGED:
            if event.value is not None and self._is_raise_now(Verb.SET_INCLINE, event.value):
                self._raised[Verb.SET_INCLINE] = self._clock.now()
            self._incline = event.value
        elif kind is MachineEventType.CONTROL_LOST:
            self.control_taken_back = True
        elif kind is MachineEventType.DISCONNECTED:
            # The machine keeps its stored targets through a link loss (what we set
            # stays known); whether the belt runs, only measurements tell now.
            self._running = False


async def close_unused_link(treadmill: Treadmill) -> None:
    """Close a link on which no command was ever sent (a set-up probe, a failed set-up)."""
    await treadmill.disconnect()
