"""The engine's machine room: pauses, and what the machine and the link report (events, data)."""

from __future__ import annotations

from datetime import timedelta

from ..treadmill.base import LiveData, MachineEvent, MachineEventType
from .core import _MOVING, EngineCore
from .events import CueType, EventType, ProgrammeStatus
from .interlock import AT_REST_KMH
from .session import SessionOutcome

_MAX_DISTANCE_JUMP_M = 100.0  # a bigger jump is a machine counter reset, not walking
DISTANCE_STALL_S = 10.0  # rule 8: a distance counter still for this long is not trusted


class MachineMixin(EngineCore):
    """React to machine events and live data: pauses, console actions, faults."""

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
