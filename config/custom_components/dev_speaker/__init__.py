"""An offline speaker for the treadreverse development instance (scripts/develop).

HA 2026.10's demo integration only offers a TTS *legacy* provider (no entity) and
its one media player that accepts play_media fetches artwork from the internet; a
demo config entry also adds ~150 unrelated entities. This tiny integration gives
exactly one media player (media_player.dev_speaker) and one TTS entity
(tts.dev_voice) that play HA's bundled demo sound and log what was said.
It is development scaffolding, not part of the shipped integration.
"""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_IMPORT, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import homeassistant.helpers.config_validation as cv
from homeassistant.helpers.typing import ConfigType

DOMAIN = "dev_speaker"
PLATFORMS = [Platform.MEDIA_PLAYER, Platform.TTS]
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Create the single config entry when `dev_speaker:` is in configuration.yaml."""
    if DOMAIN in config and not hass.config_entries.async_entries(DOMAIN):
        hass.async_create_task(
            hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_IMPORT}, data={})
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up the speaker and the voice."""
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload the speaker and the voice."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
