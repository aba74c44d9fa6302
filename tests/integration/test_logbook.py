"""The logbook tells a session's story once, in plain words, from the bus event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.treadreverse.const import DOMAIN

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


async def test_session_story(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: Any,
    loaded_simulated: MockConfigEntry,
) -> None:
    """Each programme event is one plain line; the start and the end name the programme."""
    assert await async_setup_component(hass, "logbook", {})
    start = dt_util.utcnow() - timedelta(seconds=1)
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
    ours = [e for e in response["result"] if e.get("domain") == DOMAIN]
    messages = [e["message"] for e in ours]
    assert messages[0] == "started the programme Short"
    assert messages.count("turned around, now walking backward") == 1
    assert messages.count("turned around, now walking forward") == 1
    assert messages[-1].startswith("completed the programme: ")
    assert "m backward in" in messages[-1]
    assert all(e["name"] == "Simulated treadmill" for e in ours)
    # One line per event: the event entity and the sensors add no treadreverse lines.
    assert len(messages) == 8
