"""Spoken coaching on real Home Assistant speakers: who hears what, when, in which language."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.announcer import (
    COACHING_PRIORITY,
    SAFETY_PRIORITY,
    _Queued,
)
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.cues import Phrase, load_cues
from custom_components.treadreverse.programme.events import EngineEvent

from .conftest import SIMULATED_DATA, advance
from .speakers import RecordingPlayer, RecordingTTS, async_setup_satellite

TURN = {
    "name": "Turn once",
    "segments": [
        {"direction": "forward", "duration": 30, "speed": 3.0},
        {"direction": "backward", "duration": 30, "speed": 2.0, "handrails": "both"},
    ],
}
STATUS = "sensor.simulated_treadmill_programme_status"


async def setup_entry(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """Set up a simulated treadmill with these options."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Simulated treadmill",
        data=SIMULATED_DATA,
        options={"tts_engine": "tts.test_speech", **options},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry, seconds: int = 150
) -> list[tuple[datetime, EngineEvent]]:
    """Run the one-turn programme; return the engine's events with their times."""
    events: list[tuple[datetime, EngineEvent]] = []
    entry.runtime_data.coordinator.engine.add_listener(
        lambda e: events.append((dt_util.utcnow(), e))
    )
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": TURN, "wait_for_person": False},
        blocking=True,
    )
    for _ in range(seconds):
        await advance(hass, freezer, 1)
        if hass.states.get(STATUS).state in {"completed", "paused"}:
            break
    return events


def first(events: list[tuple[datetime, EngineEvent]], kind: str) -> tuple[datetime, EngineEvent]:
    """Return the first event of a kind."""
    return next((at, e) for at, e in events if e.type == kind)


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "nl"])
async def test_turn_cues_in_time_in_every_language(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
    language: str,
) -> None:
    """Each speaker hears the turn warning ahead of the turn, then the turn once slowed."""
    _, (living, kitchen) = speakers
    entry = await setup_entry(
        hass, speakers=["media_player.living_room", "media_player.kitchen"], language=language
    )
    events = await run(hass, freezer, entry)
    assert hass.states.get(STATUS).state == "completed"
    book = await hass.async_add_executor_job(load_cues, language)
    soon_at, soon = first(events, "turn_around_soon")
    slow_at, _ = first(events, "slow_down")
    turn_at, turn = first(events, "turn_now")
    expected_soon = book.render_event("turn_around_soon", soon.data)
    expected_turn = book.render_event("turn_now", turn.data)
    assert expected_soon is not None
    assert expected_turn is not None
    assert expected_soon.language == language
    for player in (living, kitchen):
        heard = {h.message: h for h in player.heard}
        assert heard[expected_soon.text].at == soon_at
        assert heard[expected_soon.text].language == language
        # The warning comes cue_lead_time (5 s) before the belt slows for the turn.
        assert (slow_at - heard[expected_soon.text].at).total_seconds() == pytest.approx(5, abs=1)
        assert heard[expected_turn.text].at == turn_at
        assert all(h.announce for h in player.heard)
    simulator = entry.runtime_data.coordinator.treadmill.simulator
    assert turn_at > slow_at
    assert simulator.config.speed_range.minimum <= 1.0
    if language == "en":
        assert "Turn around now, walk backward, and hold both handrails." in living.messages


async def test_turn_now_only_when_slowed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """The turn itself is announced only once the belt is at the turn speed (rule 1)."""
    entry = await setup_entry(hass, speakers=["media_player.living_room"])
    speeds: list[tuple[str, float | None]] = []
    coordinator = entry.runtime_data.coordinator
    coordinator.engine.add_listener(
        lambda e: speeds.append((str(e.type), coordinator.treadmill.data.speed))
    )
    await run(hass, freezer, entry)
    turn_speeds = [speed for kind, speed in speeds if kind == "turn_now"]
    assert turn_speeds
    assert all(s is not None and s <= 1.0 + 0.05 for s in turn_speeds)


async def test_one_failing_speaker_does_not_silence_the_others(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A speaker that fails is logged once; the other hears everything on time."""
    _, (living, kitchen) = speakers
    kitchen.fail = True
    entry = await setup_entry(hass, speakers=["media_player.living_room", "media_player.kitchen"])
    await run(hass, freezer, entry)
    assert hass.states.get(STATUS).state == "completed"
    assert any("Turn around now" in m for m in living.messages)
    assert kitchen.heard == []
    assert caplog.text.count("Speaker media_player.kitchen failed") == 1


async def test_muted_coaching_still_speaks_turns(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """The announcements switch mutes coaching talk, never turn or safety cues."""
    entry = await setup_entry(hass, speakers=["media_player.living_room"])
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.simulated_treadmill_announcements"},
        blocking=True,
    )
    events = await run(hass, freezer, entry)
    book = await hass.async_add_executor_job(load_cues, "en")
    _, started = first(events, "interval_started")
    coaching = book.render_event("interval_started", started.data)
    assert coaching is not None
    assert coaching.text not in player.messages
    assert any("Turn around now" in m for m in player.messages)
    assert any(m.startswith("In 5 seconds") or "5 seconds" in m for m in player.messages)


async def test_no_speaker_pauses_at_turns_and_notifies(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without a working speaker the turn falls back to pause-and-wait (rule 2)."""
    sent: list[dict[str, Any]] = []

    async def fake_notify(call: Any) -> None:
        sent.append(dict(call.data))

    hass.services.async_register("notify", "send_message", fake_notify)
    hass.states.async_set("notify.phone", "unknown")
    entry = await setup_entry(hass, notify=["notify.phone"])
    await run(hass, freezer, entry)
    assert hass.states.get(STATUS).state == "paused"
    assert any(d["entity_id"] == "notify.phone" for d in sent)
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def test_missing_speaker_raises_repair_issue(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry
) -> None:
    """A configured speaker that no longer exists raises a repair issue."""
    entry = await setup_entry(hass, speakers=["media_player.gone"])
    issue = issue_registry.async_get_issue(
        DOMAIN, f"missing_entity_{entry.entry_id}_media_player.gone"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"entity_id": "media_player.gone"}


async def test_test_announcement(
    hass: HomeAssistant, speakers: tuple[RecordingTTS, list[RecordingPlayer]]
) -> None:
    """test_announcement speaks on every speaker, and says so when none works."""
    _, (living, kitchen) = speakers
    entry = await setup_entry(hass, speakers=["media_player.living_room", "media_player.kitchen"])
    data = {"config_entry_id": entry.entry_id}
    await hass.services.async_call(
        DOMAIN, "test_announcement", {**data, "message": "Hello"}, blocking=True
    )
    assert living.messages == ["Hello"]
    assert kitchen.messages == ["Hello"]
    living.fail = kitchen.fail = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "test_announcement", data, blocking=True)
    assert err.value.translation_key == "announcement_failed"


async def test_test_announcement_without_speakers(hass: HomeAssistant) -> None:
    """test_announcement tells the user to configure a speaker."""
    entry = await setup_entry(hass)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "test_announcement", {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert err.value.translation_key == "no_speakers"


async def test_busy_satellite_gets_its_turn_cue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
) -> None:
    """A satellite busy with another announcement still gets every cue, in our voice."""
    satellite = await async_setup_satellite(hass)
    _, (living, _kitchen) = speakers
    entry = await setup_entry(
        hass,
        speakers=["media_player.living_room", "assist_satellite.hall_satellite"],
        language="de",
    )
    await run(hass, freezer, entry)
    messages = [a.message for _, a in satellite.announced]
    assert messages == living.messages
    assert all(not a.preannounce_media_id for _, a in satellite.announced)
    assert all("language=de" in a.original_media_id for _, a in satellite.announced)


async def test_no_redundant_speed_talk(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """A speed the interval start or the slow-down cue already named is not said again."""
    entry = await setup_entry(hass, speakers=["media_player.living_room"])
    await run(hass, freezer, entry)
    assert "Slowing down to 1 kilometre per hour to turn." in player.messages
    assert not any(m.startswith("Changing the speed") for m in player.messages)


async def test_advisory_mode_tells_every_change(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """A treadmill without connection gets every change as an instruction; turns are timed."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Old mill",
        data={"kind": "manual", "name": "Old mill"},
        options={"speakers": ["media_player.living_room"], "tts_engine": "tts.test_speech"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": TURN, "wait_for_person": False},
        blocking=True,
    )
    for _ in range(150):
        await advance(hass, freezer, 1)
        if hass.states.get("sensor.old_mill_programme_status").state == "completed":
            break
    assert hass.states.get("sensor.old_mill_programme_status").state == "completed"
    assert "Set the speed to 3 kilometres per hour." in player.messages
    assert "Set the speed to 2 kilometres per hour." in player.messages
    assert player.messages.count("Slow the belt to 1 kilometre per hour to turn.") == 2
    assert "Set the speed to 1 kilometre per hour." not in player.messages


async def test_stale_coaching_is_dropped_but_safety_cues_are_not(
    hass: HomeAssistant, player: RecordingPlayer
) -> None:
    """Coaching talk that waited too long behind a slow speaker is dropped; safety cues never."""
    entry = await setup_entry(hass, speakers=["media_player.living_room"])
    speaker = entry.runtime_data.announcer.speakers[0]
    long_ago = hass.loop.time() - 60
    speaker.queue.put_nowait(_Queued(COACHING_PRIORITY, 0, Phrase("Old news.", "en"), long_ago))
    speaker.queue.put_nowait(_Queued(SAFETY_PRIORITY, 1, Phrase("Turn now.", "en"), long_ago))
    for _ in range(10):
        await asyncio.sleep(0)
    await hass.async_block_till_done()
    assert player.messages == ["Turn now."]


async def test_current_interval_speaks_the_coaching_language(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, player: RecordingPlayer
) -> None:
    """current_interval names the interval in the coaching language."""
    entry = await setup_entry(hass, speakers=["media_player.living_room"], language="de")
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": TURN, "wait_for_person": False},
        blocking=True,
    )
    await advance(hass, freezer, 12)
    assert hass.states.get("sensor.simulated_treadmill_current_interval").state == (
        "1/2 Vorwärtsgehen"
    )
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )
