"""When a speaker counts as working (rule 2), what a failing one does, and the announce action."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.media_player import DATA_COMPONENT as MEDIA_PLAYER_COMPONENT
from homeassistant.components.tts import PLATFORM_SCHEMA as TTS_PLATFORM_SCHEMA, Provider
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    async_fire_time_changed,
    mock_integration,
    mock_platform,
)

from custom_components.treadreverse.announcer import async_delete_issues
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.cues import Phrase

from .conftest import SIMULATED_DATA, advance
from .speakers import RecordingPlayer, RecordingTTS, async_setup_satellite
from .test_announcer import STATUS, TURN, setup_entry

LIVING = "media_player.living_room"
ANNOUNCEMENTS = "switch.simulated_treadmill_announcements"


class RaisingPlayer(RecordingPlayer):
    """A media player whose integration raises something other than a HomeAssistantError."""

    def __init__(self, name: str) -> None:
        """Raise until told otherwise."""
        super().__init__(name)
        self.error: Exception | None = RuntimeError("tts_engine rejected by tts.speak")

    async def async_play_media(self, media_type: str, media_id: str, **kwargs: Any) -> None:
        """Raise the error, or record the message."""
        if self.error is not None:
            raise self.error
        await super().async_play_media(media_type, media_id, **kwargs)


class LegacySpeech(Provider):
    """A legacy TTS provider (a platform, not an entity), like many older integrations."""

    name = "Legacy speech"

    @property
    def default_language(self) -> str:
        """Return English."""
        return "en"

    @property
    def supported_languages(self) -> list[str]:
        """Return English."""
        return ["en"]

    def get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> tuple[str | None, bytes | None]:
        """Return silence."""
        return "mp3", b"\xff\xfb\x90\x00" * 8


class LegacyTTSPlatform(MockPlatform):
    """The tts platform of the legacy provider."""

    PLATFORM_SCHEMA = TTS_PLATFORM_SCHEMA

    async def async_get_engine(
        self, hass: HomeAssistant, config: Any, discovery_info: Any = None
    ) -> Provider:
        """Return the provider."""
        return LegacySpeech()


async def pass_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Move time on without waiting for the action in progress (block_till_done would)."""
    for _ in range(seconds):
        freezer.tick(1)
        async_fire_time_changed(hass)
        for _ in range(20):
            await asyncio.sleep(0)


async def start_turn_programme(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Start the one-turn programme as a person would (no waiting)."""
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": TURN, "wait_for_person": False},
        blocking=True,
    )


async def run_until_settled(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int = 150
) -> str:
    """Run time on until the programme completes or pauses; return its status."""
    for _ in range(seconds):
        await advance(hass, freezer, 1)
        if (state := hass.states.get(STATUS).state) in {"completed", "paused"}:
            return state
    return hass.states.get(STATUS).state


async def announce(hass: HomeAssistant, entry: MockConfigEntry, message: str) -> None:
    """Call the announce action."""
    await hass.services.async_call(
        DOMAIN, "announce", {"config_entry_id": entry.entry_id, "message": message}, blocking=True
    )


@pytest.mark.parametrize("gone", ["unavailable", "removed"])
async def test_an_unavailable_speaker_does_not_count_as_working(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer, gone: str
) -> None:
    """tts.speak skips an unavailable player silently: the turn falls back to pause-and-wait."""
    entry = await setup_entry(hass, speakers=[LIVING])
    announcer = entry.runtime_data.announcer
    await start_turn_programme(hass, entry)
    await advance(hass, freezer, 15)
    assert hass.states.get(STATUS).state == "running"
    assert announcer.speakers_work()
    if gone == "unavailable":
        player._attr_available = False
        player.async_write_ha_state()
    else:
        await player.async_remove()
    await hass.async_block_till_done()
    assert not announcer.speakers_work()
    heard = len(player.heard)
    assert await run_until_settled(hass, freezer) == "paused"
    assert len(player.heard) == heard  # nothing was said there (nor counted as said)
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def test_a_cue_is_accepted_only_by_a_working_speaker(
    hass: HomeAssistant, player: RecordingPlayer
) -> None:
    """A phrase's ticket names the speaker that took it; an unavailable one takes nothing."""
    entry = await setup_entry(hass, speakers=[LIVING])
    announcer = entry.runtime_data.announcer
    ticket = announcer.say(Phrase("Turn around now.", "en"), safety=True)
    assert await ticket.accepted == LIVING
    assert await ticket.results == {LIVING: True}
    player._attr_available = False
    player.async_write_ha_state()
    ticket = announcer.say(Phrase("Turn around now.", "en"), safety=True)
    assert await ticket.accepted is None
    assert await ticket.results == {LIVING: False}


async def test_a_speaker_that_raises_anything_is_failed_and_its_worker_goes_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Any exception marks the speaker failed (repair issue); later cues still get through."""
    hall = RaisingPlayer("Hall")
    await hass.data[MEDIA_PLAYER_COMPONENT]._platforms["media_player"].async_add_entities([hall])
    entry = await setup_entry(hass, speakers=["media_player.hall"])
    announcer = entry.runtime_data.announcer
    await start_turn_programme(hass, entry)
    await advance(hass, freezer, 3)
    assert not announcer.speakers_work()
    issue_id = f"speaker_failed_{entry.entry_id}_media_player.hall"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "entity_id": "media_player.hall",
        "error": "tts_engine rejected by tts.speak",
    }
    # Without a working speaker the programme never goes through a turn unheard.
    assert await run_until_settled(hass, freezer) != "completed"
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )
    hall.error = None
    await hass.services.async_call(
        DOMAIN,
        "test_announcement",
        {"config_entry_id": entry.entry_id, "message": "Hello"},
        blocking=True,
    )
    assert hall.messages[-1] == "Hello"
    assert announcer.speakers_work()
    assert announcer.speakers[0].queue.qsize() == 0  # nothing left waiting for ever
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_repair_issues_go_with_the_speaker_and_the_entry(
    hass: HomeAssistant,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Choosing another speaker deletes the old one's issue; removing the entry deletes ours."""
    entry = await setup_entry(hass, speakers=["media_player.gone"])
    gone_issue = f"missing_entity_{entry.entry_id}_media_player.gone"
    assert issue_registry.async_get_issue(DOMAIN, gone_issue) is not None
    hass.config_entries.async_update_entry(entry, options={**entry.options, "speakers": [LIVING]})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, gone_issue) is None
    speakers[1][0].fail = True
    ticket = entry.runtime_data.announcer.say(Phrase("Hello.", "en"), safety=False)
    assert await ticket.accepted is None
    assert issue_registry.async_get_issue(DOMAIN, f"speaker_failed_{entry.entry_id}_{LIVING}")
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert [key for key in issue_registry.issues if key[0] == DOMAIN] == []


async def test_test_announcement_waits_its_turn_on_a_busy_satellite(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
) -> None:
    """test_announcement goes through the speaker's queue: a busy satellite is not a failure."""
    satellite = await async_setup_satellite(hass)
    entry = await setup_entry(hass, speakers=["assist_satellite.hall_satellite"])
    testing = asyncio.get_running_loop().create_task(
        hass.services.async_call(
            DOMAIN,
            "test_announcement",
            {"config_entry_id": entry.entry_id, "message": "Hello"},
            blocking=True,
        )
    )
    await pass_time(hass, freezer, 3)
    await testing  # no error: the satellite said it once it was free
    assert [a.message for _, a in satellite.announced] == ["Hello"]
    assert entry.runtime_data.announcer.speakers_work()


async def test_announce_is_coaching_talk(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """Announce speaks on the speakers, is muted by the switch, and waits for a turn to end."""
    entry = await setup_entry(hass, speakers=[LIVING])
    await announce(hass, entry, "Your tea is ready.")
    await advance(hass, freezer, 1)
    assert player.messages == ["Your tea is ready."]
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": ANNOUNCEMENTS}, blocking=True
    )
    await announce(hass, entry, "Muted.")
    await advance(hass, freezer, 1)
    assert "Muted." not in player.messages
    await hass.services.async_call("switch", "turn_on", {"entity_id": ANNOUNCEMENTS}, blocking=True)
    await start_turn_programme(hass, entry)
    for _ in range(60):
        await advance(hass, freezer, 1)
        if any("5 seconds" in m for m in player.messages):
            break
    # The turn's lead-in has begun: the message waits until the turn is over.
    await announce(hass, entry, "During the turn.")
    turn_at = len(player.messages)
    assert await run_until_settled(hass, freezer) == "completed"
    said = player.messages.index("During the turn.")
    assert said > turn_at
    assert any("Turn around now" in m for m in player.messages[turn_at:said])


async def test_announce_needs_a_speaker(hass: HomeAssistant) -> None:
    """Announce without a speaker says how to add one."""
    entry = await setup_entry(hass)
    with pytest.raises(ServiceValidationError) as err:
        await announce(hass, entry, "Hello")
    assert err.value.translation_key == "announce_no_speakers"


async def test_an_empty_tts_engine_with_a_legacy_default_engine_speaks(
    hass: HomeAssistant, tmp_path: Path, issue_registry: ir.IssueRegistry
) -> None:
    """tts_engine left empty while the default engine is a legacy provider still speaks.

    tts.speak rejects a legacy provider (it takes entities only): that exception used to
    end the speaker's worker for good while the speaker still counted as working.
    """
    mock_integration(hass, MockModule(domain="legacy_speech"))
    mock_platform(hass, "legacy_speech.tts", LegacyTTSPlatform())
    with patch("homeassistant.components.tts.DEFAULT_CACHE_DIR", str(tmp_path)):
        assert await async_setup_component(hass, "tts", {"tts": [{"platform": "legacy_speech"}]})
        await hass.async_block_till_done()
    assert await async_setup_component(hass, "media_player", {})
    player = RecordingPlayer("Living room")
    await hass.data[MEDIA_PLAYER_COMPONENT]._platforms["media_player"].async_add_entities([player])
    await hass.async_block_till_done()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Simulated treadmill",
        data=SIMULATED_DATA,
        options={"speakers": [LIVING]},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    announcer = entry.runtime_data.announcer
    for _ in range(2):
        ticket = announcer.say(Phrase("Turn around now.", "en"), safety=True)
        assert await ticket.accepted == LIVING
    assert player.messages == ["Turn around now.", "Turn around now."]
    assert all(heard.announce for heard in player.heard)
    assert announcer.speakers_work()
    assert (
        issue_registry.async_get_issue(DOMAIN, f"speaker_failed_{entry.entry_id}_{LIVING}") is None
    )


class GatedPlayer(RecordingPlayer):
    """A media player that holds its first announcement until the test opens the gate."""

    def __init__(self, name: str) -> None:
        """Start with the gate closed."""
        super().__init__(name)
        self.gate = asyncio.Event()

    async def async_play_media(self, media_type: str, media_id: str, **kwargs: Any) -> None:
        """Wait for the gate, then record."""
        await self.gate.wait()
        await super().async_play_media(media_type, media_id, **kwargs)


@pytest.mark.parametrize("action", ["test_announcement", "announce"])
async def test_announcements_queue_behind_turn_and_safety_cues(
    hass: HomeAssistant, speakers: tuple[RecordingTTS, list[RecordingPlayer]], action: str
) -> None:
    """test_announcement and announce are coaching talk: a turn cue queued later goes first."""
    hall = GatedPlayer("Hall")
    await hass.data[MEDIA_PLAYER_COMPONENT]._platforms["media_player"].async_add_entities([hall])
    entry = await setup_entry(hass, speakers=["media_player.hall"])
    announcer = entry.runtime_data.announcer
    busy = announcer.say(Phrase("Keep going.", "en"), safety=False)  # the speaker is busy
    await asyncio.sleep(0)
    calling = asyncio.get_running_loop().create_task(
        hass.services.async_call(
            DOMAIN, action, {"config_entry_id": entry.entry_id, "message": "Hello"}, blocking=True
        )
    )
    for _ in range(10):
        await asyncio.sleep(0)
    turn = announcer.say(Phrase("Turn around now.", "en"), safety=True)
    hall.gate.set()
    await busy.results
    await turn.results
    await calling
    for _ in range(10):
        await asyncio.sleep(0)
    await hass.async_block_till_done()
    assert hall.messages == ["Keep going.", "Turn around now.", "Hello"]


async def test_accept_listeners_hear_who_took_a_turn_cue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """The lead-in cue of a turn is reported as taken by the speaker that said it."""
    entry = await setup_entry(hass, speakers=[LIVING])
    announcer = entry.runtime_data.announcer
    taken: list[tuple[str, str | None]] = []
    remove = announcer.add_accept_listener(lambda e, who: taken.append((str(e.type), who)))
    await start_turn_programme(hass, entry)
    assert await run_until_settled(hass, freezer) == "completed"
    assert ("turn_around_soon", LIVING) in taken
    assert ("turn_now", LIVING) in taken
    remove()
    heard_before = len(taken)
    unheard: list[tuple[str, str | None]] = []
    announcer.add_accept_listener(lambda e, who: unheard.append((str(e.type), who)))
    player._attr_available = False
    player.async_write_ha_state()
    await start_turn_programme(hass, entry)
    await advance(hass, freezer, 3)
    # Nobody can hear: the programme's first words were taken by no speaker.
    assert ("programme_started", None) in unheard
    assert len(taken) == heard_before  # a removed listener hears nothing
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def test_removing_the_entry_can_delete_every_issue_of_ours(
    hass: HomeAssistant, player: RecordingPlayer, issue_registry: ir.IssueRegistry
) -> None:
    """async_delete_issues (for async_remove_entry) deletes this entry's issues, no other's."""
    entry = await setup_entry(hass, speakers=["media_player.gone"])
    other = await setup_entry(hass, speakers=["media_player.gone"])
    for owner in (entry, other):
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"control_refused_{owner.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="control_refused",
            translation_placeholders={"name": "Simulated treadmill", "reason": "x"},
        )
    async_delete_issues(hass, entry.entry_id)
    ours = sorted(issue_id for domain, issue_id in issue_registry.issues if domain == DOMAIN)
    assert ours == sorted(
        [
            f"control_refused_{other.entry_id}",
            f"missing_entity_{other.entry_id}_media_player.gone",
        ]
    )


async def test_an_announcement_held_by_a_turn_is_dropped_when_muted_meanwhile(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """Muting coaching during the turn also mutes what the turn held back."""
    entry = await setup_entry(hass, speakers=[LIVING])
    await start_turn_programme(hass, entry)
    for _ in range(60):
        await advance(hass, freezer, 1)
        if any("5 seconds" in m for m in player.messages):
            break
    await announce(hass, entry, "During the turn.")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": ANNOUNCEMENTS}, blocking=True
    )
    assert await run_until_settled(hass, freezer) == "completed"
    assert any("Turn around now" in m for m in player.messages)
    assert "During the turn." not in player.messages
