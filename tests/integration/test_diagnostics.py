"""Diagnostics: the speakers' health and recent deliveries; nothing that names the treadmill."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.treadreverse.const import DOMAIN

from .speakers import RecordingPlayer, RecordingTTS
from .test_announcer import setup_entry


async def test_diagnostics_show_speaker_health_and_deliveries(
    hass: HomeAssistant,
    hass_client: Any,
    speakers: tuple[RecordingTTS, list[RecordingPlayer]],
) -> None:
    """A working and a failing speaker, and what was said where, with the name redacted."""
    _, (_living, kitchen) = speakers
    kitchen.fail = True
    entry: MockConfigEntry = await setup_entry(
        hass, speakers=["media_player.living_room", "media_player.kitchen"]
    )
    await hass.services.async_call(
        DOMAIN,
        "test_announcement",
        {"config_entry_id": entry.entry_id, "message": "Hello"},
        blocking=True,
    )
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    health = result["speakers"]
    assert health["speakers_work"] is True
    by_entity = {s["entity_id"]: s for s in health["speakers"]}
    assert by_entity["media_player.living_room"]["works"] is True
    assert by_entity["media_player.kitchen"] == {
        "entity_id": "media_player.kitchen",
        "state": "idle",
        "last_call_succeeded": False,
        "works": False,
        "queued": 0,
    }
    [delivery] = health["recent_deliveries"]
    assert delivery["entity_id"] == "media_player.living_room"
    assert delivery["text"] == "Hello"
    assert delivery["language"] == "en"
    # The treadmill's name is redacted in the title and in the data alike.
    assert result["entry"]["title"] == "**REDACTED**"
    assert result["entry"]["data"]["name"] == "**REDACTED**"
    assert "Simulated treadmill" not in str(result)
    # The machine's serial number names one machine: redacted too.
    assert result["entry"]["data"]["device_information"]["serial_number"] == "**REDACTED**"
    assert "SIM-0001" not in str(result)
