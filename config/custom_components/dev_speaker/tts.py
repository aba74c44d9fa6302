"""A text-to-speech entity that answers with Home Assistant's bundled demo sound."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import homeassistant
from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

_LOGGER = logging.getLogger(__name__)
DEMO_SOUND = Path(homeassistant.__file__).parent / "components" / "demo" / "tts.mp3"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the voice."""
    async_add_entities([DevVoice()])


class DevVoice(TextToSpeechEntity):
    """Logs each message and keeps the last one as an attribute."""

    _attr_name = "Dev voice"
    _attr_unique_id = "dev_voice"
    _attr_default_language = "en"

    def __init__(self) -> None:
        """Speak a few languages, nothing said yet."""
        self._attr_supported_languages = ["en", "de", "fr", "nl"]
        self._attr_supported_options = ["voice"]
        self._attr_extra_state_attributes = {"last_message": None}

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        """Log the message and return the demo sound."""
        _LOGGER.info("Dev voice says (%s): %s", language, message)
        self._attr_extra_state_attributes = {"last_message": message, "language": language}
        self.async_write_ha_state()
        data = await self.hass.async_add_executor_job(DEMO_SOUND.read_bytes)
        return ("mp3", data)
