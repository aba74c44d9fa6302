"""Run a compiled programme against a treadmill, safely (safety rules 1-11)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import logging
import math
from typing import Any
import uuid

from ..treadmill.base import (
    CommandError,
    CommandFailure,
    DataField,
    LiveData,
    MachineEvent,
    MachineEventType,
    Range,
    Treadmill,
)
from ..treadmill.clock import Cancel, Clock, sleep_until
from .compiler import (
    STAGGER_S,
    TURN_SLOW_TIMEOUT_S,
    Interval,
    Phase,
    PhaseKind,
    Step,
    StepKind,
    Timeline,
    compile_programme,
    interval_data,
    snap,
)
from .events import CueType, Direction, EngineEvent, EventType, ProgrammeStatus
from .interlock import AT_REST_KMH, Interlock, InterlockError, Origin, Verb
from .options import EngineOptions, TurnMode
from .schema import ErrorKind, Programme, ProgrammeError, fmt
from .session import SegmentActual, SessionOutcome, SessionRecord

_LOGGER = logging.getLogger(__name__)

SUMMARY_QUIET_END_S = 30.0  # no periodic summary in the last half minute
WAIT_FOR_PERSON_S = 600.0  # rule 9: give up waiting after 10 minutes
TURN_SPEED_TOLERANCE = 0.01  # km/h: the FTMS speed resolution
_TICKS = (3, 2, 1)
_MAX_DISTANCE_JUMP_M = 100.0  # a bigger jump is a machine counter reset, not walking
DISTANCE_STALL_S = 10.0  # rule 8: a distance counter still for this long is not trusted
CUE_RECEIPT_WAIT_S = 10.0  # rule 2: a turn waits this long for its cue to be accepted

_ACTIVE = frozenset(
    {
        ProgrammeStatus.WAITING,
        ProgrammeStatus.COUNTDOWN,
        ProgrammeStatus.RUNNING,
        ProgrammeStatus.PAUSED,
        ProgrammeStatus.TURNING,
    }
)
_MOVING = frozenset({ProgrammeStatus.RUNNING, ProgrammeStatus.TURNING})
_HELD_CUES = frozenset({CueType.SPEED_CHANGE, CueType.INCLINE_CHANGE})

type Listener = Callable[[EngineEvent], None]
type SessionListener = Callable[[SessionRecord], None]


class EngineBusyError(RuntimeError):
    """A programme is already active."""


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """Everything the entities show, at one moment."""

    status: ProgrammeStatus
    direction: Direction
    advisory: bool
    programme_key: str | None = None
    programme_name: str | None = None
    interval_index: int | None = None
    interval_count: int | None = None
    interval_label: str | None = None
    interval_label_key: str | None = None
    interval_ends_at: datetime | None = None
    programme_ends_at: datetime | None = None
    progress: float = 0.0
    distance_m: float = 0.0
    backward_distance_m: float = 0.0
    backward_time_s: float = 0.0
    forward_distance_m: float = 0.0
    forward_time_s: float = 0.0
    target_speed: float | None = None
    target_incline: float | None = None


@dataclass(slots=True)
class _SegmentMeter:
    """Running totals of the segment being walked."""

    time_s: float = 0.0
    distance_m: float = 0.0
    started: bool = False


@dataclass(slots=True)
class _Run:
    """Mutable state of the programme being run."""

    timeline: Timeline
    key: str | None
    session_id: str
    started_at: datetime
    phase_index: int = 0
    phase_start: datetime | None = None  # None until the phase is entered
    elapsed: float = 0.0  # s into the phase when paused
    done_steps: set[int] = field(default_factory=set)
    lead_said: bool = False
    belt_moving: bool = False
    target_speed: float = 0.0
    target_incline: float | None = None
    turn_slowed: bool = False
    speed_raised_at: datetime | None = None
    incline_raised_at: datetime | None = None
    turn_samples: list[float] = field(default_factory=list)
    waiting_at_turn: bool = False
    phase_distance: float = 0.0
    last_distance: float | None = None
    accrued_at: datetime | None = None
    distance: dict[str, float] = field(default_factory=dict)
    time: dict[str, float] = field(default_factory=dict)
    meter: _SegmentMeter = field(default_factory=_SegmentMeter)
    segments: list[SegmentActual] = field(default_factory=list)
    origin: Origin = Origin.PERSON  # who started it: the countdown's start carries it
    wait_cue_pending: bool = False  # a pause-and-wait turn is told once the belt is at rest
    resume_waits: bool = False  # an automation's resume waits for the person (rule 9)
    distance_moved_at: datetime | None = None  # when the measured distance last advanced
    distance_stalled: bool = False  # rule 8: this segment's distance is estimated
    stall_said: bool = False
    start_cues_said: bool = False
    lead_said_at: datetime | None = None
    end_held_until: datetime | None = None  # a measured segment waits for its turn cue
    start_carried_speed: bool = False  # our start set the speed: no need to resend it
    turn_cue: EngineEvent | None = None  # the turn cue said for the coming turn
    turn_cue_heard: bool = False  # a working speaker accepted it (rule 2)
    receipt_wait_since: datetime | None = None  # the turn waits for the cue's receipt
    receipt_missed: bool = False  # it never came: this turn falls back to pause-and-wait

    @property
    def phase(self) -> Phase:
        """Return the current phase."""
        return self.timeline.phases[self.phase_index]


def _iso(moment: datetime | None) -> str | None:
    """Return ISO 8601 or None."""
    return moment.isoformat() if moment else None


class Engine:
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
        self._run: _Run | None = None
        self._last_session: SessionRecord | None = None
        self._final: EngineSnapshot | None = None
        self._listeners: list[Listener] = []
        self._session_listeners: list[SessionListener] = []
        self._timers: list[Cancel] = []  # belong to the current phase or countdown
        self._run_timers: list[Cancel] = []  # belong to the whole run (summary, waiting)
        self._queue: deque[tuple[Verb, float | None, Origin]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[EventType | CueType, dict[str, Any]]] | None = None
        self._starting_worker = False
        self._dropped_while_starting = False
        self._unsubscribe: Callable[[], None] | None = treadmill.subscribe(
            self._on_data, self._on_event
        )

    # ----- public API -------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Return whether a programme is active (waiting, counting down, running, paused)."""
        return self.status in _ACTIVE

    @property
    def can_control(self) -> bool:
        """Return whether Home Assistant may send commands to this treadmill at all."""
        return self._treadmill.capabilities.controllable and self._options.remote_control

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
        if run.receipt_wait_since is not None:
            run.receipt_wait_since = None
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

    # ----- events -------------------------------------------------------------------

    def _emit(self, kind: EventType | CueType, **data: Any) -> None:
        """Tell every listener; public events carry the interval's data."""
        if self._held is not None and kind in _HELD_CUES:
            self._held.append((kind, data))
            return
        self._tell(self._event(kind, data))

    def _event(self, kind: EventType | CueType, data: dict[str, Any]) -> EngineEvent:
        """Return an event of now; public events carry the interval's data."""
        if isinstance(kind, EventType):
            data = {**self._interval_data(), **data}
        return EngineEvent(kind, self._clock.now(), data)

    def _tell(self, event: EngineEvent) -> None:
        """Hand an event to every listener."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must never stop the belt logic
                _LOGGER.exception("Engine listener failed on %s", event.type)

    def _interval_data(self) -> dict[str, Any]:
        """Return the interval data every public event carries."""
        run = self._run
        interval = self._current_interval()
        if run is None or interval is None:
            return {}
        return interval_data(run.timeline, interval, run.key) | {
            "ends_at": _iso(self._interval_ends_at())
        }

    def _set_status(self, status: ProgrammeStatus) -> None:
        """Change status, accruing time first."""
        self._accrue()
        self.status = status
        self._sync_interlock()

    def _set_direction(self, direction: Direction) -> None:
        """Change direction, accruing time first."""
        self._accrue()
        self.direction = direction
        self._sync_interlock()

    def _sync_interlock(self) -> None:
        """Tell the interlock which way the person faces, or is about to (rule 3)."""
        self.interlock.set_direction(self.direction, about_backward=self._about_backward())

    def _about_backward(self) -> bool:
        """Return whether the person is about to face backward (turn or backward start)."""
        run = self._run
        if run is None or self.status not in _ACTIVE:
            return False
        phase = run.phase
        backward = phase.direction.value == Direction.BACKWARD.value
        if phase.kind is PhaseKind.TURN:
            return backward  # turning to backward, or paused in that turn
        return backward and self.direction is Direction.STOPPED

    # ----- countdown and phases -----------------------------------------------------

    def _start_countdown(self, *, first: bool = False) -> None:
        """Count down before the belt starts (rule 9); any stop cancels it."""
        run = self._run
        assert run is not None
        if not self.advisory and not self._speaker_check():
            self._wait_for_console()  # rule 9: nobody would hear the countdown
            return
        self._set_status(ProgrammeStatus.COUNTDOWN)
        seconds = self._options.start_countdown
        self._emit(CueType.COUNTDOWN, seconds=seconds)
        if first or not run.start_cues_said:
            run.start_cues_said = True  # how to step on, before the first start only
            for step in run.timeline.start_cues:
                self._emit(step.cue or CueType.MOUNT, **step.data)
        end = self._clock.now() + timedelta(seconds=seconds)
        for tick in _TICKS:
            self._at(end - timedelta(seconds=tick), self._tick_cb(tick))
        self._at(end, lambda: self._countdown_done(end))

    def _tick_cb(self, seconds: int) -> Callable[[], None]:
        """Return a callback saying one countdown tick."""
        return lambda: self._emit(CueType.COUNTDOWN_TICK, seconds=seconds)

    def _countdown_done(self, at: datetime) -> None:
        """Start the belt, its speed set first (rule 3), and enter the phase."""
        run = self._run
        assert run is not None
        self._timers.clear()
        if not self.advisory and not self._speaker_check():
            self._wait_for_console()  # the speakers failed during the countdown
            return
        speed = self._start_speed()
        self.interlock.release_start()
        self._command(Verb.START, speed)
        run.target_speed = speed
        run.speed_raised_at = at
        run.belt_moving = True
        run.start_carried_speed = True
        self._enter_phase(run.phase_index, at, run.elapsed)

    def _start_speed(self) -> float:
        """Return the speed the belt starts at: the segment's, where it was."""
        run = self._run
        assert run is not None
        speed = run.target_speed or (run.phase.interval.speed if run.phase.interval else 0.0)
        for step in run.phase.steps:
            if step.offset > run.elapsed:
                break
            if step.kind is StepKind.SPEED:
                speed = step.value
        return speed

    def _wait_for_person(self) -> None:
        """Wait until the person confirms at the treadmill; give up after 10 minutes."""
        run = self._run
        assert run is not None
        self._cancel_timers()
        self._set_status(ProgrammeStatus.WAITING)
        self._emit(CueType.WAITING_FOR_PERSON, timeout_s=WAIT_FOR_PERSON_S)
        for cancel in self._run_timers:
            cancel()
        self._run_timers.clear()
        deadline = self._clock.now() + timedelta(seconds=WAIT_FOR_PERSON_S)
        self._run_timers.append(self._clock.call_at(deadline, lambda: self._abort("no_person")))

    def _wait_for_console(self) -> None:
        """No working speaker: the person starts the belt on the console (rule 9)."""
        self._cancel_timers()
        self.interlock.withdraw_start()
        self._set_status(ProgrammeStatus.PAUSED)
        self._emit(CueType.START_ON_CONSOLE)
        self._emit(EventType.PROGRAMME_PAUSED, reason="no_speaker")

    def _secure_stored_target(self) -> None:
        """Before a backward-first start, lower the machine's stored speed (rule 3)."""
        if self.interlock.capped and self._may_command():
            self._command(Verb.LOWER_TARGET, self._start_speed())

    def _continue(self, *, countdown: bool) -> None:
        """Go on from a pause: turns finish safely, segments carry on where they were."""
        run = self._run
        assert run is not None
        if run.phase.kind is PhaseKind.TURN:
            run.waiting_at_turn = False
            # The link may have dropped as the turn began, or the person restarted the
            # belt: whatever it does, it is slowed (or paused) again before anyone turns.
            self._begin_turn(self._clock.now(), resumed=True)
            return
        if countdown and not run.belt_moving:
            self._start_countdown()
            return
        if not run.start_cues_said:
            # Started on the console before any countdown (no speaker): how to step on,
            # and the knee warning of a half-squat start, are still said first.
            run.start_cues_said = True
            for step in run.timeline.start_cues:
                self._emit(step.cue or CueType.MOUNT, **step.data)
        self._enter_phase(run.phase_index, self._clock.now(), run.elapsed)

    def _enter_phase(self, index: int, at: datetime, elapsed: float = 0.0) -> None:
        """Begin (or resume) a phase whose clock started `elapsed` s before `at`."""
        run = self._run
        assert run is not None
        run.phase_index = index
        run.phase_start = at - timedelta(seconds=elapsed)
        run.elapsed = 0.0
        run.end_held_until = None
        if run.phase.kind is PhaseKind.TURN:
            self._begin_turn(at)
            return
        fresh = not run.meter.started
        self._set_status(ProgrammeStatus.RUNNING)
        self._set_direction(Direction(run.phase.direction.value))
        if fresh:
            run.meter = _SegmentMeter(started=True)
            run.phase_distance = 0.0
            run.lead_said = False
            run.lead_said_at = None
            run.done_steps = set()
            run.distance_stalled = False
            run.distance_moved_at = at
        else:
            self._reapply_targets(at, elapsed)
            self._hold_turn_for_fresh_cue()
        # The belt commands due now go out first, before any listener runs; what they
        # say is told after the interval's start, which names the speed already.
        self._held = [] if fresh else None
        self._schedule_steps(fresh)
        held, self._held = self._held or [], None
        if fresh:
            self._align_incline(at)
            self._emit(EventType.INTERVAL_STARTED)
        for kind, data in held:
            self._emit(kind, **data)
        self._schedule_phase_end()

    def _schedule_steps(self, fresh: bool) -> None:
        """Run the belt commands due now at once (before any listener), time the rest."""
        run = self._run
        assert run is not None
        assert run.phase_start is not None
        now = self._clock.now()
        for number, step in enumerate(run.phase.steps):
            if number in run.done_steps:
                continue
            when = run.phase_start + timedelta(seconds=step.offset)
            if fresh and when <= now and step.kind is not StepKind.CUE:
                self._step_cb(number, step)()
            else:
                self._at(when, self._step_cb(number, step))

    def _schedule_phase_end(self) -> None:
        """Time the segment's end, its lead cues and its longest allowed duration."""
        run = self._run
        assert run is not None
        assert run.phase_start is not None
        end = self._phase_end_at()
        if end is not None:
            self._schedule_end(end)
            if not run.lead_said:
                self._at(
                    end - timedelta(seconds=self._options.cue_lead_time),
                    lambda: self._say_lead_cues(end),
                )
        longest = self._longest(run.phase)
        if longest is not None:
            # Rule 8's bound includes the turn cue's lead: it is said a lead time before.
            limit = run.phase_start + timedelta(seconds=longest)
            if not run.lead_said:
                lead = timedelta(seconds=self._options.cue_lead_time)
                self._at(limit - lead, lambda: self._say_lead_cues(limit))
            self._at(limit, lambda: self._end_segment(skipped=False, at=limit))

    def _longest(self, phase: Phase) -> float | None:
        """Return a distance segment's longest duration: its distance at half speed (rule 8)."""
        if phase.distance is None:
            return None
        limit = getattr(phase, "max_duration", None)
        if limit is not None:
            return float(limit)
        speed = phase.interval.speed if phase.interval else 0.0
        return phase.distance / (max(speed, 0.1) / 2 / 3.6)

    def _hold_turn_for_fresh_cue(self) -> None:
        """After a pause, a turn due within the lead time is moved and announced again."""
        run = self._run
        assert run is not None
        assert run.phase_start is not None
        following = self._phase_after(run.phase_index)
        if following is None or following.kind is not PhaseKind.TURN:
            return
        end = self._phase_end_at()
        if end is None:
            # Measured distance: the cue is said afresh as the end nears, and the end is
            # held a full lead time after it (_turn_held_until).
            run.lead_said = False
            return
        lead = self._options.cue_lead_time
        left = (end - self._clock.now()).total_seconds()
        if left < lead - 1e-6:
            run.phase_start += timedelta(seconds=lead - left)
            run.lead_said = False  # said again, a full lead time ahead (rule 2)
        elif run.lead_said:
            # Said before the pause (the person may have stepped off since): said again,
            # and heard again, before this turn (rule 2).
            run.lead_said = False

    def _align_incline(self, at: datetime) -> None:
        """Start a segment at its own incline, even after a skip cut the last one short."""
        run = self._run
        assert run is not None
        interval = run.phase.interval
        if interval is None or interval.incline is None:
            return
        if any(step.kind is StepKind.INCLINE for step in run.phase.steps):
            return  # the segment sets its incline itself
        current = run.target_incline
        if current is not None and abs(current - interval.incline) < 1e-6:
            return
        wanted = interval.incline
        if current is not None and wanted < current:
            self._incline(wanted)
        else:
            self._at(at + timedelta(seconds=STAGGER_S), lambda: self._incline(wanted))

    def _reapply_targets(self, at: datetime, elapsed: float) -> None:
        """After a restart of the belt, set the speed again, then the incline (rule 4)."""
        run = self._run
        assert run is not None
        # The phase's own steps up to `elapsed` decide (the pause may have cancelled one
        # before it ran); without any, what the previous phase left applies.
        speed, incline = run.target_speed, run.target_incline
        for number, step in enumerate(run.phase.steps):
            if step.offset > elapsed:
                break
            if step.kind is StepKind.SPEED:
                speed = step.value
                run.done_steps.add(number)
            elif step.kind is StepKind.INCLINE:
                incline = step.value
                run.done_steps.add(number)
        if speed > 0:
            # The machine resumes at its stored target: resent unless known to be it (or
            # our own start has just set it).
            carried, run.start_carried_speed = run.start_carried_speed, False
            self._speed(speed, force=not carried and self.interlock.stored_target != speed)
        if incline is not None:
            run.target_incline = incline
            self._at(at + timedelta(seconds=STAGGER_S), self._reapply_incline)

    def _reapply_incline(self) -> None:
        """Send the incline target as it is now (a step may have changed it meanwhile)."""
        run = self._run
        assert run is not None
        if run.target_incline is not None:
            self._incline(run.target_incline, force=True)

    def _step_cb(self, number: int, step: Step) -> Callable[[], None]:
        """Return a callback running one step."""

        def run_step() -> None:
            run = self._run
            assert run is not None
            run.done_steps.add(number)
            if step.kind is StepKind.SPEED:
                self._speed(step.value)
            elif step.kind is StepKind.INCLINE:
                self._incline(step.value)
            elif step.cue is not None:
                self._emit(step.cue, **step.data)

        return run_step

    def _phase_end_at(self) -> datetime | None:
        """Return when the current segment ends, None when it ends on measured distance."""
        run = self._run
        assert run is not None
        assert run.phase_start is not None
        phase = run.phase
        if phase.duration is not None:
            return run.phase_start + timedelta(seconds=phase.duration)
        if not self._estimating():
            return None
        remaining = max((phase.distance or 0.0) - run.phase_distance, 0.0)
        speed = max(run.target_speed, phase.interval.speed if phase.interval else 0.5)
        return self._clock.now() + timedelta(seconds=remaining / (speed / 3.6))

    def _schedule_end(self, end: datetime) -> None:
        """End the segment at an absolute moment."""
        self._at(end, lambda: self._end_segment(skipped=False, at=end))

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
        if self._wait_for_receipt(skipped=skipped):
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
        if run.receipt_wait_since is None:
            run.receipt_wait_since = now
            _LOGGER.info("The turn waits for its cue to be accepted by a speaker")
        give_up = run.receipt_wait_since + timedelta(seconds=CUE_RECEIPT_WAIT_S)
        longest = self._longest(run.phase)
        if longest is not None and run.phase_start is not None:
            # Rule 8 holds too: a distance segment never outlasts its bound, heard or not.
            give_up = min(give_up, run.phase_start + timedelta(seconds=longest))
        if now >= give_up:
            run.receipt_missed, run.receipt_wait_since = True, None
            _LOGGER.warning("No speaker accepted the turn cue: pausing at the turn instead")
            return False

        def missed() -> None:
            self._end_segment(skipped=skipped, at=give_up)

        self._at(give_up, missed)
        return True

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

    def _next_phase(self, at: datetime) -> None:
        """Enter the next phase or complete the programme."""
        run = self._run
        assert run is not None
        run.meter = _SegmentMeter()
        if run.phase_index + 1 >= len(run.timeline.phases):
            self._complete()
            return
        self._enter_phase(run.phase_index + 1, at)

    def _phase_after(self, index: int) -> Phase | None:
        """Return the phase after `index`, if any."""
        phases = self._run.timeline.phases if self._run else ()
        return phases[index + 1] if index + 1 < len(phases) else None

    # ----- turns (rule 1, rule 2) ---------------------------------------------------

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
        run.target_incline = hold
        self._command(Verb.SET_INCLINE, hold, Origin.SAFETY)

    def _faster_than(self, speed: float) -> bool:
        """Return whether the belt's target is above `speed` (so setting `speed` lowers it).

        The machine's stored target decides when the interlock knows it; otherwise (a
        command lost with the link) the engine's target or the measured speed.
        """
        run = self._run
        assert run is not None
        stored = self.interlock.stored_target
        if stored is not None:
            return stored > speed + 1e-6
        measured = self._treadmill.data.speed
        return run.target_speed > speed + 1e-6 or (measured is not None and measured > speed + 1e-6)

    def _belt_started(self) -> bool:
        """Return whether the belt runs by command or status (a pause still coasting: no)."""
        run = self._run
        return (run is not None and run.belt_moving) or self.interlock.running

    def _belt_may_move(self) -> bool:
        """Return whether the belt may be moving, as the engine or the interlock knows."""
        run = self._run
        return (run is not None and run.belt_moving) or self.interlock.belt_moving

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

    # ----- belt commands ------------------------------------------------------------

    def _may_command(self) -> bool:
        """Return whether the engine may move the belt now (not advisory, rule 10)."""
        return self.can_control and not self.advisory

    def _raise_wait(self, verb: Verb) -> float:
        """Return how long a raise must wait for the other kind's raise (rule 4)."""
        run = self._run
        assert run is not None
        wait = self.interlock.raise_wait(verb) if self._may_command() else 0.0
        other = run.incline_raised_at if verb is Verb.SET_SPEED else run.speed_raised_at
        if other is not None:
            passed = (self._clock.now() - other).total_seconds()
            wait = max(wait, STAGGER_S - passed)
        return wait

    def _speed(self, value: float, *, force: bool = False) -> None:
        """Set the target speed: a command, or a spoken instruction in advisory mode."""
        run = self._run
        assert run is not None
        self._accrue()
        rising = value > run.target_speed + 1e-6
        if rising:
            wait = self._raise_wait(Verb.SET_SPEED)
            if wait > 1e-9:
                # Rule 4 at run time too: a manual incline raise came just before.
                later = self._clock.now() + timedelta(seconds=wait)
                self._at(later, lambda: self._speed(value))
                return
            run.speed_raised_at = self._clock.now()
        changed = force or abs(value - run.target_speed) > 1e-6
        run.target_speed = value
        if changed:
            self._command(Verb.SET_SPEED, value)
        self._emit(CueType.SPEED_CHANGE, speed=value, advisory=self.advisory)

    def _incline(self, value: float, *, force: bool = False) -> None:
        """Set the target incline: a command, or a spoken instruction in advisory mode."""
        run = self._run
        assert run is not None
        if self.status is ProgrammeStatus.TURNING:
            return  # never in a turn (rule 1); the next segment sets its own
        rising = run.target_incline is None or value > run.target_incline + 1e-6
        if rising:
            wait = self._raise_wait(Verb.SET_INCLINE)
            if wait > 1e-9:
                later = self._clock.now() + timedelta(seconds=wait)
                self._at(later, lambda: self._incline(value, force=force))
                return
            run.incline_raised_at = self._clock.now()
        changed = force or run.target_incline is None or abs(value - run.target_incline) > 1e-6
        run.target_incline = value
        if changed and self._treadmill.capabilities.incline is not None:
            self._command(Verb.SET_INCLINE, value)
        self._emit(CueType.INCLINE_CHANGE, incline=value, advisory=self.advisory)

    def _command(self, verb: Verb, value: float | None, origin: Origin = Origin.PROGRAMME) -> None:
        """Queue a belt command for the interlock; commands run one at a time, in order."""
        if verb is not Verb.STOP and not self._may_command():
            return
        self._queue.append((verb, value, origin))
        if self._starting_worker:
            return  # the worker being started (eagerly, below us) takes it
        if self._worker is None or self._worker.done():
            self._worker = self._spawn(self._work())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start a task the engine owns, eagerly: its first write leaves in this call.

        Eager, so that the belt command is written before the boundary's listeners and
        before other treadmills' boundaries due in the same loop pass (scale figure).
        """
        self._starting_worker = True
        self._dropped_while_starting = False
        try:
            task: asyncio.Task[None] = asyncio.Task(
                coro, loop=asyncio.get_running_loop(), eager_start=True
            )
        finally:
            self._starting_worker = False
        if self._dropped_while_starting:
            task.cancel()  # a stop or pause came while it started: nothing more of it
            if self._queue:  # what was asked after the drop (a stop) still goes out
                self._own(task)
                task = asyncio.get_running_loop().create_task(self._work())
        self._own(task)
        return task

    def _own(self, task: asyncio.Task[None]) -> None:
        """Keep a task until it is done, so close() can cancel it."""
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self) -> None:
        """Send queued commands one by one; a failure or a refusal pauses the programme."""
        while self._queue:
            verb, value, origin = self._queue.popleft()
            try:
                await self._call(verb, value, origin)
            except InterlockError as err:
                self._after_start(self._command_refused, verb, err)
                return
            except CommandError as err:
                if err.failure is CommandFailure.SUPERSEDED:
                    continue  # a stop came first: this one must never reach the belt
                self._after_start(self._command_failed, verb, err)
                return

    def _after_start[E: Exception](
        self, handle: Callable[[Verb, E], None], verb: Verb, err: E
    ) -> None:
        """Handle a failure at once, or, while the worker is still being started, just after.

        An eagerly started worker can fail inside the caller that queued the command
        (a countdown entering its phase): the caller finishes first, then the pause comes.
        """
        if self._starting_worker:
            asyncio.get_running_loop().call_soon(handle, verb, err)
        else:
            handle(verb, err)

    async def _call(self, verb: Verb, value: float | None, origin: Origin) -> None:
        """Hand one command to the interlock, which decides and sends it."""
        lock = self.interlock
        if verb is Verb.STOP:
            await lock.stop(origin)
        elif verb is Verb.PAUSE:
            await lock.pause(origin)
        elif value is None:  # pragma: no cover - every other verb carries a value
            raise ValueError(verb)
        elif verb is Verb.START:
            await lock.start(origin, value)
        elif not await self._in_time(verb, value):
            return
        elif verb is Verb.SET_SPEED:
            await lock.set_speed(origin, value)
        elif verb is Verb.SET_INCLINE:
            await lock.set_incline(origin, value)
        elif verb is Verb.LOWER_TARGET:
            await lock.lower_target(origin, value)

    async def _in_time(self, verb: Verb, value: float) -> bool:
        """Ask for a raise only when rule 4 allows it; drop an incline raise a turn overtook.

        A command can reach the interlock later than planned, queued behind one whose
        reply is late (the start's speed): the raise of the other kind it was staggered
        against may have gone out later than planned too.
        """
        if verb not in (Verb.SET_SPEED, Verb.SET_INCLINE) or not self.interlock.is_raise(
            verb, value
        ):
            return True
        wait = self.interlock.raise_wait(verb)
        if wait > 0:
            await sleep_until(self._clock, self._clock.now() + timedelta(seconds=wait))
        # The incline never rises in a turn (a turn may have begun while it waited):
        # dropped, the next segment sets its own.
        return verb is not Verb.SET_INCLINE or self.interlock.direction is not Direction.TURNING

    def _command_refused(self, verb: Verb, err: InterlockError) -> None:
        """Pause after the interlock refused one of the programme's own commands (a defect)."""
        _LOGGER.error("The interlock refused the programme's %s: %s", verb, err)
        self._command_failed(verb, CommandError(verb.value, CommandFailure.OPERATION_FAILED))

    def _command_failed(self, verb: Verb, err: CommandError) -> None:
        """Pause the programme after a command failed midway, and say so."""
        self._queue.clear()
        self._emit(CueType.COMMAND_FAILED, command=verb.value, reason=err.failure.value)
        run = self._run
        if run is None or self.status not in _MOVING | {ProgrammeStatus.COUNTDOWN}:
            return
        # A start whose reply was lost may have started the belt all the same.
        belt_may_move = self._belt_may_move() or verb is Verb.START
        self._enter_paused("command_failed")
        if belt_may_move and self._may_command():
            self._queue.append((Verb.PAUSE, None, Origin.SAFETY))  # best effort
            self._worker = self._spawn(self._work())

    def _drop_commands(self) -> None:
        """Forget queued commands and cancel the one in flight."""
        self._queue.clear()
        self._dropped_while_starting = self._starting_worker
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._worker = None

    # ----- pauses and faults --------------------------------------------------------

    def _enter_paused(self, reason: str) -> None:
        """Stop the timeline where it is; nothing moves until the person resumes (rule 6)."""
        run = self._run
        assert run is not None
        self._drop_commands()
        now = self._clock.now()
        if self.status is ProgrammeStatus.RUNNING and run.phase_start is not None:
            run.elapsed = self._phase_elapsed(now)
        self._cancel_timers()
        self.interlock.withdraw_start()
        run.belt_moving = False
        run.turn_slowed = False
        run.wait_cue_pending = False
        self._set_status(ProgrammeStatus.PAUSED)
        self._emit(EventType.PROGRAMME_PAUSED, reason=reason)

    def _on_event(self, event: MachineEvent) -> None:
        """React to what the machine and the link report."""
        run = self._run
        if run is None or not self.active:
            return
        kind = event.type
        if kind is MachineEventType.STARTED:
            self._console_started()
        elif kind in (MachineEventType.PAUSED, MachineEventType.DISCONNECTED):
            if self.status in _MOVING | {ProgrammeStatus.COUNTDOWN}:
                reason = "console_pause" if kind is MachineEventType.PAUSED else "disconnected"
                self._enter_paused(reason)
            run.belt_moving = False
            self._drop_commands()
        elif kind is MachineEventType.STOPPED:
            self._drop_commands()
            self._finish(SessionOutcome.STOPPED, "console_stop")
        elif kind is MachineEventType.SAFETY_KEY:
            self._drop_commands()
            self._emit(CueType.SAFETY_KEY)
            self._abort("safety_key")
        elif kind in (
            MachineEventType.TARGET_SPEED_CHANGED,
            MachineEventType.TARGET_INCLINE_CHANGED,
            MachineEventType.CONTROL_LOST,
        ):
            reason = "control_lost" if kind is MachineEventType.CONTROL_LOST else "console_change"
            self._to_advisory(reason)

    def _console_started(self) -> None:
        """Take a console start as the person's confirmation, or as a resume."""
        run = self._run
        assert run is not None
        if self.status is ProgrammeStatus.WAITING:
            run.belt_moving = True
            self.confirm_person()
            return
        was_moving, run.belt_moving = run.belt_moving, True
        if self.status is ProgrammeStatus.PAUSED:
            # The person started it: no countdown needed.
            self._emit(EventType.PROGRAMME_RESUMED)
            self._continue(countdown=False)
        elif self.status is ProgrammeStatus.TURNING and not was_moving:
            # Restarted mid-turn: slow it down again before anyone turns.
            self._cancel_timers()
            self._begin_turn(self._clock.now())
        elif self.status is ProgrammeStatus.COUNTDOWN:
            # Started before the countdown ended: the segment's speed applies at once.
            self._cancel_timers()
            self._enter_phase(run.phase_index, self._clock.now(), run.elapsed)

    def _to_advisory(self, reason: str) -> None:
        """Let the person decide from now on (rule 10): no more belt commands."""
        if self.advisory:
            return
        self._drop_commands()
        self.advisory = True
        self._emit(CueType.ADVISORY_MODE, reason=reason)
        run = self._run
        assert run is not None
        if self.status is ProgrammeStatus.TURNING and not run.turn_slowed:
            # The turn is timed from now: the person slows the belt (never stalls).
            self._cancel_timers()
            slowed_at = self._clock.now() + timedelta(seconds=self._options.turn_duration)
            self._at(slowed_at, lambda: self._turn_slowed(slowed_at))
        if self.status is ProgrammeStatus.RUNNING and run.phase.distance is not None:
            end = self._phase_end_at()  # now estimated from time and speed
            if end is not None:
                self._schedule_end(end)

    def _on_data(self, data: LiveData) -> None:
        """Count distance and watch turns and distance segments."""
        run = self._run
        if run is None or not self.active:
            return
        self._accrue()
        if data.distance is not None:
            if run.last_distance is not None and not self._estimating():
                delta = data.distance - run.last_distance
                if 0 <= delta <= _MAX_DISTANCE_JUMP_M:
                    self._add_distance(delta)
                self._watch_distance_counter(delta > 0, data)
            run.last_distance = data.distance
        self._say_wait_cue_when_at_rest(data)
        self._check_turn_speed(data)
        self._check_distance_segment()

    def _watch_distance_counter(self, advanced: bool, data: LiveData) -> None:
        """Rule 8: a counter still for 10 s while the belt runs is replaced by speed x time."""
        run = self._run
        assert run is not None
        now = self._clock.now()
        belt_runs = data.speed is not None and data.speed > AT_REST_KMH
        if advanced or not belt_runs or run.distance_moved_at is None:
            run.distance_moved_at = now
            return
        stalled_for = (now - run.distance_moved_at).total_seconds()
        if stalled_for < DISTANCE_STALL_S or self.status is not ProgrammeStatus.RUNNING:
            return
        run.distance_stalled = True
        if not run.stall_said:
            run.stall_said = True  # said once a session
            self._emit(CueType.DISTANCE_ESTIMATED)
        if run.phase.distance is not None:
            end = self._phase_end_at()  # now estimated from time and speed
            if end is not None:
                self._schedule_end(end)

    def _check_distance_segment(self) -> None:
        """End a measured distance segment, saying the lead cues in time."""
        run = self._run
        assert run is not None
        phase = run.phase
        if self.status is not ProgrammeStatus.RUNNING or phase.distance is None:
            return
        if self._estimating() or run.end_held_until is not None:
            return
        remaining = phase.distance - run.phase_distance
        now = self._clock.now()
        if remaining <= 0:
            self._end_segment(skipped=False, at=now)
            return
        seconds = remaining / (max(run.target_speed, 0.5) / 3.6)
        if seconds <= self._options.cue_lead_time:
            self._say_lead_cues(now + timedelta(seconds=seconds))

    # ----- accounting ---------------------------------------------------------------

    def _estimating(self) -> bool:
        """Return whether distance is estimated from time and target speed."""
        run = self._run
        stalled = run is not None and run.distance_stalled
        return self.advisory or stalled or self._treadmill.data.distance is None

    def _accrue(self) -> None:
        """Add time (and estimated distance) since the last accrual."""
        run = self._run
        if run is None or run.accrued_at is None:
            return
        now = self._clock.now()
        seconds = max((now - run.accrued_at).total_seconds(), 0.0)
        run.accrued_at = now
        if self.status not in _MOVING or seconds == 0:
            return
        key = self.direction.value
        run.time[key] = run.time.get(key, 0.0) + seconds
        if self.status is ProgrammeStatus.RUNNING:
            run.meter.time_s += seconds
        if self._estimating():
            self._add_distance(run.target_speed / 3.6 * seconds)

    def _add_distance(self, metres: float) -> None:
        """Attribute walked distance to the direction, the segment and the phase."""
        run = self._run
        assert run is not None
        key = self.direction.value
        run.distance[key] = run.distance.get(key, 0.0) + metres
        if self.status is ProgrammeStatus.RUNNING:
            run.meter.distance_m += metres
            run.phase_distance += metres

    def _record_segment(self, *, skipped: bool) -> None:
        """Store planned against actual for the segment just ended."""
        run = self._run
        assert run is not None
        self._accrue()
        interval = run.phase.interval
        if interval is None:  # pragma: no cover - only segments are recorded
            return
        meter = run.meter
        speed = meter.distance_m / meter.time_s * 3.6 if meter.time_s > 0 else None
        run.segments.append(
            SegmentActual(
                index=interval.index,
                label_key=interval.label_key,
                direction=interval.segment.direction.value,
                planned_duration_s=interval.segment.duration,
                planned_distance_m=interval.segment.distance,
                planned_speed=interval.speed,
                actual_duration_s=round(meter.time_s, 2),
                actual_distance_m=round(meter.distance_m, 2),
                average_speed=round(speed, 2) if speed is not None else None,
                skipped=skipped,
            )
        )

    def _record(self, outcome: SessionOutcome | None, reason: str | None) -> SessionRecord:
        """Build the session record as it stands."""
        run = self._run
        assert run is not None
        self._accrue()
        backward = Direction.BACKWARD.value
        forward = Direction.FORWARD.value
        end = self._clock.now() if outcome else None
        return SessionRecord(
            id=run.session_id,
            start=run.started_at.isoformat(),
            end=_iso(end),
            programme_key=run.key,
            programme_name=run.timeline.programme.name,
            segments=tuple(run.segments),
            forward_distance_m=round(run.distance.get(forward, 0.0), 2),
            forward_time_s=round(run.time.get(forward, 0.0), 2),
            backward_distance_m=round(run.distance.get(backward, 0.0), 2),
            backward_time_s=round(run.time.get(backward, 0.0), 2),
            total_distance_m=round(sum(run.distance.values()), 2),
            outcome=outcome,
            reason=reason,
            advisory=self.advisory,
        )

    def _summary_data(self) -> dict[str, Any]:
        """Return the distances and times a spoken summary tells."""
        snap_ = self.snapshot()
        return {
            "distance_m": snap_.distance_m,
            "backward_distance_m": snap_.backward_distance_m,
            "backward_time_s": snap_.backward_time_s,
            "forward_distance_m": snap_.forward_distance_m,
            "forward_time_s": snap_.forward_time_s,
        }

    def _schedule_summary(self, number: int) -> None:
        """Say a summary every summary_interval s of the run, at absolute times."""
        run = self._run
        assert run is not None
        when = run.started_at + timedelta(seconds=self._options.summary_interval * number)

        def say() -> None:
            # Near the end the final summary is coming: no "so far" just before it.
            near_end = self._remaining(self._clock.now()) < SUMMARY_QUIET_END_S
            if self.status in _MOVING and not near_end:
                self._emit(CueType.SUMMARY, final=False, **self._summary_data())
            self._schedule_summary(number + 1)

        self._run_timers.append(self._clock.call_at(when, say))

    # ----- endings ------------------------------------------------------------------

    def _complete(self) -> None:
        """Complete the programme: stop the belt (whenever a link exists) and say so."""
        advisory = self.advisory or not self.can_control
        self._drop_commands()
        if self._treadmill.capabilities.controllable and self._treadmill.connected:
            self._command(Verb.STOP, None, Origin.SAFETY)  # rule 7, whatever the mode
        self._finish(SessionOutcome.COMPLETED, None)
        if advisory:
            self._emit(CueType.STOP_THE_BELT)

    def _abort(self, reason: str) -> None:
        """End the programme as aborted."""
        self._finish(SessionOutcome.ABORTED, reason)

    def _finish(
        self, outcome: SessionOutcome, reason: str | None, *, announce: bool = True
    ) -> None:
        """Record the session, tell everyone, and go back to rest."""
        run = self._run
        if run is None:
            return
        self._cancel_timers()
        for cancel in self._run_timers:
            cancel()
        self._run_timers.clear()
        if run.meter.started:
            self._record_segment(skipped=outcome is not SessionOutcome.COMPLETED)
            run.meter = _SegmentMeter()
        summary = self._summary_data()
        record = self._record(outcome, reason)
        status = {
            SessionOutcome.COMPLETED: ProgrammeStatus.COMPLETED,
            SessionOutcome.ABORTED: ProgrammeStatus.ABORTED,
            SessionOutcome.STOPPED: ProgrammeStatus.IDLE,
        }[outcome]
        self._set_status(status)
        self._set_direction(Direction.STOPPED)
        final = self.snapshot()
        self._final = replace(
            final,
            interval_index=None,
            interval_count=None,
            interval_label=None,
            interval_label_key=None,
            progress=100.0 if outcome is SessionOutcome.COMPLETED else final.progress,
        )
        if outcome is SessionOutcome.COMPLETED:
            self._emit(EventType.PROGRAMME_COMPLETED)
            self._emit(CueType.SUMMARY, final=True, **summary)
        elif announce:
            # Where Home Assistant cannot stop the belt the person is told to (rule 7).
            advisory = not self._treadmill.capabilities.controllable
            self._emit(
                EventType.PROGRAMME_ABORTED,
                reason=reason,
                outcome=outcome.value,
                **({"advisory": True} if advisory else {}),
            )
        self._run = None
        self._last_session = record
        for listener in list(self._session_listeners):
            listener(record)

    # ----- timing helpers -----------------------------------------------------------

    def _at(self, when: datetime, callback: Callable[[], None]) -> None:
        """Schedule a phase timer at an absolute moment."""
        self._timers.append(self._clock.call_at(when, callback))

    def _cancel_timers(self) -> None:
        """Cancel the phase's timers."""
        for cancel in self._timers:
            cancel()
        self._timers.clear()

    def _phase_elapsed(self, now: datetime) -> float:
        """Return seconds since the current phase began (pauses excluded)."""
        run = self._run
        assert run is not None
        assert run.phase_start is not None
        return max((now - run.phase_start).total_seconds(), 0.0)

    def _current_interval(self) -> Interval | None:
        """Return the interval shown now: the segment, or the one a turn leads to."""
        run = self._run
        if run is None:
            return None
        phases = run.timeline.phases
        for phase in phases[run.phase_index :]:
            if phase.interval is not None:
                return phase.interval
        return run.timeline.intervals[-1]

    def _interval_ends_at(self) -> datetime | None:
        """Return when the current segment ends (estimated for distance segments)."""
        run = self._run
        if run is None or run.phase_start is None or self.status is not ProgrammeStatus.RUNNING:
            return None
        phase = run.phase
        return run.phase_start + timedelta(seconds=phase.estimated_duration)

    def _remaining(self, now: datetime) -> float:
        """Return the estimated seconds left in the programme."""
        run = self._run
        assert run is not None
        phases = run.timeline.phases
        later = sum(p.estimated_duration for p in phases[run.phase_index + 1 :])
        current = run.phase.estimated_duration
        if run.phase_start is not None and self.status is ProgrammeStatus.RUNNING:
            current = max(current - self._phase_elapsed(now), 0.0)
        return current + later

    def _progress(self, now: datetime) -> float:
        """Return the share of the programme done, in %."""
        run = self._run
        assert run is not None
        total = run.timeline.estimated_duration
        done = total - self._remaining(now)
        if self.status in (ProgrammeStatus.WAITING, ProgrammeStatus.COUNTDOWN) and not done:
            return 0.0
        return round(min(max(done / total * 100, 0.0), 100.0), 1) if total else 0.0

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
