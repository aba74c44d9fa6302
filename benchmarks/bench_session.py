"""State writes and logbook rows over a whole `first_steps`, turns included.

bench_state_writes measures steady walking only; turns, countdowns and interval changes
are where the programme's entities move. Here a simulated treadmill with one speaker
walks the built-in `first_steps` (warm-up, four backward bouts with a turn on each side,
cool-down) from `treadreverse.start_programme` to its completion, with 1 Hz Treadmill
Data notifications, and we count:

- ours: every state-machine write of the entry's entities (a changed state, or an
  identical one Home Assistant reports without recording), per treadmill-minute; and the
  logbook rows of the session by Home Assistant's own rule for live rows (a changed
  state, not an attribute-only change, not a sensor with a unit, a state class or a
  numeric device class), plus one row per bus event if the integration describes them;
- a per-notification writer: on every notification every entity of the entry writes its
  value as computed (no display rounding, no holding of the plan's timestamps); its
  logbook rows are the changes of those values by the same rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
import importlib.util
from typing import Any

from homeassistant.components.logbook.helpers import _is_state_filtered
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import async_get_platforms

from benchmarks.ha_harness import (
    Simulation,
    async_setup_speakers,
    run_simulated,
    simulated_home_assistant,
)
from custom_components.treadreverse.const import DOMAIN, EVENT_TREADREVERSE
from custom_components.treadreverse.sensor import TreadReverseSensor
from custom_components.treadreverse.treadmill.base import LiveData

PROGRAMME = "first_steps"
LONGEST_S = 40 * 60  # first_steps lasts about 14 minutes with its turns
SPEAKER_OPTIONS = {"speakers": ["media_player.living_room"], "tts_engine": "tts.test_speech"}
STORY = "event"  # the programme_event entity's rows
STEERING = ("direction", "programme_status")
# Whether the integration describes its bus event for the logbook (a row per event).
DESCRIBED = importlib.util.find_spec("custom_components.treadreverse.logbook") is not None


@dataclass
class Tally:
    """What one session wrote."""

    seconds: float = 0.0
    notifications: int = 0
    writes: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    naive_writes: int = 0
    naive_rows: int = 0


def _kind(entity_id: str) -> str:
    """Return which part of the logbook a row of this entity belongs to."""
    if entity_id.startswith("event."):
        return "story"
    if entity_id.startswith("sensor.") and entity_id.endswith(STEERING):
        return "direction and status"
    return "other"


def _naive_state(entity: Entity) -> str:
    """Return the state a writer without rounding or holding would write now."""
    if not entity.available:
        return STATE_UNAVAILABLE
    if isinstance(entity, TreadReverseSensor):
        value = entity.entity_description.value_fn(entity.coordinator.data)
        if value is None:
            return STATE_UNKNOWN
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="seconds")
        return str(value)
    state = entity.state
    return STATE_UNKNOWN if state is None else str(state)


class NaiveWriter:
    """Writes every entity on every notification, and counts the logbook rows it makes."""

    def __init__(self, hass: HomeAssistant, entities: list[Entity], tally: Tally) -> None:
        """Start from the states the entities show now."""
        self.hass = hass
        self.entities = entities
        self.tally = tally
        self.states: dict[str, State] = {}
        for entity in entities:
            shown = hass.states.get(entity.entity_id)
            assert shown is not None, entity.entity_id
            self.states[entity.entity_id] = State(
                entity.entity_id, _naive_state(entity), shown.attributes
            )

    def write_all(self) -> None:
        """Write every entity once; a changed state the logbook lists is a row."""
        for entity in self.entities:
            self.tally.naive_writes += 1
            old = self.states[entity.entity_id]
            new_state = _naive_state(entity)
            if new_state == old.state:
                continue
            shown = self.hass.states.get(entity.entity_id)
            assert shown is not None
            new = State(entity.entity_id, new_state, shown.attributes)
            if not _is_state_filtered(new, old):
                self.tally.naive_rows += 1
            self.states[entity.entity_id] = new


def _our_entities(hass: HomeAssistant, entry_id: str) -> list[Entity]:
    """Return the entity objects of this entry, across its platforms."""
    return [
        entity
        for platform in async_get_platforms(hass, DOMAIN)
        if platform.config_entry is not None and platform.config_entry.entry_id == entry_id
        for entity in platform.entities.values()
    ]


def _count_ours(hass: HomeAssistant, ours: set[str], tally: Tally) -> list[Any]:
    """Count our writes and logbook rows; return the listeners' removers."""

    @callback
    def on_changed(event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        if entity_id not in ours:
            return
        tally.writes += 1
        old, new = event.data["old_state"], event.data["new_state"]
        if old is not None and new is not None and not _is_state_filtered(new, old):
            tally.rows[_kind(entity_id)] += 1

    @callback
    def is_ours(data: EventStateReportedData) -> bool:
        return data["entity_id"] in ours

    @callback
    def on_reported(_event: Event[EventStateReportedData]) -> None:
        tally.writes += 1

    @callback
    def on_bus_event(_event: Event) -> None:
        if DESCRIBED:
            tally.rows["story (bus event)"] += 1

    return [
        hass.bus.async_listen(EVENT_STATE_CHANGED, on_changed),
        hass.bus.async_listen(EVENT_STATE_REPORTED, on_reported, event_filter=is_ours),
        hass.bus.async_listen(EVENT_TREADREVERSE, on_bus_event),
    ]


async def _walk(sim: Simulation, entry_id: str, status_entity: str) -> None:
    """Start the programme and move time on until it completed."""
    hass = sim.hass
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry_id, "programme": PROGRAMME, "wait_for_person": False},
        blocking=True,
    )
    for _ in range(LONGEST_S):
        await sim.advance(1)
        status = hass.states.get(status_entity)
        if status is not None and status.state == "completed":
            return
    raise AssertionError(f"{PROGRAMME} did not complete in {LONGEST_S} s")


async def _measure() -> Tally:
    """Walk first_steps once and count both writers."""
    async with simulated_home_assistant() as sim:
        hass = sim.hass
        # A working speaker: without one the countdown never starts (rule 9).
        await async_setup_speakers(hass, "Living room")
        entry = await sim.async_setup_entry(SPEAKER_OPTIONS)
        entities = _our_entities(hass, entry.entry_id)
        by_key = {e.unique_id: e.entity_id for e in entities}
        status_entity = by_key[f"{entry.unique_id or entry.entry_id}_programme_status"]
        assert status_entity is not None
        tally = Tally()
        naive = NaiveWriter(hass, entities, tally)

        def on_data(_data: LiveData) -> None:
            tally.notifications += 1
            naive.write_all()

        removers = _count_ours(hass, {e.entity_id for e in entities}, tally)
        removers.append(entry.runtime_data.coordinator.treadmill.subscribe(on_data=on_data))
        started = sim.seconds
        await _walk(sim, entry.entry_id, status_entity)
        tally.seconds = sim.seconds - started
        for remove in removers:
            remove()
    return tally


def run() -> list[str]:
    """Return the `session state writes` and `session logbook rows` lines."""
    tally = run_simulated(_measure)
    minutes = tally.seconds / 60
    assert tally.notifications >= tally.seconds - 30, (tally.notifications, tally.seconds)
    ours, theirs = tally.writes / minutes, tally.naive_writes / minutes
    rows = tally.rows.total()
    parts = ", ".join(f"{kind} {count}" for kind, count in sorted(tally.rows.items()))
    return [
        f"state writes per minute over {PROGRAMME} ({minutes:.1f} min, turns included): "
        f"ours {ours:.1f}; per-notification writer {theirs:.1f}; ratio {theirs / ours:.1f}",
        f"logbook rows per {PROGRAMME} session: ours {rows} ({parts}); "
        f"per-notification writer {tally.naive_rows}; ratio {tally.naive_rows / rows:.1f}",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
