"""The engine's accounting room: distance, time, records, summaries and the endings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
import functools
from typing import Any

from .core import _LOGGER, _MOVING, EngineCore, SessionListener, _iso
from .events import CueType, Direction, EventType, ProgrammeStatus
from .interlock import Origin, Verb
from .run import _SegmentMeter
from .session import SegmentActual, SessionOutcome, SessionRecord

SUMMARY_QUIET_END_S = 30.0  # no periodic summary in the last half minute


class AccountingMixin(EngineCore):
    """Count distance and time, keep the records, and end the programme."""

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
            # After the events that end it, in their order (they may be told later).
            self._later_or_now(functools.partial(self._tell_session, listener, record))

    @staticmethod
    def _tell_session(listener: SessionListener, record: SessionRecord) -> None:
        """Hand a finished session to one listener; a broken one never stops the others."""
        try:
            listener(record)
        except Exception:  # noqa: BLE001 - a broken listener must never stop the others
            _LOGGER.exception("Session listener failed on session %s", record.id)

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
