"""The engine's phases room: the countdown, entering and resuming segments, their steps and ends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .compiler import STAGGER_S, Phase, PhaseKind, Step, StepKind
from .core import EngineCore
from .events import CueType, Direction, EventType, ProgrammeStatus
from .interlock import Verb
from .run import _SegmentMeter

WAIT_FOR_PERSON_S = 600.0  # rule 9: give up waiting after 10 minutes
_TICKS = (3, 2, 1)


class PhasesMixin(EngineCore):
    """Count down, enter phases, run their steps and time their ends (rules 2, 4, 8, 9)."""

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
        self._hold_for_start()
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
        run.deck_wait_since = run.deck_level = run.deck_rose_at = None  # a resume waits afresh
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

    def _next_phase(self, at: datetime) -> None:
        """Enter the next phase or complete the programme."""
        run = self._run
        assert run is not None
        run.meter = _SegmentMeter()
        if run.phase_index + 1 >= len(run.timeline.phases):
            self._complete()
            return
        self._enter_phase(run.phase_index + 1, at)
