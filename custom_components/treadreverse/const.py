"""Constants of the treadreverse integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "treadreverse"

CONF_KIND: Final = "kind"
CONF_MIN_SPEED: Final = "min_speed"
CONF_MAX_SPEED: Final = "max_speed"
CONF_MAX_INCLINE: Final = "max_incline"
# What the treadmill's Device Information Service said, stored for set-ups without a link.
CONF_DEVICE_INFORMATION: Final = "device_information"

CONFIG_VERSION: Final = 1
# 1.2: Bluetooth treadmills' devices are identified by address instead of entry id.
CONFIG_MINOR_VERSION: Final = 2


class Kind(StrEnum):
    """Treadmill kinds offered by the config flow."""

    FTMS = "ftms"
    SIMULATED = "simulated"
    MANUAL = "manual"


DEFAULT_SIM_MIN_SPEED: Final = 0.5
DEFAULT_SIM_MAX_SPEED: Final = 12.0
DEFAULT_SIM_MAX_INCLINE: Final = 12.0

# Options (product.md); applying them reloads the entry.
CONF_SPEAKERS: Final = "speakers"
CONF_NOTIFY: Final = "notify"
CONF_TTS_ENGINE: Final = "tts_engine"
CONF_LANGUAGE: Final = "language"
CONF_CUE_LEAD_TIME: Final = "cue_lead_time"
CONF_TURN_MODE: Final = "turn_mode"
CONF_TURN_SPEED: Final = "turn_speed"
CONF_TURN_DURATION: Final = "turn_duration"
CONF_MAX_BACKWARD_SPEED: Final = "max_backward_speed"
CONF_START_COUNTDOWN: Final = "start_countdown"
CONF_REMOTE_CONTROL: Final = "remote_control"
CONF_KEEP_CONNECTED: Final = "keep_connected"
CONF_SUMMARY_INTERVAL: Final = "summary_interval"  # minutes; 0: no spoken summaries

LANGUAGES: Final = ("en", "de", "fr", "es", "nl")
TURN_MODES: Final = ("slow", "pause")

DEFAULT_CUE_LEAD_TIME: Final = 5
DEFAULT_TURN_MODE: Final = "slow"
DEFAULT_TURN_SPEED: Final = 1.0
DEFAULT_TURN_DURATION: Final = 5
DEFAULT_MAX_BACKWARD_SPEED: Final = 4.0
MAX_BACKWARD_SPEED_LIMIT: Final = 8.0
DEFAULT_START_COUNTDOWN: Final = 10
MIN_START_COUNTDOWN: Final = 5

EVENT_TREADREVERSE: Final = "treadreverse_event"
MAX_STORED_SESSIONS: Final = 500

FTMS_SERVICE_UUID: Final = "00001826-0000-1000-8000-00805f9b34fb"
