"""A small fake treadmill on a ManualClock: a belt model, a command log and fault hooks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
import heapq
from typing import Any

from custom_components.treadreverse.treadmill.base import (
    Capabilities,
    CommandError,
    CommandFailure,
    DataField,
    LiveData,
    MachineEvent,
    MachineEventType,
    Range,
    Treadmill,
)
from custom_components.treadreverse.treadmill.clock import Cancel, ManualClock, settle

CAPS = Capabilities(
    controllable=True,
    speed=Range(0.5, 16.0, 0.1),
    incline=Range(0.0, 15.0, 0.5),
    fields=frozenset({DataField.SPEED, DataField.INCLINE, DataField.DISTANCE}),
)
MANUAL_CAPS = Capabilities(controllable=False)


@dataclass(frozen=True, slots=True)
class Command:
    """One command as the fake received it."""

    at: datetime
    name: str
    value: float | None = None


class FastClock(ManualClock):
    """A ManualClock that lets tasks run 4 loop rounds per callback instead of 20."""

    # The engine's command tasks finish within two rounds against the fake; the shorter
    # settle keeps the property tests fast.

    rounds = 4

    async def advance(self, seconds: float) -> None:
        """Move time forward, running due callbacks in order."""
        target = self._now + timedelta(seconds=seconds)
        await settle(self.rounds)
        while self._heap and self._heap[0][0] <= target:
            when, ident, callback = heapq.heappop(self._heap)
            if ident in self._cancelled:
                self._cancelled.discard(ident)
                continue
            self._now = max(self._now, when)
            callback()
            await settle(self.rounds)
        self._now = target
        await settle(self.rounds)


class FakeTreadmill(Treadmill):
    """A belt that speeds up and slows down at set rates and reports at 1 Hz."""

    def __init__(
        self,
        clock: ManualClock,
        capabilities: Capabilities = CAPS,
        *,
        acceleration: float = 1.0,
        deceleration: float = 1.5,
        latency: float = 0.0,
    ) -> None:
        """Start stopped and connected."""
        super().__init__()
        self.clock = clock
        self._caps = capabilities
        self.acceleration = acceleration
        self.deceleration = deceleration
        self.latency = latency
        self.log: list[Command] = []
        self.marks: list[tuple[datetime, str]] = []
        # Commands, marks and (from the rig) engine events in the order they happened.
        self.trace: list[tuple[str, Any]] = []
        self.history: list[tuple[datetime, float]] = []
        self.speed = 0.0
        self.target = 0.0
        self.incline = 0.0
        self.distance = 0.0
        self.running = False
        self.link = True
        self.failures: dict[str, CommandFailure] = {}
        self._updated = clock.now()
        self._cancel: Cancel | None = None
        self.reports = DataField.SPEED in capabilities.fields
        if capabilities.controllable:
            self._tick()

    @property
    def capabilities(self) -> Capabilities:
        """Return the configured capabilities."""
        return self._caps

    @property
    def connected(self) -> bool:
        """Return whether the fake link is up."""
        return self.link

    async def connect(self) -> None:
        """Bring the link up."""
        self.reconnect()

    async def disconnect(self) -> None:
        """Let go of the link."""
        self.link = False

    def close(self) -> None:
        """Stop reporting."""
        if self._cancel:
            self._cancel()

    # ----- physics ----------------------------------------------------------------

    def physics(self) -> None:
        """Move the belt from the last update to now."""
        now = self.clock.now()
        seconds = (now - self._updated).total_seconds()
        self._updated = now
        goal = self.target if self.running else 0.0
        before = self.speed
        if goal > self.speed:
            self.speed = min(goal, self.speed + self.acceleration * seconds)
        else:
            self.speed = max(goal, self.speed - self.deceleration * seconds)
        self.distance += (before + self.speed) / 2 / 3.6 * seconds
        self.history.append((now, self.speed))

    def _tick(self) -> None:
        """Report the measurements once a second."""
        self.physics()
        if self.link and self.reports:
            self._publish_data(
                LiveData(
                    speed=round(self.speed, 2),
                    incline=self.incline,
                    distance=round(self.distance, 1),
                )
            )
        self._cancel = self.clock.call_at(self.clock.now() + timedelta(seconds=1), self._tick)

    # ----- commands ---------------------------------------------------------------

    async def _command(self, name: str, value: float | None = None) -> None:
        """Log a command, then fail or apply it after the latency."""
        self.physics()
        command = Command(self.clock.now(), name, value)
        self.log.append(command)
        self.trace.append(("cmd", command))
        if not self.link:
            raise CommandError(name, CommandFailure.DISCONNECTED)
        if name in self.failures:
            raise CommandError(name, self.failures.pop(name))
        if self.latency:
            await asyncio.sleep(0)
        self.physics()

    async def start(self) -> None:
        """Start the belt at its target (at least the minimum)."""
        await self._command("start")
        self.running = True
        self.target = max(self.target, 0.5)

    async def pause(self) -> None:
        """Pause the belt."""
        await self._command("pause")
        self.running = False

    async def stop(self) -> None:
        """Stop the belt."""
        await self._command("stop")
        self.running = False
        self.target = 0.0

    async def set_speed(self, speed: float) -> None:
        """Set the target; never starts the belt."""
        await self._command("set_speed", speed)
        self.target = speed

    async def set_incline(self, incline: float) -> None:
        """Set the incline (instantly)."""
        await self._command("set_incline", incline)
        self.incline = incline

    # ----- faults -----------------------------------------------------------------

    def mark(self, label: str) -> None:
        """Note a moment in the log (e.g. when stop() was called)."""
        self.marks.append((self.clock.now(), label))
        self.trace.append(("mark", (self.clock.now(), label)))

    def console_pause(self) -> None:
        """Pause on the console, as the person does."""
        self.physics()
        self.running = False
        self._publish_event(MachineEvent(MachineEventType.PAUSED))

    def console_start(self) -> None:
        """Start on the console, as the person does."""
        self.physics()
        self.running = True
        self.target = max(self.target, 0.5)
        self._publish_event(MachineEvent(MachineEventType.STARTED))

    def console_stop(self) -> None:
        """Stop on the console, as the person does."""
        self.physics()
        self.running = False
        self._publish_event(MachineEvent(MachineEventType.STOPPED))

    def console_speed(self, speed: float) -> None:
        """Change the speed on the console, as the person does."""
        self.physics()
        self.target = speed
        self._publish_event(MachineEvent(MachineEventType.TARGET_SPEED_CHANGED, speed))

    def console_incline(self, incline: float) -> None:
        """Change the incline on the console, as the person does."""
        self.incline = incline
        self._publish_event(MachineEvent(MachineEventType.TARGET_INCLINE_CHANGED, incline))

    def safety_key(self) -> None:
        """Pull the safety key: the belt stops."""
        self.physics()
        self.running = False
        self.speed = 0.0
        self._publish_event(MachineEvent(MachineEventType.SAFETY_KEY))

    def control_lost(self) -> None:
        """Take control back, as the machine does."""
        self._publish_event(MachineEvent(MachineEventType.CONTROL_LOST))

    def drop_link(self) -> None:
        """Break the link; the belt keeps doing what it did (the console decides)."""
        self.link = False
        self._publish_event(MachineEvent(MachineEventType.DISCONNECTED))

    def reconnect(self) -> None:
        """Bring the link back; nothing moves."""
        self.link = True
        self._publish_event(MachineEvent(MachineEventType.CONNECTED))
