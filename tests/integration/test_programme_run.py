"""A programme run end to end: action, countdown, turns, completion, recorded session."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN

from .conftest import advance

SHORT = {
    "name": "Short",
    "segments": [
        {"direction": "forward", "duration": 20, "speed": 3.0},
        {"direction": "backward", "duration": 20, "speed": 2.0},
        {"direction": "forward", "duration": 20, "speed": 3.0},
    ],
}


async def test_inline_programme_runs_to_completion(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """An inline programme counts down, turns twice and is recorded."""
    events: list[str] = []
    hass.bus.async_listen(f"{DOMAIN}_event", lambda e: events.append(e.data["type"]))
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
    status = "sensor.simulated_treadmill_programme_status"
    assert hass.states.get(status).state == "countdown"
    directions = set()
    for _ in range(200):
        await advance(hass, freezer, 1)
        directions.add(hass.states.get("sensor.simulated_treadmill_direction").state)
        if hass.states.get(status).state == "completed":
            break
    assert hass.states.get(status).state == "completed", events
    assert {"forward", "backward", "turning"} <= directions
    assert events[0] == "programme_started"
    assert events.count("direction_changed") == 2
    assert events[-1] == "programme_completed"
    response = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"config_entry_id": loaded_simulated.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response["sessions"][0]["outcome"] == "completed"
    assert hass.states.get("sensor.simulated_treadmill_sessions_completed").state == "1"
    session = response["sessions"][0]
    assert session["backward_distance_m"] > 5, session
    assert float(hass.states.get("sensor.simulated_treadmill_backward_distance").state) > 0
