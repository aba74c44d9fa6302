"""A media player that accepts announcements, fetches the audio and plays nothing."""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from homeassistant.components import media_source
from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
    async_process_play_media_url,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

_LOGGER = logging.getLogger(__name__)
PLAY_SECONDS = 2.0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the speaker."""
    async_add_entities([DevSpeaker()])


class DevSpeaker(MediaPlayerEntity):
    """Shows what it was asked to play for a moment, then goes idle."""

    _attr_name = "Dev speaker"
    _attr_unique_id = "dev_speaker"
    _attr_should_poll = False
    _attr_state = MediaPlayerState.IDLE
    _attr_volume_level = 0.5
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.MEDIA_ANNOUNCE
        | MediaPlayerEntityFeature.VOLUME_SET
        | MediaPlayerEntityFeature.STOP
    )

    def __init__(self) -> None:
        """Start idle."""
        self._unsub_idle: Any = None

    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        """Pretend to play: log it and show it in the state for a moment."""
        message = parse_qs(urlparse(media_id).query).get("message", [None])[0]
        _LOGGER.info(
            "Dev speaker plays %s%s (announce=%s)",
            media_id,
            f" ({message!r})" if message else "",
            kwargs.get("announce"),
        )
        self._attr_state = MediaPlayerState.PLAYING
        self._attr_media_content_id = media_id
        self._attr_media_content_type = media_type
        self._attr_media_title = message or media_id
        self.async_write_ha_state()
        if self._unsub_idle:
            self._unsub_idle()
        self._unsub_idle = async_call_later(self.hass, PLAY_SECONDS, self._async_idle)
        self.hass.async_create_background_task(self._async_fetch(media_id), "dev_speaker fetch")

    async def _async_fetch(self, media_id: str) -> None:
        """Download the audio like a real speaker would (this is what renders TTS)."""
        try:
            if media_source.is_media_source_id(media_id):
                media_id = (
                    await media_source.async_resolve_media(self.hass, media_id, self.entity_id)
                ).url
            url = async_process_play_media_url(self.hass, media_id)
            session = async_get_clientsession(self.hass)
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as resp:
                resp.raise_for_status()
                size = len(await resp.read())
        except (HomeAssistantError, aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.warning("Dev speaker could not fetch %s: %s", media_id, err)
            return
        _LOGGER.info("Dev speaker fetched %d bytes of audio", size)

    @callback
    def _async_idle(self, _now: datetime) -> None:
        """Go back to idle after 'playing'."""
        self._unsub_idle = None
        self._attr_state = MediaPlayerState.IDLE
        self.async_write_ha_state()

    async def async_media_stop(self) -> None:
        """Stop at once."""
        self._attr_state = MediaPlayerState.IDLE
        self.async_write_ha_state()

    async def async_set_volume_level(self, volume: float) -> None:
        """Remember the volume."""
        self._attr_volume_level = volume
        self.async_write_ha_state()
