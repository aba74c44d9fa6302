"""A test rig: engine + fake treadmill + manual clock + recorded events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from custom_components.treadreverse.programme.engine import Engine
from custom_components.treadreverse.programme.events import (
    SAFETY_CUES,
    CueType,
    EngineEvent,
    EventType,
)
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import Programme
from custom_components.treadreverse.programme.session import SessionRecord
from custom_components.treadreverse.treadmill.base import Capabilities

from .fake import CAPS, FakeTreadmill, FastClock


def programme(*segments: dict[str, Any]) -> Programme:
    """Return a programme of these segments."""
    return Programme.from_dict({"name": "T", "segments": list(segments)})


def seg(direction: str = "forward", **fields: Any) -> dict[str, Any]:
    """Return a segment definition with defaults."""
    return {"direction": direction, "duration": 60, "speed": 2.0, **fields}


class RecordedEngine(Engine):
    """The engine, each event also handed to `on_emit` as it is said.

    Its listeners may hear an event later (after the belt commands due at the same
    instant); a trace of what the engine did keeps it where the engine said it.
    """

    def __init__(self, *args: Any, on_emit: Callable[[EngineEvent], None], **kwargs: Any) -> None:
        """Build the engine; `on_emit` sees every event as it is said."""
        self._on_emit = on_emit
        super().__init__(*args, **kwargs)

    def _tell(self, event: EngineEvent) -> None:
        self._on_emit(event)
        super()._tell(event)


class RigBase:
    """An engine on a treadmill in virtual time, with every event and session recorded."""

    run_step = 1.0  # s per clock advance in `run`

    def __init__(self, clock: Any, tm: Any, options: EngineOptions | None) -> None:
        """Build the engine on this clock and treadmill."""
        self.clock = clock
        self.start = clock.now()
        self.tm = tm
        self.speaker = True
        # How long a speaker takes to accept a turn cue (rule 2); None: never.
        self.receipt_delay: float | None = 0.0
        self.engine = RecordedEngine(
            tm,
            clock,
            options or EngineOptions(),
            speaker_check=lambda: self.speaker,
            cue_receipts=True,
            on_emit=self._record,
        )
        self.events: list[EngineEvent] = []
        self.heard: list[tuple[EngineEvent, datetime]] = []  # as the listeners heard them
        self.sessions: list[SessionRecord] = []
        self.engine.add_listener(self._hear)
        self.engine.add_session_listener(self.sessions.append)

    def _record(self, event: EngineEvent) -> None:
        """Keep an event as said, in the shared trace too, with the belt's true speed then."""
        self.tm.physics()
        self.events.append(event)
        self.tm.trace.append(("event", (event, self.tm.speed)))

    def late_cues(self) -> list[str]:
        """Return the safety cues the listeners heard later than the engine said them."""
        return [
            f"{event.type} said at {self.t(event.at):.2f} heard at {self.t(at):.2f}"
            for event, at in self.heard
            if event.type in SAFETY_CUES and at > event.at
        ]

    def _hear(self, event: EngineEvent) -> None:
        """Be the speaker: it hears a turn cue when the listeners are told."""
        self.heard.append((event, self.clock.now()))
        if event.type is EventType.TURN_AROUND_SOON:
            self._accept_later(event)

    def _accept_later(self, event: EngineEvent) -> None:
        """Let the speaker accept a turn cue after `receipt_delay` (or never)."""
        delay = self.receipt_delay
        if delay is None or not self.speaker:
            return
        if delay <= 0:
            self._accepted(event)
            return
        self.clock.call_at(event.at + timedelta(seconds=delay), lambda: self._accepted(event))

    def _accepted(self, event: EngineEvent) -> None:
        """Mark a speaker's receipt of the cue in the trace; tell the engine."""
        self.tm.physics()
        self.tm.mark("cue_accepted")
        self.engine.cue_accepted(event)

    def t(self, moment: datetime | None = None) -> float:
        """Return seconds since the rig started."""
        return ((moment or self.clock.now()) - self.start).total_seconds()

    async def run(self, seconds: float, step: float | None = None) -> None:
        """Advance virtual time in small steps."""
        remaining = seconds
        while remaining > 1e-9:
            chunk = min(step or self.run_step, remaining)
            await self.clock.advance(chunk)
            remaining -= chunk

    async def run_until(
        self, done: Callable[[], bool], limit: float = 7200.0, step: float = 1.0
    ) -> None:
        """Advance until a condition holds."""
        waited = 0.0
        while not done():
            assert waited < limit, "condition never held"
            await self.clock.advance(step)
            waited += step

    def types(self) -> list[str]:
        """Return the event types in order."""
        return [str(e.type) for e in self.events]

    def of(self, kind: EventType | CueType) -> list[EngineEvent]:
        """Return the events of one type."""
        return [e for e in self.events if e.type is kind]

    def commands(self) -> list[tuple[float, str, float | None]]:
        """Return the treadmill's command log as (t, name, value)."""
        return [(self.t(c.at), c.name, c.value) for c in self.tm.log]


class Rig(RigBase):
    """Everything a test needs to drive the engine on the fake treadmill."""

    run_step = 0.5

    def __init__(
        self,
        options: EngineOptions | None = None,
        caps: Capabilities = CAPS,
        **fake: Any,
    ) -> None:
        """Build the clock, the fake treadmill and the engine."""
        clock = FastClock()
        super().__init__(clock, FakeTreadmill(clock, caps, **fake), options)

    async def close(self) -> None:
        """Close the engine and stop the fake's reports."""
        await self.engine.close()
        self.tm.close()
