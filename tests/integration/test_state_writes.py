"""What a session writes: timestamps only when the plan moves, no entity-registry writes."""

from __future__ import annotations

from datetime import datetime
import itertools

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN

from .conftest import advance

# Two turns, each a few seconds long at 1 Hz notifications: 60 s of walking.
TURNS = {
    "name": "Turns",
    "segments": [
        {"direction": "forward", "duration": 20, "speed": 3.0},
        {"direction": "backward", "duration": 20, "speed": 2.0},
        {"direction": "forward", "duration": 20, "speed": 3.0},
    ],
}
ENDS_AT = "sensor.simulated_treadmill_programme_ends"
STATUS = "sensor.simulated_treadmill_programme_status"
SPEED = "number.simulated_treadmill_target_speed"


def _timestamp(state: str) -> datetime | None:
    """Return a timestamp sensor's state as a datetime (None when unknown)."""
    if state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    return dt_util.parse_datetime(state)


async def _run_programme(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> list[str]:
    """Start the programme with two turns, run it to its end; return the statuses seen."""
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": TURNS, "wait_for_person": False},
        blocking=True,
    )
    statuses = []
    for _ in range(200):
        await advance(hass, freezer, 1)
        statuses.append(hass.states.get(STATUS).state)
        if statuses[-1] == "completed":
            break
    return statuses


async def test_programme_ends_at_moves_only_with_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """During turns the end of the programme is not rewritten every second."""
    written: list[datetime | None] = []

    @callback
    def on_state(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        if event.data["entity_id"] == ENDS_AT and new_state is not None:
            written.append(_timestamp(new_state.state))

    hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
    statuses = await _run_programme(hass, freezer, loaded_simulated)
    assert statuses[-1] == "completed", statuses
    assert statuses.count("turning") >= 4, statuses
    moves = [
        (old, new)
        for old, new in itertools.pairwise(written)
        if old is not None and new is not None
    ]
    assert len(written) >= 2, written
    small = [(old, new) for old, new in moves if abs((new - old).total_seconds()) < 2]
    assert not small, f"{len(small)} of {len(written)} writes moved the end by less than 2 s"
    # Unknown before the start and after the end; a few real moves in between at most.
    assert len(written) <= 6, written


async def test_no_entity_registry_writes_during_a_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Turns do not rewrite target_speed's capabilities in the entity registry."""
    updates: list[dict[str, object]] = []

    @callback
    def on_registry(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        updates.append(dict(event.data))

    hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, on_registry)
    speed_max = hass.states.get(SPEED).attributes["max"]
    maxima = set()

    @callback
    def on_state(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        if event.data["entity_id"] == SPEED and new_state is not None:
            maxima.add(new_state.attributes.get("max"))

    hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
    statuses = await _run_programme(hass, freezer, loaded_simulated)
    assert "turning" in statuses
    assert statuses[-1] == "completed", statuses
    assert updates == []
    # The number's range stays the machine's: the cap is enforced by the interlock.
    assert maxima <= {speed_max}, maxima


async def test_programme_ends_at_follows_a_skip(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """A skipped interval moves the plan: the new end is written at once."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {**entry_id, "definition": TURNS, "wait_for_person": False},
        blocking=True,
    )
    await advance(hass, freezer, 14)
    assert hass.states.get(STATUS).state == "running"
    before = _timestamp(hass.states.get(ENDS_AT).state)
    await hass.services.async_call(DOMAIN, "skip_interval", entry_id, blocking=True)
    statuses = []
    for _ in range(30):
        await advance(hass, freezer, 1)
        statuses.append(hass.states.get(STATUS).state)
        if statuses[-1] == "running" and "turning" in statuses:
            break
    assert statuses[-1] == "running", statuses
    after = _timestamp(hass.states.get(ENDS_AT).state)
    assert before is not None
    assert after is not None
    # The 16 s left of the first segment, less the turn cue's lead-in it keeps.
    assert 8 <= (before - after).total_seconds() <= 20, (before - after, statuses)
