"""State writes per minute of steady walking: ours against a writer of every changed field.

A simulated treadmill with one speaker (without one the countdown never starts: rule 9)
walks a one-segment forward programme (4.0 km/h, 2 % incline) started through
`treadreverse.start_programme`; after the first 30 s (countdown, belt and incline
ramping) we count, for 10 simulated minutes with 1 Hz Treadmill Data notifications:

- ours: `state_changed` events of every entity of the entry (measurements, programme
  sensors, everything);
- per-notification writer (what Home Assistant's FTMS integration does): for each
  notification, one write per LiveData field that changed since the previous one.

Then we check that our history keeps what the display shows: for each measurement sensor,
every change of the raw stream rounded to the sensor's display step must be in our states.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
import itertools
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.helpers import entity_registry as er

from benchmarks.ha_harness import (
    async_setup_speakers,
    run_simulated,
    simulated_home_assistant,
)
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.sensor import SENSORS
from custom_components.treadreverse.treadmill.base import LiveData

WARMUP_S = 30  # countdown (10 s), belt to 4.0 km/h (5 s), incline to 2 % (4 s), heart rate
MEASURED_S = 600
PROGRAMME = {
    "name": "Steady walk",
    "segments": [{"direction": "forward", "duration": 720, "speed": 4.0, "incline": 2.0}],
}
SPEAKER_OPTIONS = {"speakers": ["media_player.living_room"], "tts_engine": "tts.test_speech"}
# Measurement sensors fed by Treadmill Data: sensor key -> LiveData field.
MEASUREMENTS = {"speed": "speed", "incline": "incline", "distance": "distance"}
MEASUREMENTS |= {"energy": "energy", "heart_rate": "heart_rate"}
LIVE_FIELDS = [f.name for f in fields(LiveData)]
# Units our states may be written in (suggested units), to the native unit.
TO_NATIVE = {"km": 1000.0, "m": 1.0}


@dataclass
class Recording:
    """What happened during the measured window."""

    measuring: bool = False
    ours: int = 0
    baseline: int = 0
    notifications: int = 0
    # Raw LiveData: the last one before the window, then every one inside it.
    stream: list[LiveData] = field(default_factory=list)
    # entity_id -> states: the one shown when the window opened, then every one written.
    states: dict[str, list[Any]] = field(default_factory=dict)


def _displayed(value: float | None, step: float) -> float | None:
    """Return a raw value rounded to the display step (what the sensor shows)."""
    return None if value is None else round(round(value / step) * step, 6)


def _state_value(state: Any) -> float | None:
    """Return a sensor state as a number in the native unit (None when unknown)."""
    if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    factor = TO_NATIVE.get(state.attributes.get("unit_of_measurement"), 1.0)
    return round(float(state.state) * factor, 6)


def _kept(wanted: list[float | None], written: list[float | None]) -> tuple[int, list[Any]]:
    """Return how many wanted changes appear, in order, among the written states."""
    kept, lost, position = 0, [], 0
    for value in wanted:
        try:
            position = written.index(value, position) + 1
        except ValueError:
            lost.append(value)
        else:
            kept += 1
    return kept, lost


def _history_check(recording: Recording, entity_ids: dict[str, str]) -> str:
    """Compare each measurement's displayed changes with our recorded states."""
    steps = {d.key: d.step for d in SENSORS if d.key in MEASUREMENTS}
    kept_all = wanted_all = 0
    losses: list[str] = []
    extras: list[str] = []
    for key, live_field in MEASUREMENTS.items():
        step = steps[key]
        assert step is not None
        shown = [_displayed(getattr(d, live_field), step) for d in recording.stream]
        wanted = [v for prev, v in itertools.pairwise(shown) if v != prev]
        written = recording.states[entity_ids[key]]
        kept, lost = _kept(wanted, written[1:])
        kept_all += kept
        wanted_all += len(wanted)
        if lost:
            losses.append(f"{key} lost {lost[:5]}")
        if len(written) - 1 > len(wanted):
            extras.append(f"{key} +{len(written) - 1 - len(wanted)}")
        if written[0] != shown[0]:
            losses.append(f"{key} showed {written[0]} at start, display {shown[0]}")
    detail = "; ".join(losses) if losses else "nothing lost"
    if extras:
        detail += f"; extra writes: {', '.join(extras)}"
    return (
        f"history at display precision: ours keeps {kept_all}/{wanted_all} displayed changes "
        f"({detail})"
    )


async def _measure() -> tuple[Recording, dict[str, str]]:
    """Walk the programme and record notifications and state writes."""
    async with simulated_home_assistant() as sim:
        hass = sim.hass
        # A working speaker: without one the countdown never starts (rule 9).
        await async_setup_speakers(hass, "Living room")
        entry = await sim.async_setup_entry(SPEAKER_OPTIONS)
        registry = er.async_get(hass)
        ours = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
        entity_ids = {}
        for key in [*MEASUREMENTS, "programme_status"]:
            entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_{key}")
            assert entity_id is not None, key
            entity_ids[key] = entity_id
        rec = Recording()
        previous: list[LiveData] = []

        @callback
        def on_state(event: Event[EventStateChangedData]) -> None:
            entity_id = event.data["entity_id"]
            if not rec.measuring or entity_id not in ours:
                return
            rec.ours += 1
            if entity_id in rec.states:
                rec.states[entity_id].append(_state_value(event.data["new_state"]))

        def on_data(data: LiveData) -> None:
            if rec.measuring:
                rec.notifications += 1
                if previous:
                    old = previous[0]
                    rec.baseline += sum(getattr(data, f) != getattr(old, f) for f in LIVE_FIELDS)
                rec.stream.append(data)
            previous[:] = [data]

        unsubscribe = entry.runtime_data.coordinator.treadmill.subscribe(on_data=on_data)
        remove = hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
        await hass.services.async_call(
            DOMAIN,
            "start_programme",
            {"config_entry_id": entry.entry_id, "definition": PROGRAMME, "wait_for_person": False},
            blocking=True,
        )
        await sim.advance(WARMUP_S)
        status = hass.states.get(entity_ids.pop("programme_status"))
        assert status is not None, "no programme status sensor"
        assert status.state == "running", status
        rec.stream = previous[:1]
        rec.states = {e: [_state_value(hass.states.get(e))] for e in entity_ids.values()}
        rec.measuring = True
        await sim.advance(MEASURED_S)
        rec.measuring = False
        remove()
        unsubscribe()
        await hass.services.async_call(
            DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
        )
        await sim.advance(10)
    return rec, entity_ids


def run() -> list[str]:
    """Return the `state writes per minute` and `history at display precision` lines."""
    rec, entity_ids = run_simulated(_measure)
    minutes = MEASURED_S / 60
    assert rec.notifications >= MEASURED_S - 2, rec.notifications
    ours, theirs = rec.ours / minutes, rec.baseline / minutes
    ratio = f"{theirs / ours:.1f}" if ours else "inf"
    return [
        f"state writes per minute: ours {ours:.1f}; per-notification writer {theirs:.1f}; "
        f"ratio {ratio}",
        _history_check(rec, entity_ids),
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
