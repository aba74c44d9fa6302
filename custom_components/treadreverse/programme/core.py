"""The engine's common room: the state every room reads, its events, status and timers.

The engine is one class built from rooms, each a mixin in its own module: phases.py
(countdown and phases), turns.py (rules 1 and 2), commands.py (the belt command
queue), machine.py (what the machine and the link report) and accounting.py (distance,
time, records and endings), joined by engine.Engine with the public API. Each room is an
EngineCore: the rooms call one another through the declarations below, so mypy checks
every call across rooms while no room imports another (no import circles).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from ..treadmill.base import LiveData, Treadmill
from ..treadmill.clock import Cancel, Clock
from .compiler import Interval, Phase, PhaseKind, interval_data
from .events import CueType, Direction, EngineEvent, EventType, ProgrammeStatus
from .interlock import Interlock, Origin, Verb
from .options import EngineOptions
from .run import EngineSnapshot, _Run
from .session import SessionOutcome, SessionRecord

# The rooms log as the engine they make up, as before the split.
_LOGGER = logging.getLogger(f"{__package__}.engine")

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


def _iso(moment: datetime | None) -> str | None:
    """Return ISO 8601 or None."""
    return moment.isoformat() if moment else None


class EngineCore:
    """The state and plumbing every room of the engine shares; Engine.__init__ sets it."""

    _treadmill: Treadmill
    _clock: Clock
    _options: EngineOptions
    _speaker_check: Callable[[], bool]
    _cue_receipts: bool
    status: ProgrammeStatus
    direction: Direction
    advisory: bool
    interlock: Interlock
    _run: _Run | None
    _last_session: SessionRecord | None
    _final: EngineSnapshot | None
    _listeners: list[Listener]
    _session_listeners: list[SessionListener]
    _timers: list[Cancel]
    _run_timers: list[Cancel]
    _queue: deque[tuple[Verb, float | None, Origin]]
    _worker: asyncio.Task[None] | None
    _tasks: set[asyncio.Task[None]]
    _reclaiming: asyncio.Task[None] | None  # control asked again before the next command
    _held: list[tuple[EventType | CueType, dict[str, Any]]] | None
    # Listener calls told later (_tell): in a phase timer, or while a start is on its way.
    _later: list[Callable[[], None]]
    _in_timer: bool
    _starting: bool  # a START is with the interlock (its speed first, then START)
    _start_holds: bool  # what a countdown's end said waits for its START (_hold_for_start)
    _flush_soon: asyncio.Handle | None
    _starting_worker: bool
    _dropped_while_starting: bool
    _unsubscribe: Callable[[], None] | None

    if TYPE_CHECKING:
        # Defined in the room named: declared for the type checker only, so that a room
        # calls another's methods without importing it (Engine inherits them all).

        # engine.py
        def confirm_person(self, origin: Origin = Origin.PERSON) -> None:
            """Confirm the person is at the treadmill (public API)."""

        def snapshot(self) -> EngineSnapshot:
            """Return what the entities show now (public API)."""

        # phases.py
        def _start_countdown(self, *, first: bool = False) -> None: ...
        def _continue(self, *, countdown: bool) -> None: ...
        def _enter_phase(self, index: int, at: datetime, elapsed: float = 0.0) -> None: ...
        def _longest(self, phase: Phase) -> float | None: ...
        def _phase_end_at(self) -> datetime | None: ...
        def _schedule_end(self, end: datetime) -> None: ...
        def _next_phase(self, at: datetime) -> None: ...

        # turns.py
        def _say_lead_cues(self, end: datetime) -> None: ...
        def _end_segment(self, *, skipped: bool, at: datetime) -> None: ...
        def _begin_turn(self, at: datetime, *, resumed: bool = False) -> None: ...
        def _say_wait_cue_when_at_rest(self, data: LiveData) -> None: ...
        def _check_turn_speed(self, data: LiveData) -> None: ...
        def _turn_slowed(self, at: datetime) -> None: ...

        # commands.py
        def _may_command(self) -> bool: ...
        def _speed(self, value: float, *, force: bool = False) -> None: ...
        def _incline(self, value: float, *, force: bool = False) -> None: ...
        def _command(
            self, verb: Verb, value: float | None, origin: Origin = Origin.PROGRAMME
        ) -> None: ...
        def _drop_commands(self) -> None: ...

        def _own(self, task: asyncio.Task[None]) -> None: ...

        # machine.py
        def _enter_paused(self, reason: str) -> None: ...

        # accounting.py
        def _estimating(self) -> bool: ...
        def _accrue(self) -> None: ...
        def _add_distance(self, metres: float) -> None: ...
        def _record_segment(self, *, skipped: bool) -> None: ...
        def _complete(self) -> None: ...
        def _abort(self, reason: str) -> None: ...
        def _finish(
            self, outcome: SessionOutcome, reason: str | None, *, announce: bool = True
        ) -> None: ...

    @property
    def active(self) -> bool:
        """Return whether a programme is active (waiting, counting down, running, paused)."""
        return self.status in _ACTIVE

    @property
    def can_control(self) -> bool:
        """Return whether Home Assistant may send commands to this treadmill at all."""
        return self._treadmill.capabilities.controllable and self._options.remote_control

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
        """Hand an event to every listener, now or, after the belt commands due, soon."""
        self._later_or_now(lambda: self._tell_now(event))

    def _tell_now(self, event: EngineEvent) -> None:
        """Hand an event to every listener now."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must never stop the belt logic
                _LOGGER.exception("Engine listener failed on %s", event.type)

    def _later_or_now(self, call: Callable[[], None]) -> None:
        """Call a listener now, or after the belt commands due now have gone out.

        The listeners (Home Assistant's entities, bus events, speakers) cost about a
        millisecond a treadmill. In a phase timer they are told on the next loop pass,
        so that every treadmill's command due at the same instant is written first. What
        is told later keeps its order and time; anything told meanwhile goes after it.
        """
        if self._in_timer:
            self._later.append(call)
            return
        self._flush_later()
        call()

    def _start_on_its_way(self) -> bool:
        """Return whether a START waits in the queue or is with the interlock."""
        return self._starting or any(verb is Verb.START for verb, _, _ in self._queue)

    def _flush_later(self) -> None:
        """Tell, in order, what was held back."""
        self._start_holds = False
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        while self._later:
            calls, self._later = self._later, []
            for call in calls:
                call()

    def _flush_later_soon(self) -> None:
        """Tell what was held back on the next loop pass, after other treadmills' commands."""
        if self._later and self._flush_soon is None:
            self._flush_soon = asyncio.get_running_loop().call_soon(self._flush_later)

    def _hold_for_start(self) -> None:
        """Keep what a countdown's end says until its START is out (or anything else is told).

        Its speed's reply comes back through the loop, behind whatever waits there: the
        other treadmills' listeners would delay START. Only these wait for it: a cue or
        a stop told meanwhile takes them along, in order, at once.
        """
        self._start_holds = self._start_on_its_way()

    def _start_done(self) -> None:
        """Tell what waited for a START now out, refused or failed."""
        if self._start_holds:
            self._start_holds = False
            self._flush_later_soon()

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

    def _phase_after(self, index: int) -> Phase | None:
        """Return the phase after `index`, if any."""
        phases = self._run.timeline.phases if self._run else ()
        return phases[index + 1] if index + 1 < len(phases) else None

    def _belt_started(self) -> bool:
        """Return whether the belt runs by command or status (a pause still coasting: no)."""
        run = self._run
        return (run is not None and run.belt_moving) or self.interlock.running

    def _belt_may_move(self) -> bool:
        """Return whether the belt may be moving, as the engine or the interlock knows."""
        run = self._run
        return (run is not None and run.belt_moving) or self.interlock.belt_moving

    def _at(self, when: datetime, callback: Callable[[], None]) -> None:
        """Schedule a phase timer at an absolute moment; its listeners are told after it."""

        def fire() -> None:
            if self._in_timer:
                callback()
                return
            self._in_timer = True
            held, told = self._start_holds, len(self._later)
            try:
                callback()
            finally:
                self._in_timer = False
                # Only a countdown's own end waits for its START; a timer with news of
                # its own tells it soon, and what waited goes first (rule 2: a turn cue).
                if not self._start_holds or (held and len(self._later) > told):
                    self._start_holds = False
                    self._flush_later_soon()

        self._timers.append(self._clock.call_at(when, fire))

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
