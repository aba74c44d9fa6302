"""Set-up, unload, restarts and several treadmills in a real Home Assistant."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import CONFIG_MINOR_VERSION, DOMAIN
from custom_components.treadreverse.treadmill.ftms import ResultCode

from .conftest import SIMULATED_DATA, advance
from .speakers import RecordingPlayer

STATUS = "sensor.simulated_treadmill_programme_status"


async def start(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> None:
    """Start a programme without waiting for the person."""
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "wait_for_person": False, **data},
        blocking=True,
    )


async def test_simulated_entry_loads_and_unloads(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A simulated treadmill has every entity and unloads cleanly."""
    assert loaded_simulated.state is ConfigEntryState.LOADED
    ids = {s.entity_id for s in hass.states.async_all() if s.entity_id.count("simulated")}
    assert "binary_sensor.simulated_treadmill_connected" in ids
    assert "number.simulated_treadmill_target_speed" in ids
    assert hass.states.get(STATUS).state == "idle"
    assert await hass.config_entries.async_unload(loaded_simulated.entry_id)
    await hass.async_block_till_done()
    assert loaded_simulated.state is ConfigEntryState.NOT_LOADED


async def test_manual_entry_has_no_measurements(hass: HomeAssistant) -> None:
    """A treadmill without connection has programme, direction, cue and lifetime entities only."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Old mill", data={"kind": "manual", CONF_NAME: "Old mill"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ids = {s.entity_id for s in hass.states.async_all() if s.entity_id.count("old_mill")}
    for missing in (
        "sensor.old_mill_speed",
        "sensor.old_mill_distance",
        "binary_sensor.old_mill_connected",
        "binary_sensor.old_mill_belt_running",
        "number.old_mill_target_speed",
        "number.old_mill_target_incline",
    ):
        assert missing not in ids
    for present in (
        "sensor.old_mill_direction",
        "sensor.old_mill_programme_status",
        "select.old_mill_programme",
        "switch.old_mill_announcements",
        "sensor.old_mill_total_backward_distance",
        "event.old_mill_programme_event",
    ):
        assert present in ids


async def test_unload_during_programme_records_abort(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    player: RecordingPlayer,
) -> None:
    """Unloading while the belt runs slows and pauses it and records the session (rule 11)."""
    coordinator = loaded_simulated.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    await start(hass, loaded_simulated, programme="first_steps")
    await advance(hass, freezer, 30)
    assert hass.states.get(STATUS).state == "running"
    assert simulator.belt_running
    assert await hass.config_entries.async_unload(loaded_simulated.entry_id)
    await hass.async_block_till_done()
    # Slowed to the turn speed, then paused: the belt runs down by itself.
    assert simulator.state == "paused"
    assert simulator.writes[-2:] == [bytes([0x02, 100, 0]), bytes([0x08, 0x02])]
    [session] = await coordinator.store.sessions.async_newest(1)
    assert (session["outcome"], session["reason"]) == ("aborted", "unload")
    # The person is told, before the speakers are released.
    assert player.messages[-1] == (
        "Home Assistant is stopping this programme. The belt slows down and pauses; "
        "hold the handrails."
    )
    assert coordinator.store.record.active_session is None


async def test_restart_records_running_programme_as_aborted(
    hass: HomeAssistant, hass_storage: dict[str, Any], simulated_entry: MockConfigEntry
) -> None:
    """A session cut off by a restart is recorded as aborted and nothing moves (rule 6)."""
    hass_storage[f"{DOMAIN}.{simulated_entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{simulated_entry.entry_id}",
        "data": {
            "totals": {
                "backward_distance_m": 120.0,
                "backward_time_s": 90.0,
                "sessions_completed": 2,
            },
            "sessions": [],
            "active_session": {
                "id": "abc",
                "programme_key": "first_steps",
                "programme_name": "First steps",
                "start": "2026-11-24T06:00:00+00:00",
            },
        },
    }
    simulated_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulated_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = simulated_entry.runtime_data.coordinator
    [session] = await coordinator.store.sessions.async_newest(1)
    assert (session["outcome"], session["reason"]) == ("aborted", "restart")
    assert hass.states.get(STATUS).state == "idle"
    assert not coordinator.treadmill.simulator.belt_running
    assert hass.states.get("sensor.simulated_treadmill_sessions_completed").state == "2"
    assert (
        float(hass.states.get("sensor.simulated_treadmill_total_backward_distance").state) == 0.12
    )


async def test_home_assistant_stop_leaves_safely(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    player: RecordingPlayer,
) -> None:
    """When Home Assistant stops, a running programme is slowed, paused, recorded and said."""
    coordinator = loaded_simulated.runtime_data.coordinator
    await start(hass, loaded_simulated, programme="first_steps")
    await advance(hass, freezer, 30)
    await hass.async_stop()
    [session] = await coordinator.store.sessions.async_newest(1)
    assert session["reason"] == "restart"
    assert coordinator.treadmill.simulator.state == "paused"
    # Said while the speakers still worked: shutdown jobs run before background tasks stop.
    assert player.messages[-1].startswith("Home Assistant is stopping this programme.")


async def test_lifetime_totals_survive_a_reload(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Totals live in their own stored record and come back after a reload."""
    definition = {
        "name": "Tiny",
        "segments": [{"direction": "backward", "duration": 30, "speed": 2.0}],
    }
    await start(hass, loaded_simulated, definition=definition)
    for _ in range(120):
        await advance(hass, freezer, 1)
        if hass.states.get(STATUS).state == "completed":
            break
    assert hass.states.get(STATUS).state == "completed"
    total = hass.states.get("sensor.simulated_treadmill_total_backward_time").state
    assert float(total) > 0
    assert await hass.config_entries.async_reload(loaded_simulated.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.simulated_treadmill_total_backward_time").state == total
    assert hass.states.get("sensor.simulated_treadmill_sessions_completed").state == "1"


async def test_two_treadmills_run_independently(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Two treadmills at once: a programme on one leaves the other idle."""
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Second",
        data={**SIMULATED_DATA, CONF_NAME: "Second"},
        options=dict(loaded_simulated.options),
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()
    await start(hass, second, programme="first_steps")
    await advance(hass, freezer, 15)
    assert hass.states.get("sensor.second_programme_status").state == "running"
    assert hass.states.get(STATUS).state == "idle"
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": second.entry_id}, blocking=True
    )


async def test_remove_entry_deletes_storage(
    hass: HomeAssistant, hass_storage: dict[str, Any], loaded_simulated: MockConfigEntry
) -> None:
    """Removing a treadmill deletes its stored sessions and totals."""
    coordinator = loaded_simulated.runtime_data.coordinator
    await coordinator.store.async_save_now()
    await coordinator.store.sessions.async_append([{"id": "a", "outcome": "completed"}])
    key = f"{DOMAIN}.{loaded_simulated.entry_id}"
    assert {key, f"{key}.sessions"} <= set(hass_storage)
    assert await hass.config_entries.async_remove(loaded_simulated.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert f"{key}.sessions" not in hass_storage


@pytest.mark.parametrize(
    ("version", "minor", "state"),
    [
        (1, 0, ConfigEntryState.LOADED),
        (2, 1, ConfigEntryState.MIGRATION_ERROR),
    ],
)
async def test_migration(
    hass: HomeAssistant, speakers: Any, version: int, minor: int, state: ConfigEntryState
) -> None:
    """Older entries migrate; entries from a newer release are refused."""
    entry = MockConfigEntry(
        domain=DOMAIN, data=SIMULATED_DATA, version=version, minor_version=minor
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is state
    if state is ConfigEntryState.LOADED:
        assert entry.minor_version == CONFIG_MINOR_VERSION


async def test_restart_mid_session_records_the_checkpoint_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    loaded_simulated: MockConfigEntry,
) -> None:
    """A crash mid-session: at the next start the session is recorded, once, as checkpointed.

    The walked distance reaches the lifetime totals exactly once, however often it restarts.
    """
    entry_id = loaded_simulated.entry_id
    key = f"{DOMAIN}.{entry_id}"
    definition = {
        "name": "Back",
        "segments": [{"direction": "backward", "duration": 300, "speed": 2.0}],
    }
    await start(hass, loaded_simulated, definition=definition)
    await advance(hass, freezer, 80)
    assert hass.states.get(STATUS).state == "running"
    # What a crash now leaves on disk (the store writes through its delayed save).
    on_disk = copy.deepcopy(hass_storage[key])
    assert f"{key}.sessions" not in hass_storage  # no session logged yet
    checkpoint = on_disk["data"]["active_session"]
    assert checkpoint["backward_distance_m"] > 20
    assert checkpoint["backward_time_s"] > 40
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    # The crash: nothing of the unload reached the disk.
    hass_storage[key] = on_disk
    del hass_storage[f"{key}.sessions"]
    for _restart in range(2):
        assert await hass.config_entries.async_setup(entry_id)
        await hass.async_block_till_done()
        store = loaded_simulated.runtime_data.coordinator.store
        sessions = await store.sessions.async_newest(10)
        assert [s["id"] for s in sessions] == [checkpoint["id"]]
        session = sessions[0]
        assert (session["outcome"], session["reason"]) == ("aborted", "restart")
        assert session["backward_distance_m"] == checkpoint["backward_distance_m"]
        assert session["end"] == checkpoint["end"]
        assert store.record.totals.backward_distance_m == checkpoint["backward_distance_m"]
        assert store.record.totals.backward_time_s == checkpoint["backward_time_s"]
        assert store.record.active_session is None
        assert await hass.config_entries.async_unload(entry_id)
        await hass.async_block_till_done()


async def test_remove_entry_deletes_its_repair_issues(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Removing a treadmill deletes its repair issues, and only its own."""
    entry_id = loaded_simulated.entry_id
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    simulator.reject_opcode(0x07, ResultCode.CONTROL_NOT_PERMITTED)
    await start(hass, loaded_simulated, programme="first_steps")
    await advance(hass, freezer, 12)
    loaded_simulated.runtime_data.announcer.raise_missing_entity("media_player.gone")
    ir.async_create_issue(
        hass,
        DOMAIN,
        "control_refused_ANOTHERTREADMILL",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="control_refused",
        translation_placeholders={"name": "Other", "reason": "x"},
    )
    ours = {i for (d, i) in issue_registry.issues if d == DOMAIN and entry_id in i}
    assert ours == {f"control_refused_{entry_id}", f"missing_entity_{entry_id}_media_player.gone"}
    assert await hass.config_entries.async_remove(entry_id)
    await hass.async_block_till_done()
    left = {i for (d, i) in issue_registry.issues if d == DOMAIN}
    assert left == {"control_refused_ANOTHERTREADMILL"}


def test_control_refused_says_the_programme_pauses() -> None:
    """The repair text tells what happens: the programme pauses (not advisory mode)."""
    path = Path(__file__).parents[2] / "custom_components/treadreverse/translations/en.json"
    text = json.loads(path.read_text(encoding="utf-8"))["issues"]["control_refused"]
    assert "advisory mode" not in text["description"].split(".")[1]
    assert "paused" in text["description"]


async def test_a_finished_session_reaches_the_disk_at_once(
    hass: HomeAssistant, hass_storage: dict[str, Any], loaded_simulated: MockConfigEntry
) -> None:
    """A session's end is written at once: a crash just after cannot turn it into a cut-off."""
    await start(hass, loaded_simulated, programme="first_steps")
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": loaded_simulated.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    # No time passes: the store's delayed save has not run.
    key = f"{DOMAIN}.{loaded_simulated.entry_id}"
    assert hass_storage[key]["data"]["active_session"] is None
    logged = hass_storage[f"{key}.sessions"]["data"]["sessions"]
    assert [s["outcome"] for s in logged] == ["stopped"]
