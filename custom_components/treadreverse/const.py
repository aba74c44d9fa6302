"""Constants of the treadreverse integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "treadreverse"

CONF_KIND: Final = "kind"
CONF_MIN_SPEED: Final = "min_speed"
CONF_MAX_SPEED: Final = "max_speed"
CONF_MAX_INCLINE: Final = "max_incline"

CONFIG_VERSION: Final = 1
CONFIG_MINOR_VERSION: Final = 1


class Kind(StrEnum):
    """Treadmill kinds offered by the config flow."""

    FTMS = "ftms"
    SIMULATED = "simulated"
    MANUAL = "manual"


DEFAULT_SIM_MIN_SPEED: Final = 0.5
DEFAULT_SIM_MAX_SPEED: Final = 12.0
DEFAULT_SIM_MAX_INCLINE: Final = 12.0
