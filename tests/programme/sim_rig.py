"""The engine against the simulated FTMS treadmill (real client, real bytes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.treadmill.base import LiveData
from custom_components.treadreverse.treadmill.clock import ManualClock
from custom_components.treadreverse.treadmill.simulator import (
    SimulatedFtmsPeripheral,
    SimulatedTreadmill,
    SimulatorConfig,
)

from .fake import Command
from .rig import RigBase


class TracedSimulatedTreadmill(SimulatedTreadmill):
    """The simulated treadmill with the same command log and trace as the fake."""

    def __init__(self, clock: ManualClock, config: SimulatorConfig | None = None) -> None:
        """Build the peripheral and the client."""
        super().__init__(clock, SimulatedFtmsPeripheral(clock, config))
        self.clock = clock
        self.log: list[Command] = []
        self.marks: list[tuple[datetime, str]] = []
        self.trace: list[tuple[str, Any]] = []
        self.history: list[tuple[datetime, float]] = []
        self.subscribe(self._sample)

    def _sample(self, _data: LiveData) -> None:
        """Keep the belt's true speed at every notification."""
        self.physics()

    def physics(self) -> None:
        """Bring the simulator's belt up to now and keep its true speed."""
        self.simulator._integrate()
        self.history.append((self.clock.now(), self.simulator.belt_speed))

    @property
    def speed(self) -> float:
        """Return the belt's true speed."""
        return self.simulator.belt_speed

    def _log(self, name: str, value: float | None = None) -> None:
        """Log a command as it is issued."""
        command = Command(self.clock.now(), name, value)
        self.log.append(command)
        self.trace.append(("cmd", command))

    def mark(self, label: str) -> None:
        """Note a moment in the trace."""
        self.marks.append((self.clock.now(), label))
        self.trace.append(("mark", (self.clock.now(), label)))

    async def start(self) -> None:
        """Log, then start."""
        self._log("start")
        await super().start()

    async def pause(self) -> None:
        """Log, then pause."""
        self._log("pause")
        await super().pause()

    async def stop(self) -> None:
        """Log, then stop."""
        self._log("stop")
        await super().stop()

    async def set_speed(self, speed: float) -> None:
        """Log, then set the speed."""
        self._log("set_speed", speed)
        await super().set_speed(speed)

    async def set_incline(self, incline: float) -> None:
        """Log, then set the incline."""
        self._log("set_incline", incline)
        await super().set_incline(incline)

    def close(self) -> None:
        """Power the simulator off."""
        self.simulator.close()


class SimRig(RigBase):
    """Engine + simulated treadmill + manual clock, shaped like Rig for the checks."""

    def __init__(
        self, options: EngineOptions | None = None, config: SimulatorConfig | None = None
    ) -> None:
        """Build everything; call `connect` before starting."""
        clock = ManualClock()
        super().__init__(clock, TracedSimulatedTreadmill(clock, config), options)

    async def connect(self) -> None:
        """Connect the client to the simulator."""
        await self.tm.connect()

    async def close(self) -> None:
        """Close the engine and the link."""
        await self.engine.close()
        await self.tm.disconnect()
        self.tm.close()
