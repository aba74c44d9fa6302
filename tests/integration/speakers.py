"""A test TTS engine for the five languages, a recording media player and a voice satellite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.assist_satellite import (
    AssistSatelliteAnnouncement,
    AssistSatelliteConfiguration,
    AssistSatelliteEntity,
    AssistSatelliteEntityFeature,
)
from homeassistant.components.assist_satellite.const import (
    DATA_COMPONENT as SATELLITE_COMPONENT,
)
from homeassistant.components.assist_satellite.errors import SatelliteBusyError
from homeassistant.components.media_player import (
    DATA_COMPONENT as MEDIA_PLAYER_COMPONENT,
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
)
from homeassistant.components.tts import TextToSpeechEntity, TtsAudioType
from homeassistant.components.tts.const import DATA_COMPONENT as TTS_COMPONENT
from homeassistant.components.tts.media_source import parse_media_source_id
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util

LANGUAGES = ["en", "de", "fr", "es", "nl"]


class RecordingTTS(TextToSpeechEntity):
    """A TTS engine that speaks every language and counts what it generates."""

    _attr_name = "Test speech"
    _attr_unique_id = "test_speech"

    def __init__(self) -> None:
        """Start with nothing generated."""
        self.generated: list[tuple[str, str]] = []

    @property
    def default_language(self) -> str:
        """Return English."""
        return "en"

    @property
    def supported_languages(self) -> list[str]:
        """Return the five cue languages."""
        return LANGUAGES

    def get_tts_audio(self, message: str, language: str, options: dict[str, Any]) -> TtsAudioType:
        """Return silence, remembering what was asked."""
        self.generated.append((language, message))
        return "mp3", b"\xff\xfb\x90\x00" * 8


@dataclass
class Heard:
    """One announcement a player got."""

    at: Any
    message: str
    language: str
    announce: bool


class RecordingPlayer(MediaPlayerEntity):
    """A media player that records every announcement and can be made to fail."""

    _attr_supported_features = MediaPlayerEntityFeature.PLAY_MEDIA
    _attr_state = MediaPlayerState.IDLE

    def __init__(self, name: str) -> None:
        """Name the player."""
        self._attr_name = name
        self._attr_unique_id = name
        self.heard: list[Heard] = []
        self.fail = False

    async def async_play_media(self, media_type: str, media_id: str, **kwargs: Any) -> None:
        """Record the message of a TTS media source."""
        if self.fail:
            raise HomeAssistantError("speaker unplugged")
        parsed = parse_media_source_id(media_id)
        options: dict[str, Any] = parsed.get("options", {})  # type: ignore[assignment]
        self.heard.append(
            Heard(
                dt_util.utcnow(),
                str(parsed.get("message")),
                str(options.get("language")),
                bool(kwargs.get("extra", {}).get("announce") or kwargs.get("announce")),
            )
        )

    @property
    def messages(self) -> list[str]:
        """Return the messages heard, in order."""
        return [h.message for h in self.heard]


async def async_setup_speakers(
    hass: HomeAssistant, *names: str
) -> tuple[RecordingTTS, list[RecordingPlayer]]:
    """Set up the TTS engine and recording players."""
    assert await async_setup_component(hass, "tts", {})
    assert await async_setup_component(hass, "media_player", {})
    engine = RecordingTTS()
    # The components' own entity platforms take entities that no integration provides.
    await hass.data[TTS_COMPONENT]._platforms["tts"].async_add_entities([engine])
    players = [RecordingPlayer(name) for name in names]
    await hass.data[MEDIA_PLAYER_COMPONENT]._platforms["media_player"].async_add_entities(players)
    await hass.async_block_till_done()
    return engine, players


class BusyOnceSatellite(AssistSatelliteEntity):
    """A voice satellite that is busy with someone else's announcement the first time."""

    _attr_name = "Hall satellite"
    _attr_unique_id = "hall_satellite"
    _attr_supported_features = AssistSatelliteEntityFeature.ANNOUNCE

    def __init__(self) -> None:
        """Start busy once, with nothing announced."""
        self.busy_once = True
        self.announced: list[tuple[Any, AssistSatelliteAnnouncement]] = []

    async def async_internal_announce(self, *args: Any, **kwargs: Any) -> None:
        """Refuse the first announcement as busy, like a satellite that is speaking."""
        if self.busy_once:
            self.busy_once = False
            raise SatelliteBusyError
        await super().async_internal_announce(*args, **kwargs)

    async def async_announce(self, announcement: AssistSatelliteAnnouncement) -> None:
        """Record the announcement."""
        self.announced.append((dt_util.utcnow(), announcement))

    @callback
    def async_get_configuration(self) -> AssistSatelliteConfiguration:
        """Return a configuration without wake words."""
        return AssistSatelliteConfiguration(
            available_wake_words=[], active_wake_words=[], max_active_wake_words=0
        )

    async def async_set_configuration(self, config: AssistSatelliteConfiguration) -> None:
        """Accept any configuration."""

    def on_pipeline_event(self, event: Any) -> None:
        """Ignore pipeline events."""


async def async_setup_satellite(hass: HomeAssistant) -> BusyOnceSatellite:
    """Set up the assist_satellite component and one busy-once satellite."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "media_source", {})
    assert await async_setup_component(hass, "assist_satellite", {})
    satellite = BusyOnceSatellite()
    await (
        hass.data[SATELLITE_COMPONENT]
        ._platforms["assist_satellite"]
        .async_add_entities([satellite])
    )
    await hass.async_block_till_done()
    return satellite
