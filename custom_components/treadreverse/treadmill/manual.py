"""A treadmill without connectivity: it measures nothing and takes no commands."""

from __future__ import annotations

from .base import Capabilities, CommandError, CommandFailure, Treadmill


class ManualTreadmill(Treadmill):
    """A treadmill the person drives on its console; programmes run in advisory mode."""

    _CAPABILITIES = Capabilities(controllable=False, speed=None, incline=None, fields=frozenset())

    @property
    def capabilities(self) -> Capabilities:
        """Return no control, no ranges and no measurements."""
        return self._CAPABILITIES

    @property
    def connected(self) -> bool:
        """Return True: there is no link that could be down."""
        return True

    async def connect(self) -> None:
        """Do nothing: there is nothing to connect to."""

    async def disconnect(self) -> None:
        """Do nothing: there is nothing to release."""

    async def start(self) -> None:
        """Refuse: the person starts the belt on the console."""
        raise CommandError("start", CommandFailure.NOT_CONTROLLABLE)

    async def pause(self) -> None:
        """Refuse: the person pauses the belt on the console."""
        raise CommandError("pause", CommandFailure.NOT_CONTROLLABLE)

    async def stop(self) -> None:
        """Refuse: the person stops the belt on the console or pulls the safety key."""
        raise CommandError("stop", CommandFailure.NOT_CONTROLLABLE)

    async def set_speed(self, speed: float) -> None:
        """Refuse: the person sets the speed on the console."""
        raise CommandError("set_speed", CommandFailure.NOT_CONTROLLABLE)

    async def set_incline(self, incline: float) -> None:
        """Refuse: the person sets the incline on the console."""
        raise CommandError("set_incline", CommandFailure.NOT_CONTROLLABLE)
