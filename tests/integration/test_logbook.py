"""The logbook tells a session's story once, through the programme_event entity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import translation
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.treadreverse.const import DOMAIN, EVENT_TREADREVERSE
from custom_components.treadreverse.programme.events import PUBLIC_EVENT_TYPES

from .conftest import advance


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Any, enable_custom_integrations: None) -> None:
    """Start the recorder before Home Assistant, then allow custom integrations."""


SHORT = {
    "name": "Short",
    "segments": [
        {"direction": "forward", "duration": 20, "speed": 3.0},
        {"direction": "backward", "duration": 20, "speed": 2.0},
    ],
}
EVENT = "event.simulated_treadmill_programme_event"


async def test_session_story(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: Any,
    loaded_simulated: MockConfigEntry,
) -> None:
    """Each programme event is one row of the event entity; the bus event adds none."""
    assert await async_setup_component(hass, "logbook", {})
    start = dt_util.utcnow() - timedelta(seconds=1)
    fired: list[str] = []
    hass.bus.async_listen(EVENT_TREADREVERSE, lambda e: fired.append(e.data["type"]))
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "definition": SHORT,
            "wait_for_person": False,
        },
        blocking=True,
    )
    for _ in range(120):
        await advance(hass, freezer, 1)
        if hass.states.get("sensor.simulated_treadmill_programme_status").state == "completed":
            break
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "end_time": (dt_util.utcnow() + timedelta(seconds=1)).isoformat(),
        }
    )
    response = await client.receive_json()
    story = [e for e in response["result"] if e.get("entity_id") == EVENT]
    told = [e["attributes"]["event_type"] for e in story]
    # Automations still get the bus event; the logbook tells each event once.
    assert told == fired
    assert told[0] == "programme_started"
    assert told.count("direction_changed") == 2
    assert told[-1] == "programme_completed"
    assert not [e for e in response["result"] if e.get("domain") == DOMAIN]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "nl"])
async def test_story_words_in_every_language(hass: HomeAssistant, language: str) -> None:
    """The frontend words each row from the event type's name in the user's language."""
    names = await translation.async_get_translations(hass, language, "entity", {DOMAIN})
    prefix = f"component.{DOMAIN}.entity.event.programme_event.state_attributes.event_type.state"
    missing = [t for t in PUBLIC_EVENT_TYPES if not names.get(f"{prefix}.{t}")]
    assert not missing
