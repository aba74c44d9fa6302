"""What really happened in a soak session: the belt's true trace, commands, marks and events.

The treadmill is the simulated FTMS peripheral, kept for the whole soak like a real machine
that outlives Home Assistant restarts and entry reloads. Its belt is sampled exactly where
the rules look: just before each command (the client API call), right after each write
reaches the machine, at each notification, console action, mark and engine event. Between
two samples the belt only ramps towards a goal set at a sample, so its extremes are sampled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import homeassistant.util.dt as dt_util

from custom_components.treadreverse.programme.engine import Engine
from custom_components.treadreverse.programme.events import EngineEvent, EventType
from custom_components.treadreverse.programme.session import SessionRecord
from custom_components.treadreverse.treadmill.clock import Clock
from custom_components.treadreverse.treadmill.simulator import (
    BeltState,
    SimulatedFtmsPeripheral,
    SimulatedTreadmill,
    SimulatorConfig,
)
from tests import rules


class Tape:
    """The record of one session (cut between sessions), shared by every instance."""

    def __init__(self) -> None:
        """Start empty, with no machine yet."""
        self.machine: SoakMachine | None = None
        self.entries: list[rules.Entry] = []
        self.belt: list[rules.Belt] = []
        self.sessions: list[SessionRecord] = []
        self.started = 0  # programme_started events (each must be recorded once)
        self.engine: Engine | None = None  # the newest engine (a reload builds another)

    def reset(self) -> None:
        """Forget everything, the machine too (a new soak)."""
        self.__init__()  # type: ignore[misc]

    def sample(self) -> rules.Belt | None:
        """Keep the belt's true state now."""
        machine = self.machine
        if machine is None:
            return None
        machine._integrate()
        state = rules.Belt(
            dt_util.utcnow(),
            machine.belt_speed,
            machine.incline,
            machine.state is BeltState.RUNNING,
            machine.target_speed,
        )
        self.belt.append(state)
        return state

    def cmd(self, name: str, value: float | None = None) -> None:
        """Keep a command as the client is asked to write it, with the belt just before."""
        belt = self.sample()
        self.entries.append(rules.Entry(dt_util.utcnow(), "cmd", name, value, belt))

    def mark(self, name: str, value: Any = None) -> None:
        """Keep a fault, a person's or an automation's action."""
        belt = self.sample()
        self.entries.append(rules.Entry(dt_util.utcnow(), "mark", name, value, belt))

    def event(self, event: EngineEvent) -> None:
        """Keep an engine event with the belt's state then."""
        belt = self.sample()
        self.entries.append(rules.Entry(event.at, "event", str(event.type), event, belt))
        if event.type is EventType.PROGRAMME_STARTED:
            self.started += 1

    def session(self, record: SessionRecord) -> None:
        """Keep a finished session's record."""
        self.sessions.append(record)

    def cut(self) -> tuple[list[rules.Entry], list[rules.Belt], list[SessionRecord], int]:
        """Return this session's record and start the next one from the belt's state now."""
        taken = (self.entries, self.belt, self.sessions, self.started)
        self.entries, self.belt, self.sessions, self.started = [], [], [], 0
        self.sample()
        return taken


TAPE = Tape()


class SoakMachine(SimulatedFtmsPeripheral):
    """The simulated peripheral, sampled after every write and notification."""

    def written(self, uuid: str, data: bytes) -> None:
        """Apply a write, then keep the belt's state (a raise happens here)."""
        super().written(uuid, data)
        TAPE.sample()

    def _tick(self) -> None:
        """Notify, then keep the belt's state."""
        super()._tick()
        TAPE.sample()

    def rebind(self, clock: Clock) -> None:
        """Serve a new Home Assistant instance: its clock, its ticks; time passed meanwhile."""
        self._integrate()
        if self._client is not None:
            self._client.link_lost()
        if self._cancel_tick is not None:
            self._cancel_tick()
        self._cancel_tick = None
        self._clock = clock


class TracedTreadmill(SimulatedTreadmill):
    """The real FTMS client; each command is kept as it is asked for (as sim_rig does)."""

    async def start(self) -> None:
        """Keep, then start."""
        TAPE.cmd("start")
        await super().start()

    async def pause(self) -> None:
        """Keep, then pause."""
        TAPE.cmd("pause")
        await super().pause()

    async def stop(self) -> None:
        """Keep, then stop."""
        TAPE.cmd("stop")
        await super().stop()

    async def set_speed(self, speed: float) -> None:
        """Keep, then set the speed."""
        TAPE.cmd("set_speed", speed)
        await super().set_speed(speed)

    async def set_incline(self, incline: float) -> None:
        """Keep, then set the incline."""
        TAPE.cmd("set_incline", incline)
        await super().set_incline(incline)

    async def request_control(self) -> None:
        """Keep, then ask for control."""
        TAPE.cmd("request_control")
        await super().request_control()


def create_traced_treadmill(
    clock: Clock,
    config: SimulatorConfig | None = None,
    *,
    name: str = "Simulated treadmill",
    keep_connected: bool = True,
) -> SimulatedTreadmill:
    """Stand in for create_simulated_treadmill: one machine for the whole soak."""
    if TAPE.machine is None:
        TAPE.machine = SoakMachine(clock, config)
    else:
        TAPE.machine.rebind(clock)
    return TracedTreadmill(clock, TAPE.machine, name, keep_connected=keep_connected)


class TracedEngine(Engine):
    """The engine, every event kept on the tape as said, every session as it ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the engine and listen first."""
        super().__init__(*args, **kwargs)
        self.add_session_listener(TAPE.session)
        TAPE.engine = self

    def _tell(self, event: EngineEvent) -> None:
        """Keep the event on the tape as it is said; the listeners may hear it later."""
        TAPE.event(event)
        super()._tell(event)


def now() -> datetime:
    """Return Home Assistant's (virtual) time."""
    return dt_util.utcnow()
