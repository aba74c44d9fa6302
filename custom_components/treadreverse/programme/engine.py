"""Run a compiled programme against a treadmill, safely (safety rules 1-11).

The public Engine; its rooms (mixins) live beside it, each in its own module (core.py
says how they fit together).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
import uuid

from ..treadmill.base import CommandError, Range, Treadmill
from ..treadmill.clock import Clock
from .accounting import SUMMARY_QUIET_END_S, AccountingMixin
from .commands import CommandsMixin
from .compiler import PhaseKind, Timeline, compile_programme, snap
from .core import _LOGGER, _MOVING, Listener, SessionListener
from .events import CueType, Direction, EngineEvent, EventType, ProgrammeStatus
from .interlock import Interlock, InterlockError, Origin
from .machine import DISTANCE_STALL_S, MachineMixin
from .options import EngineOptions
from .phases import WAIT_FOR_PERSON_S, PhasesMixin
from .run import EngineSnapshot, _Run
from .schema import ErrorKind, Programme, ProgrammeError, fmt
from .session import SessionOutcome, SessionRecord
from .turns import CUE_RECEIPT_WAIT_S, TURN_SPEED_TOLERANCE, TurnsMixin

# The names other modules import from here, wherever they are defined now.
__all__ = [
    "CUE_RECEIPT_WAIT_S",
    "DISTANCE_STALL_S",
    "SUMMARY_QUIET_END_S",
    "TURN_SPEED_TOLERANCE",
    "WAIT_FOR_PERSON_S",
    "Engine",
    "EngineBusyError",
    "EngineSnapshot",
    "Listener",
    "SessionListener",
]


class EngineBusyError(RuntimeError):
    """A programme is already active."""


class Engine(PhasesMixin, TurnsMixin, CommandsMixin, MachineMixin, AccountingMixin):
    """Runs one programme at a time against one treadmill."""

    def __init__(
        self,
        treadmill: Treadmill,
        clock: Clock,
        options: EngineOptions,
        *,
        speaker_check: Callable[[], bool] = lambda: True,
        cue_receipts: bool = False,
    ) -> None:
        """Wire the engine to a treadmill, through the interlock, and a clock.

        With `cue_receipts`, a turn begins only once `cue_accepted` was called for its
        turn cue (the speakers accepted it, rule 2); without, saying it is enough (no
        speakers to ask: the HA-free rigs).
        """
        self._treadmill = treadmill
        self._clock = clock
        self._options = options
        self._speaker_check = speaker_check
        self._cue_receipts = cue_receipts
        self.status = ProgrammeStatus.IDLE
        self.direction = Direction.STOPPED
        self.advisory = False
        # The interlock subscribes first: it knows the belt's state before we react.
        self.interlock = Interlock(
            treadmill,
            clock,
            max_backward_speed=options.max_backward_speed,
            may_move=lambda: self.can_control,
            advisory=lambda: self.advisory,
        )
        self._run = None
        self._last_session = None
        self._final = None
        self._listeners = []
        self._session_listeners = []
        self._timers = []  # belong to the current phase or countdown
        self._run_timers = []  # belong to the whole run (summary, waiting)
        self._queue = deque()
        self._worker = None
        self._tasks = set()
        self._reclaiming = None
        self._held = None
        self._later = []
        self._in_timer = False
        self._starting = False
        self._start_holds = False
        self._flush_soon = None
        self._starting_worker = False
        self._dropped_while_starting = False
        self._unsubscribe = treadmill.subscribe(self._on_data, self._on_event)

    @property
    def speed_limit(self) -> float | None:
        """Return the highest settable speed now (the backward cap while backward or turning)."""
        return self.interlock.speed_limit

    @property
    def session(self) -> SessionRecord | None:
        """Return the running session's record, else the last finished one."""
        if self._run is not None:
            return self._record(None, None)
        return self._last_session

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call back with every event; return a function that removes the listener."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def tell_pending(self) -> None:
        """Tell the listeners now what they would hear on the next loop pass.

        A caller about to act on what a listener does with the news (a session's end
        releases the link) must not run ahead of it.
        """
        self._flush_later()

    def add_session_listener(self, callback: SessionListener) -> Callable[[], None]:
        """Call back with each finished session record; return a remover."""
        self._session_listeners.append(callback)

        def remove() -> None:
            if callback in self._session_listeners:
                self._session_listeners.remove(callback)

        return remove

    async def start(
        self,
        programme: Programme,
        *,
        key: str | None,
        speed_scale: float = 1.0,
        wait_for_person: bool = False,
        origin: Origin = Origin.PERSON,
    ) -> None:
        """Compile and start a programme; a ProgrammeError changes nothing."""
        if self.active:
            raise EngineBusyError("a programme is already active")
        timeline = compile_programme(
            programme, self._options, self._treadmill.capabilities, speed_scale
        )
        await self.run_timeline(timeline, key=key, wait_for_person=wait_for_person, origin=origin)

    async def run_timeline(
        self,
        timeline: Timeline,
        *,
        key: str | None,
        wait_for_person: bool = False,
        origin: Origin = Origin.PERSON,
    ) -> None:
        """Run an already compiled timeline (start() compiles; benchmarks call this)."""
        if self.active:
            raise EngineBusyError("a programme is already active")
        # The last programme's end is told as it ended, before this one replaces it.
        self._flush_later()
        if origin is Origin.PERSON:
            # A person starting anew lifts the stop latch and takes control back (rule 10).
            self.interlock.lift_latch(origin)
            if self.can_control:
                await self.interlock.take_control(origin)
        elif self.interlock.latched:
            wait_for_person = True  # rule 7: after a stop, only a person starts the belt
        now = self._clock.now()
        self._run = _Run(timeline, key, uuid.uuid4().hex, now, accrued_at=now, origin=origin)
        self._run.last_distance = self._treadmill.data.distance
        self.advisory = not self.can_control
        self.direction = Direction.STOPPED
        self._final = None
        self._sync_interlock()
        self._emit(EventType.PROGRAMME_STARTED)
        if self._options.summary_interval > 0:
            self._schedule_summary(1)
        self._secure_stored_target()
        if wait_for_person:
            self._wait_for_person()
            return
        self._start_countdown(first=True)

    def confirm_person(self, origin: Origin = Origin.PERSON) -> None:
        """Confirm the person is at the treadmill: a waiting programme counts down."""
        run = self._run
        if run is None or self.status is not ProgrammeStatus.WAITING:
            return
        if origin is not Origin.PERSON:
            return  # only the person at the belt confirms (rule 9)
        self.interlock.lift_latch(origin)
        if not run.resume_waits and self.can_control and self.interlock.control_taken_back:
            # The person starting an automation's programme starts anew (rule 10): ask
            # for control again, within the countdown, as a person's own start does; a
            # console start sends the segment's speed at once: it waits for this first.
            task = asyncio.get_running_loop().create_task(self._reclaim_control(origin))
            self._own(task)
            self._reclaiming = task
        for cancel in self._run_timers:
            cancel()
        self._run_timers.clear()
        if self._options.summary_interval > 0:
            self._schedule_summary(1)
        if run.resume_waits:
            run.resume_waits = False
            self._set_status(ProgrammeStatus.PAUSED)
            self._emit(EventType.PROGRAMME_RESUMED)
            self._continue(countdown=True)
            return
        if run.belt_moving:
            # The person started the belt on the console: no countdown, and the segment's
            # speed goes out at once (the machine resumed at whatever it had stored).
            self._continue(countdown=False)
            return
        self._start_countdown(first=not run.segments and not run.meter.started)

    async def pause(self, reason: str = "user", origin: Origin = Origin.PERSON) -> None:
        """Pause the programme and the belt."""
        run = self._run
        if run is None or self.status not in _MOVING | {ProgrammeStatus.COUNTDOWN}:
            return
        belt_was_moving = run.belt_moving or self.interlock.belt_moving
        self._enter_paused(reason)
        if belt_was_moving and self._may_command():
            try:
                await self.interlock.pause(origin)
            except CommandError as err:
                self._emit(CueType.COMMAND_FAILED, command="pause", reason=err.failure.value)
                raise

    async def _reclaim_control(self, origin: Origin) -> None:
        """Ask the treadmill for control again; a failure leaves the start to be refused."""
        try:
            await self.interlock.take_control(origin)
        except CommandError as err:
            _LOGGER.warning("Could not ask for control again: %s", err)

    async def resume(self, origin: Origin = Origin.PERSON) -> None:
        """Continue a paused programme; a stopped belt restarts after the countdown."""
        run = self._run
        if run is None or self.status is not ProgrammeStatus.PAUSED:
            return
        if origin is not Origin.PERSON:
            # Rule 9: a resume from an automation waits for the person, as a start does.
            run.resume_waits = True
            self._wait_for_person()
            return
        self.interlock.lift_latch(origin)
        self._emit(EventType.PROGRAMME_RESUMED)
        self._continue(countdown=True)

    async def skip(self) -> None:
        """Move on to the next segment, never past a turn nor later than a turn announced."""
        run = self._run
        if run is None or self.status is not ProgrammeStatus.RUNNING:
            return
        if run.phase.kind is not PhaseKind.SEGMENT or run.phase_start is None:
            return
        following = self._phase_after(run.phase_index)
        if following is not None and following.kind is PhaseKind.TURN:
            if run.lead_said:
                return  # the turn comes when its cue said: never later (rule 2)
            # Skipping into a turn still gives the turn cue its full lead time (rule 2).
            end = self._clock.now() + timedelta(seconds=self._options.cue_lead_time)
            self._cancel_timers()
            self._schedule_end(end)
            self._say_lead_cues(end)
            return
        self._end_segment(skipped=True, at=self._clock.now())

    async def stop(self, reason: str = "user", origin: Origin = Origin.PERSON) -> None:
        """Stop the belt at once, ahead of anything queued (rule 7), and end the programme."""
        self._drop_commands()
        self._cancel_timers()
        was_active = self.active
        capped = self.interlock.capped
        # The timeline ends before we wait for the treadmill: nothing of it runs on.
        if was_active:
            self._finish(SessionOutcome.STOPPED, reason)
        if not self._treadmill.capabilities.controllable:
            if was_active:
                self._emit(CueType.STOP_THE_BELT)  # the manual kind: the person stops it
            return
        try:
            await self.interlock.stop(origin, capped=capped)
        except CommandError as err:
            self._emit(CueType.STOP_UNREACHABLE, command="stop", reason=err.failure.value)
            raise

    async def shutdown(self, reason: str) -> None:
        """Leave safely (rule 11): announce, slow the belt, pause it, record as aborted."""
        run = self._run
        if run is None or not self.active:
            return
        self._drop_commands()
        self._cancel_timers()
        moving = run.belt_moving or self.interlock.belt_moving
        commanded = self._may_command() and moving
        self._emit(EventType.PROGRAMME_ABORTED, reason=reason, advisory=not commanded)
        turn_speed = run.timeline.turn_speed
        self._finish(SessionOutcome.ABORTED, reason, announce=False)
        if not commanded:
            return
        try:
            # The interlock still pauses when the slow-down fails.
            await self.interlock.pause(Origin.SAFETY, lower_to=turn_speed)
        except (CommandError, InterlockError) as err:
            _LOGGER.warning("Could not pause the belt on shutdown: %s", err)

    async def release(self) -> None:
        """Let go of the link once the belt is confirmed stopped (keep_connected off)."""
        worker = self._worker
        if worker is not None and not worker.done():
            await asyncio.gather(worker, return_exceptions=True)
        await self.interlock.release()

    async def close_link(self) -> None:
        """Close the link after leaving safely (unload); the belt stays as rule 11 left it."""
        await self.interlock.close_link()

    async def set_speed(self, speed: float, origin: Origin = Origin.PERSON) -> None:
        """Set the speed by hand through the interlock (rules 3, 4, 7, 10); never starts it."""
        self._check_manual("speed", speed, self._treadmill.capabilities.speed)
        value = snap(speed, self._treadmill.capabilities.speed)
        await self.interlock.set_speed(origin, value)
        if self._run is not None:
            self._accrue()
            self._run.target_speed = value

    async def set_incline(self, incline: float, origin: Origin = Origin.PERSON) -> None:
        """Set the incline by hand through the interlock (rule 4: never in a turn)."""
        self._check_manual("incline", incline, self._treadmill.capabilities.incline)
        value = snap(incline, self._treadmill.capabilities.incline)
        await self.interlock.set_incline(origin, value)
        if self._run is not None:
            self._run.target_incline = value

    def cue_accepted(self, event: EngineEvent) -> None:
        """Note that a working speaker accepted `event`; a turn waiting for it begins."""
        run = self._run
        if run is None or event is not run.turn_cue or run.turn_cue_heard or run.receipt_missed:
            return
        run.turn_cue_heard = True
        waiting, run.receipt_wait_since = run.receipt_wait_since is not None, None
        if waiting and self.status is ProgrammeStatus.RUNNING:
            # Only a segment still running ends here: a pause (the console's too) or a
            # turn begun meanwhile (advisory) owns what happens next.
            self._end_segment(skipped=False, at=self._clock.now())

    def snapshot(self) -> EngineSnapshot:
        """Return what the entities show now."""
        run = self._run
        if run is None:
            if self._final is None:
                return EngineSnapshot(self.status, self.direction, self.advisory)
            # The last session's totals stay visible until the next programme starts.
            return replace(
                self._final, status=self.status, direction=self.direction, advisory=self.advisory
            )
        self._accrue()
        now = self._clock.now()
        interval = self._current_interval()
        running = self.status in _MOVING
        return EngineSnapshot(
            status=self.status,
            direction=self.direction,
            advisory=self.advisory,
            programme_key=run.key,
            programme_name=run.timeline.programme.name,
            interval_index=interval.index if interval else None,
            interval_count=len(run.timeline.intervals),
            interval_label=interval.label if interval else None,
            interval_label_key=interval.label_key if interval else None,
            interval_ends_at=self._interval_ends_at() if running else None,
            programme_ends_at=now + timedelta(seconds=self._remaining(now)) if running else None,
            progress=self._progress(now),
            distance_m=round(sum(run.distance.values()), 2),
            backward_distance_m=round(run.distance.get(Direction.BACKWARD, 0.0), 2),
            backward_time_s=round(run.time.get(Direction.BACKWARD, 0.0), 2),
            forward_distance_m=round(run.distance.get(Direction.FORWARD, 0.0), 2),
            forward_time_s=round(run.time.get(Direction.FORWARD, 0.0), 2),
            target_speed=run.target_speed,
            target_incline=run.target_incline,
        )

    async def close(self) -> None:
        """Cancel every timer and task and let go of the treadmill (HA unload)."""
        self._flush_later()  # what was held back is told while the listeners still listen
        self._drop_commands()
        self._cancel_timers()
        for cancel in self._run_timers:
            cancel()
        self._run_timers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self.interlock.close()

    def _check_manual(self, name: str, value: float, rng: Range | None) -> None:
        """Refuse manual changes the machine cannot take."""
        if not self.can_control:
            raise ProgrammeError(
                name, "this treadmill does not take commands", ErrorKind.NOT_CONTROLLABLE
            )
        if rng is not None and not rng.minimum - 1e-6 <= value <= rng.maximum + 1e-6:
            unit = "km/h" if name == "speed" else "%"
            raise ProgrammeError(
                name,
                f"{fmt(value)} {unit} is outside this treadmill's {name} range of "
                f"{fmt(rng.minimum)}-{fmt(rng.maximum)} {unit}",
                ErrorKind.OUTSIDE_MACHINE_SPEED
                if name == "speed"
                else ErrorKind.OUTSIDE_MACHINE_INCLINE,
                {"value": fmt(value), "min": fmt(rng.minimum), "max": fmt(rng.maximum)},
            )
