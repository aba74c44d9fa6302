"""The treadreverse integration: a coached backward-walking treadmill trainer."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import CONFIG_MINOR_VERSION, CONFIG_VERSION

_LOGGER = logging.getLogger(__name__)

type TreadReverseConfigEntry = ConfigEntry[None]


async def async_setup_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> bool:
    """Set up one treadmill from a config entry."""
    entry.runtime_data = None
    return True


async def async_unload_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> bool:
    """Unload a treadmill."""
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> bool:
    """Migrate entry data from older versions; refuse versions from the future."""
    if entry.version > CONFIG_VERSION:
        # A downgrade: this code cannot read data written by a newer release.
        return False
    if entry.version == CONFIG_VERSION and entry.minor_version < CONFIG_MINOR_VERSION:
        hass.config_entries.async_update_entry(entry, minor_version=CONFIG_MINOR_VERSION)
    _LOGGER.debug("Entry %s at version %s.%s", entry.entry_id, entry.version, entry.minor_version)
    return True
