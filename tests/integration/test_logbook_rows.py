"""Every logbook row of the treadmill's device during a session: the story once, no ticking."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
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
STATUS = "sensor.simulated_treadmill_programme_status"
DIRECTION = "sensor.simulated_treadmill_direction"
EVENT = "event.simulated_treadmill_programme_event"
# The story, in the order a two-segment programme tells it (the event entity's rows).
STORY = [
    "programme_started",
    "interval_started",
    "turn_around_soon",
    "direction_changed",
    "interval_started",
    "turn_around_soon",
    "direction_changed",
    "programme_completed",
]
# What changes at a session's milestones and Home Assistant lists whatever an integration
# does (only sensors with a unit, a state class or a numeric device class are left out):
# the switch, the belt, the target speed, the interval and the two timestamps.
MILESTONE_ENTITIES = {
    "switch.simulated_treadmill_backward_intervals",
    "binary_sensor.simulated_treadmill_belt_running",
    "number.simulated_treadmill_target_speed",
    "sensor.simulated_treadmill_current_interval",
    "sensor.simulated_treadmill_interval_ends",
    "sensor.simulated_treadmill_programme_ends",
}


async def _device_rows(
    hass: HomeAssistant, hass_ws_client: Any, entry: MockConfigEntry, start: datetime
) -> list[dict[str, Any]]:
    """Return the logbook as the device's page asks for it: its entities and its device."""
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    # The device's identifiers may change; its entities know it.
    devices = {e.device_id for e in entities}
    assert len(devices) == 1, devices
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "end_time": (dt_util.utcnow() + timedelta(seconds=1)).isoformat(),
            "entity_ids": [e.entity_id for e in entities],
            "device_ids": list(devices),
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    return list(response["result"])


async def _run_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> Counter[str]:
    """Run the short programme to its end; return how often each entity's state changed."""
    changes: Counter[str] = Counter()

    @callback
    def on_state(event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is not None and new is not None and old.state != new.state:
            changes[event.data["entity_id"]] += 1

    remove = hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": SHORT, "wait_for_person": False},
        blocking=True,
    )
    for _ in range(120):
        await advance(hass, freezer, 1)
        if hass.states.get(STATUS).state == "completed":
            break
    remove()
    assert hass.states.get(STATUS).state == "completed"
    return changes


async def test_a_session_logs_its_story_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: Any,
    loaded_simulated: MockConfigEntry,
) -> None:
    """Every row of the device: the story once, direction and status, and a few milestones."""
    assert await async_setup_component(hass, "logbook", {})
    start = dt_util.utcnow() - timedelta(seconds=1)
    changes = await _run_session(hass, freezer, loaded_simulated)
    rows = await _device_rows(hass, hass_ws_client, loaded_simulated, start)
    by_entity = Counter(r.get("entity_id") for r in rows)
    # The story: one row per programme event, told once (no second row from the bus event).
    story = [r["attributes"]["event_type"] for r in rows if r.get("entity_id") == EVENT]
    assert story == STORY
    assert by_entity.pop(None, 0) == 0, [r for r in rows if r.get("entity_id") is None]
    assert by_entity.pop(EVENT) == len(STORY)
    # Direction and status: each change, as it happened.
    # The direction: forward, turning, backward, turning, stopped. The last turn faces the
    # person forward as the programme completes, in the same instant: the entities hear
    # both at once and show what is true then (no row for a forward that lasted 0 s).
    assert by_entity.pop(DIRECTION) == changes[DIRECTION] == 5
    assert by_entity.pop(STATUS) == changes[STATUS] == 6
    # Nothing else but milestones: no entity ticks (a timestamp rewritten each second of a
    # turn gave 16 rows); each of these changes at most once per programme event.
    assert set(by_entity) <= MILESTONE_ENTITIES, by_entity
    assert max(by_entity.values()) <= 5, by_entity
    assert all(by_entity[e] == changes[e] for e in by_entity), (by_entity, changes)
    # 37 rows in all for this session: 8 of the story, 11 of direction and status, 18 more.
    assert sum(by_entity.values()) <= 18, by_entity
