"""A Home Assistant life for the soak: instances started and stopped on the same storage.

Each instance runs the real core with the recorder, a TTS engine, two media players and
a voice satellite (which can be made unavailable, failing, slow or busy), an admin person,
and the treadmill's config entry. The simulated machine outlives every instance (tape.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
import logging
from typing import Any
from unittest.mock import patch

from homeassistant import loader
from homeassistant.auth.const import GROUP_ID_ADMIN
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
from homeassistant.components.tts.const import DATA_COMPONENT as TTS_COMPONENT
from homeassistant.components.tts.media_source import parse_media_source_id
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import frame, translation as translation_helper
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_test_home_assistant,
)

from custom_components.treadreverse import coordinator as coordinator_module, treadmills
from custom_components.treadreverse.const import DOMAIN
from tests.integration.speakers import BusyOnceSatellite, RecordingTTS

from .tape import TAPE, TracedEngine, create_traced_treadmill, now

ENTRY_ID = "01SOAKTREADMILL0000000000"
PERSON_ID = "soakperson0000000000000000000001"
PLAYERS = ("Living room", "Kitchen")
SATELLITE = "assist_satellite.hall_satellite"
SPEAKERS = ("media_player.living_room", "media_player.kitchen", SATELLITE)
DATA = {
    "kind": "simulated",
    "name": "Simulated treadmill",
    "min_speed": 0.5,
    "max_speed": 12.0,
    "max_incline": 12.0,
}


class SpeakerHealth:
    """What the soak did to each speaker, and whether one works (product.md rule 2).

    A speaker works when its entity is available and its last call succeeded: the
    "speaker_off"/"speaker_on" marks follow that, as the integration can know it.
    """

    def __init__(self, on_change: Callable[[bool], None]) -> None:
        """Every speaker available, fast and working."""
        self.available = dict.fromkeys(SPEAKERS, True)
        self.last_ok = dict.fromkeys(SPEAKERS, True)
        self.fail = dict.fromkeys(SPEAKERS, False)
        self.slow = dict.fromkeys(SPEAKERS, 0.0)
        self.busy = dict.fromkeys(SPEAKERS, 0)
        self.configured: tuple[str, ...] = SPEAKERS
        self._on_change = on_change
        self._working = self.working()
        # (virtual time, entity, message) of every call a speaker accepted, for rule 2.
        self.accepted: deque[tuple[Any, str, str]] = deque(maxlen=400)

    def working(self) -> bool:
        """Return whether a configured speaker works."""
        return any(self.available[s] and self.last_ok[s] for s in self.configured)

    def changed(self) -> None:
        """Tell the soak when the answer changes."""
        working = self.working()
        if working != self._working:
            self._working = working
            self._on_change(working)

    def result(self, entity_id: str, ok: bool, message: str) -> None:
        """Note a call's outcome."""
        self.last_ok[entity_id] = ok
        if ok:
            self.accepted.append((now(), entity_id, message))
        self.changed()

    def heal(self) -> None:
        """Make every speaker available, fast and reliable (not yet proven working)."""
        for entity_id in SPEAKERS:
            self.fail[entity_id] = False
            self.slow[entity_id] = 0.0
            self.busy[entity_id] = 0


class SoakPlayer(MediaPlayerEntity):
    """A media player that can be unavailable, failing or slow; it remembers little."""

    _attr_supported_features = MediaPlayerEntityFeature.PLAY_MEDIA
    _attr_state = MediaPlayerState.IDLE

    def __init__(self, name: str, health: SpeakerHealth) -> None:
        """Name the player."""
        self._attr_name = name
        self._attr_unique_id = name
        self.health = health
        self.entity_id = f"media_player.{name.lower().replace(' ', '_')}"

    @property
    def available(self) -> bool:
        """Return what the soak made of it."""
        return self.health.available[self.entity_id]

    async def async_play_media(self, media_type: str, media_id: str, **kwargs: Any) -> None:
        """Take an announcement: after a while when slow; refuse it when failing."""
        message = str(parse_media_source_id(media_id).get("message"))
        if delay := self.health.slow[self.entity_id]:
            await asyncio.sleep(delay)  # the loop's time is virtual: the soak moves it
        if self.health.fail[self.entity_id]:
            self.health.result(self.entity_id, False, message)
            raise HomeAssistantError("speaker unplugged")
        self.health.result(self.entity_id, True, message)


class SoakSatellite(BusyOnceSatellite):
    """A voice satellite that is busy announcing someone else's words when told."""

    def __init__(self, health: SpeakerHealth) -> None:
        """Not busy, nothing announced."""
        super().__init__()
        self.busy_once = False
        self.health = health
        self.announced = deque(maxlen=20)  # type: ignore[assignment]

    @property
    def available(self) -> bool:
        """Return what the soak made of it."""
        return self.health.available[SATELLITE]

    async def async_internal_announce(self, *args: Any, **kwargs: Any) -> None:
        """Refuse while busy, be slow or fail when told, else announce."""
        message = str(kwargs.get("message") or (args[0] if args else ""))
        if self.health.busy[SATELLITE] > 0:
            self.health.busy[SATELLITE] -= 1
            raise SatelliteBusyError
        if delay := self.health.slow[SATELLITE]:
            await asyncio.sleep(delay)
        if self.health.fail[SATELLITE]:
            self.health.result(SATELLITE, False, message)
            raise HomeAssistantError("satellite unplugged")
        # Not the entity's own announce: it converts the audio with ffmpeg, absent here.
        self.announced.append((now(), message))
        self.health.result(SATELLITE, True, message)


class QuietTTS(RecordingTTS):
    """The test TTS engine, remembering nothing (a soak must not grow)."""

    def get_tts_audio(self, message: str, language: str, options: dict[str, Any]) -> Any:
        """Return silence: ten MPEG-1 layer 3 frames (128 kbit/s, 44.1 kHz) of zeros."""
        return "mp3", (b"\xff\xfb\x90\x00" + bytes(413)) * 10


class ErrorLog(logging.Handler):
    """Every ERROR (or worse) logged anywhere, and every WARNING of the integration."""

    def __init__(self) -> None:
        """Start empty."""
        super().__init__(logging.WARNING)
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one line (with the traceback's last line)."""
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            line += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        if record.levelno >= logging.ERROR:
            self.errors.append(line)
        elif record.name.startswith(("custom_components.treadreverse", "homeassistant")):
            self.warnings.append(line)

    def take(self) -> tuple[list[str], list[str]]:
        """Return and forget what was logged."""
        taken = (self.errors, self.warnings)
        self.errors, self.warnings = [], []
        return taken


type RecorderFactory = Callable[[HomeAssistant], AbstractAsyncContextManager[Any]]


class World:
    """The current Home Assistant instance and what lives in it."""

    def __init__(
        self,
        config_dir: str,
        recorder: RecorderFactory | None,
        health: SpeakerHealth,
        options: dict[str, Any],
    ) -> None:
        """Nothing runs yet: call `boot`."""
        self.config_dir = config_dir
        self.recorder = recorder
        self.health = health
        self.options = options
        self.hass: HomeAssistant | None = None
        self.entry: MockConfigEntry | None = None
        self.players: list[SoakPlayer] = []
        self.satellite: SoakSatellite | None = None
        self.unhandled: list[str] = []
        self.boots = 0
        self._stack: AsyncExitStack | None = None
        self._patches = [
            patch.object(treadmills, "create_simulated_treadmill", create_traced_treadmill),
            patch.object(coordinator_module, "Engine", TracedEngine),
            # No ffmpeg binary here: the ffmpeg component (a satellite's dependency) would
            # log an error at set-up looking for it.
            patch("haffmpeg.tools.FFVersion.get_version", return_value="6.0"),
        ]

    # ----- life ----------------------------------------------------------------------

    async def boot(self) -> None:
        """Start a Home Assistant instance on the stored data and set the treadmill up."""
        stack = AsyncExitStack()
        self._stack = stack
        for item in self._patches:
            stack.enter_context(item)
        loop = asyncio.get_running_loop()
        hass = await stack.enter_async_context(
            async_test_home_assistant(loop, True, config_dir=self.config_dir)
        )
        self.hass = hass
        self.boots += 1
        loop.set_exception_handler(self._unhandled)
        # The loop's clock is virtual: a step moving it a second is not a slow callback.
        loop.slow_callback_duration = 1e9
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # allow custom_components
        frame.async_setup(hass)
        await translation_helper.async_load_integrations(hass, {"homeassistant"})
        if self.recorder is not None:
            await stack.enter_async_context(self.recorder(hass))
        await self._speakers(hass)
        admin = await hass.auth.async_get_group(GROUP_ID_ADMIN)
        assert admin is not None
        MockUser(id=PERSON_ID, name="Walker", groups=[admin]).add_to_hass(hass)
        self.entry = MockConfigEntry(
            domain=DOMAIN,
            entry_id=ENTRY_ID,
            title="Simulated treadmill",
            data=DATA,
            options=self.options,
            version=1,
            minor_version=1,
        )
        self.entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(self.entry.entry_id)
        await hass.async_block_till_done()

    async def _speakers(self, hass: HomeAssistant) -> None:
        """Set up the TTS engine, the players and the satellite."""
        for component in ("homeassistant", "media_source", "tts", "media_player"):
            assert await async_setup_component(hass, component, {})
        assert await async_setup_component(hass, "assist_satellite", {})
        await hass.data[TTS_COMPONENT]._platforms["tts"].async_add_entities([QuietTTS()])
        self.players = [SoakPlayer(name, self.health) for name in PLAYERS]
        platform = hass.data[MEDIA_PLAYER_COMPONENT]._platforms["media_player"]
        await platform.async_add_entities(self.players)
        self.satellite = SoakSatellite(self.health)
        satellites = hass.data[SATELLITE_COMPONENT]._platforms["assist_satellite"]
        await satellites.async_add_entities([self.satellite])
        await hass.async_block_till_done()

    async def stop(self) -> None:
        """Stop Home Assistant (as a restart does: no unload) and close the instance."""
        assert self.hass is not None
        assert self._stack is not None
        await self.hass.async_stop()
        await self._stack.aclose()
        self.hass = None
        self.entry = None

    def _unhandled(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Keep an exception nobody handled (a task that died, a callback that raised)."""
        error = context.get("exception")
        self.unhandled.append(f"{context.get('message')}: {error!r}")

    # ----- speakers ------------------------------------------------------------------

    def write_speaker_states(self) -> None:
        """Show the speakers' availability in Home Assistant."""
        for player in self.players:
            player.async_write_ha_state()
        if self.satellite is not None:
            self.satellite.async_write_ha_state()

    # ----- views ---------------------------------------------------------------------

    @property
    def coordinator(self) -> Any:
        """Return the treadmill's coordinator."""
        assert self.entry is not None
        return self.entry.runtime_data.coordinator

    def state(self, entity_id: str) -> str | None:
        """Return an entity's state."""
        assert self.hass is not None
        state = self.hass.states.get(entity_id)
        return state.state if state else None


__all__ = ["TAPE", "ErrorLog", "SpeakerHealth", "World"]
