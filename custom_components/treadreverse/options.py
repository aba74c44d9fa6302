"""Entry options with their defaults, and what the engine makes of them."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry

from .const import (
    CONF_CUE_LEAD_TIME,
    CONF_KEEP_CONNECTED,
    CONF_KIND,
    CONF_LANGUAGE,
    CONF_MAX_BACKWARD_SPEED,
    CONF_NOTIFY,
    CONF_REMOTE_CONTROL,
    CONF_SPEAKERS,
    CONF_START_COUNTDOWN,
    CONF_SUMMARY_INTERVAL,
    CONF_TTS_ENGINE,
    CONF_TURN_DURATION,
    CONF_TURN_MODE,
    CONF_TURN_SPEED,
    DEFAULT_CUE_LEAD_TIME,
    DEFAULT_MAX_BACKWARD_SPEED,
    DEFAULT_START_COUNTDOWN,
    DEFAULT_TURN_DURATION,
    DEFAULT_TURN_MODE,
    DEFAULT_TURN_SPEED,
    Kind,
)
from .programme.options import EngineOptions, TurnMode

BASE_DEFAULTS: dict[str, Any] = {
    CONF_SPEAKERS: [],
    CONF_NOTIFY: [],
    CONF_TTS_ENGINE: None,
    CONF_LANGUAGE: "en",
    CONF_CUE_LEAD_TIME: DEFAULT_CUE_LEAD_TIME,
    CONF_TURN_MODE: DEFAULT_TURN_MODE,
    CONF_TURN_SPEED: DEFAULT_TURN_SPEED,
    CONF_TURN_DURATION: DEFAULT_TURN_DURATION,
    CONF_MAX_BACKWARD_SPEED: DEFAULT_MAX_BACKWARD_SPEED,
    CONF_START_COUNTDOWN: DEFAULT_START_COUNTDOWN,
    CONF_KEEP_CONNECTED: True,
    CONF_SUMMARY_INTERVAL: 0,
}


def default_options(kind: Kind) -> dict[str, Any]:
    """Return the defaults: remote control is opt-in for real treadmills, on for the simulator."""
    return {**BASE_DEFAULTS, CONF_REMOTE_CONTROL: kind is Kind.SIMULATED}


def entry_options(entry: ConfigEntry[Any]) -> dict[str, Any]:
    """Return the entry's options over their defaults."""
    return {**default_options(Kind(entry.data[CONF_KIND])), **entry.options}


def engine_options(options: dict[str, Any], kind: Kind) -> EngineOptions:
    """Return the engine's options; a manual treadmill always runs in advisory mode."""
    return EngineOptions(
        cue_lead_time=float(options[CONF_CUE_LEAD_TIME]),
        turn_mode=TurnMode(options[CONF_TURN_MODE]),
        turn_speed=float(options[CONF_TURN_SPEED]),
        turn_duration=float(options[CONF_TURN_DURATION]),
        max_backward_speed=float(options[CONF_MAX_BACKWARD_SPEED]),
        start_countdown=float(options[CONF_START_COUNTDOWN]),
        remote_control=kind is not Kind.MANUAL and bool(options[CONF_REMOTE_CONTROL]),
        summary_interval=60.0 * float(options[CONF_SUMMARY_INTERVAL]),
    )
