"""A media player that accepts announcements and plays nothing."""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
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
