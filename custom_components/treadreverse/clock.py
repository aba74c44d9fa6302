"""Home Assistant's time for the treadmill and programme layers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback as ha_callback
from homeassistant.helpers.event import async_track_point_in_utc_time
import homeassistant.util.dt as dt_util


class HomeAssistantClock:
    """Clock on dt_util.utcnow and HA's point-in-time tracker (tests move it with freezer)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Bind to one Home Assistant instance."""
        self._hass = hass

    def now(self) -> datetime:
        """Return HA's current UTC time."""
        return dt_util.utcnow()

    def call_at(self, when: datetime, callback: Callable[[], None]) -> CALLBACK_TYPE:
        """Call back at `when` through HA's event helper."""

        @ha_callback
        def fire(_now: datetime) -> None:
            callback()

        # A @callback job runs in the event loop, not in the executor.
        job = HassJob(fire, "treadreverse timer", cancel_on_shutdown=True)
        return async_track_point_in_utc_time(self._hass, job, when)
