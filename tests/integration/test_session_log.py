"""The session log: its own file, read when asked, and each session counted exactly once."""

from __future__ import annotations

import copy
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN, MAX_STORED_SESSIONS

from .conftest import advance

STATUS = "sensor.simulated_treadmill_programme_status"
COMPLETED = "sensor.simulated_treadmill_sessions_completed"
TOTAL_TIME = "sensor.simulated_treadmill_total_backward_time"
TINY = {
    "name": "Tiny",
    "segments": [{"direction": "backward", "duration": 30, "speed": 2.0}],
}
LONG = {
    "name": "Long",
    "segments": [{"direction": "backward", "duration": 300, "speed": 2.0}],
}


def keys(entry: MockConfigEntry) -> tuple[str, str]:
    """Return the storage keys of the main record and of the session log."""
    return f"{DOMAIN}.{entry.entry_id}", f"{DOMAIN}.{entry.entry_id}.sessions"


def stored(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return a storage file as the storage helper writes it."""
    return {"version": 1, "minor_version": 1, "key": key, "data": data}


def logged(hass_storage: dict[str, Any], entry: MockConfigEntry) -> list[str]:
    """Return the ids in the session log on disk, oldest first."""
    return [s["id"] for s in hass_storage[keys(entry)[1]]["data"]["sessions"]]


def finished(session_id: str, backward_m: float = 10.0, outcome: str = "completed") -> dict:
    """Return a finished session in its stored form."""
    return {
        "id": session_id,
        "start": "2026-11-20T06:00:00+00:00",
        "end": "2026-11-20T06:10:00+00:00",
        "programme_key": None,
        "programme_name": "Old",
        "segments": [],
        "backward_distance_m": backward_m,
        "backward_time_s": backward_m * 2,
        "outcome": outcome,
    }


async def start(hass: HomeAssistant, entry: MockConfigEntry, definition: dict) -> None:
    """Start a programme without waiting for the person."""
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "wait_for_person": False, "definition": definition},
        blocking=True,
    )


async def stop(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Stop the programme."""
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()


async def complete(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Walk until the running programme completes."""
    for _ in range(120):
        await advance(hass, freezer, 1)
        if hass.states.get(STATUS).state == "completed":
            return
    pytest.fail("the programme did not complete")


async def get_sessions(hass: HomeAssistant, entry: MockConfigEntry, limit: int = 500) -> list:
    """Return the stored sessions through the get_sessions action, newest first."""
    response = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"config_entry_id": entry.entry_id, "limit": limit},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return list(response["sessions"])


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up (again)."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_the_log_holds_sessions_across_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    loaded_simulated: MockConfigEntry,
) -> None:
    """A finished session is in its own file, not in the main record, and comes back."""
    main, log = keys(loaded_simulated)
    await start(hass, loaded_simulated, TINY)
    await complete(hass, freezer)
    [session] = await get_sessions(hass, loaded_simulated)
    assert session["outcome"] == "completed"
    assert hass_storage[log]["data"]["sessions"] == [session]
    assert "sessions" not in hass_storage[main]["data"]
    await unload(hass, loaded_simulated)
    await setup(hass, loaded_simulated)
    assert await get_sessions(hass, loaded_simulated) == [session]
    assert hass.states.get(COMPLETED).state == "1"


async def test_the_log_keeps_the_newest_sessions(
    hass: HomeAssistant, hass_storage: dict[str, Any], simulated_entry: MockConfigEntry
) -> None:
    """With MAX_STORED_SESSIONS logged, a new session drops the oldest."""
    _, log = keys(simulated_entry)
    sessions = [finished(str(number)) for number in range(MAX_STORED_SESSIONS)]
    hass_storage[log] = stored(log, {"sessions": sessions})
    simulated_entry.add_to_hass(hass)
    await setup(hass, simulated_entry)
    await start(hass, simulated_entry, TINY)
    await stop(hass, simulated_entry)
    ids = logged(hass_storage, simulated_entry)
    assert len(ids) == MAX_STORED_SESSIONS
    assert ids[:2] == ["1", "2"]
    newest = await get_sessions(hass, simulated_entry, 3)
    assert [s["id"] for s in newest[1:]] == ["499", "498"]
    assert (newest[0]["id"], newest[0]["outcome"]) == (ids[-1], "stopped")
    diagnostics = simulated_entry.runtime_data.coordinator.store.sessions
    assert await diagnostics.async_count() == MAX_STORED_SESSIONS


async def test_a_checkpoint_already_logged_is_counted_once(
    hass: HomeAssistant, hass_storage: dict[str, Any], simulated_entry: MockConfigEntry
) -> None:
    """A crash after the log write: the session is not logged again, its walk counted once."""
    main, log = keys(simulated_entry)
    session = finished("abc", backward_m=30.0)
    hass_storage[main] = stored(
        main,
        {
            "totals": {
                "backward_distance_m": 120.0,
                "backward_time_s": 90.0,
                "sessions_completed": 2,
            },
            "active_session": session,
            "capabilities": None,
        },
    )
    hass_storage[log] = stored(log, {"sessions": [finished("old"), session]})
    simulated_entry.add_to_hass(hass)
    for _restart in range(2):
        await setup(hass, simulated_entry)
        assert logged(hass_storage, simulated_entry) == ["old", "abc"]
        assert hass_storage[main]["data"]["active_session"] is None
        assert hass_storage[main]["data"]["totals"] == {
            "backward_distance_m": 150.0,
            "backward_time_s": 150.0,
            "sessions_completed": 3,
        }
        assert hass.states.get(COMPLETED).state == "3"
        await unload(hass, simulated_entry)


async def test_a_crash_between_the_log_and_the_totals_counts_the_session_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    loaded_simulated: MockConfigEntry,
) -> None:
    """The disk as a crash just after a session's log write leaves it: counted once at start."""
    main, log = keys(loaded_simulated)
    sessions = loaded_simulated.runtime_data.coordinator.store.sessions
    original = sessions.async_append
    crash: dict[str, Any] = {}

    async def append_then_crash(new: Any) -> None:
        await original(new)
        crash.update(copy.deepcopy({main: hass_storage[main], log: hass_storage[log]}))

    monkeypatch.setattr(sessions, "async_append", append_then_crash)
    await start(hass, loaded_simulated, TINY)
    await complete(hass, freezer)
    total = hass.states.get(TOTAL_TIME).state
    assert float(total) > 0
    [session] = crash[log]["data"]["sessions"]
    # The main file still names the session as running, with the totals without it.
    assert crash[main]["data"]["active_session"] == session
    assert crash[main]["data"]["totals"]["backward_time_s"] == 0
    await unload(hass, loaded_simulated)
    for _restart in range(2):
        hass_storage.update(copy.deepcopy(crash))
        await setup(hass, loaded_simulated)
        assert logged(hass_storage, loaded_simulated) == [session["id"]]
        assert hass.states.get(TOTAL_TIME).state == total
        assert hass.states.get(COMPLETED).state == "1"
        assert hass_storage[main]["data"]["active_session"] is None
        await unload(hass, loaded_simulated)


@pytest.mark.parametrize("already_logged", [0, 2, 3])
async def test_sessions_of_the_main_record_move_to_the_log(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulated_entry: MockConfigEntry,
    already_logged: int,
) -> None:
    """A record of the last release keeps its sessions in the main file: they move, once.

    `already_logged`: a crash during an earlier migration, after (part of) the log write.
    """
    main, log = keys(simulated_entry)
    sessions = [finished("a"), finished("b", outcome="stopped"), finished("c")]
    totals = {"backward_distance_m": 30.0, "backward_time_s": 60.0, "sessions_completed": 2}
    hass_storage[main] = stored(
        main, {"totals": totals, "sessions": sessions, "active_session": None}
    )
    if already_logged:
        hass_storage[log] = stored(log, {"sessions": sessions[:already_logged]})
    simulated_entry.add_to_hass(hass)
    for _restart in range(2):
        await setup(hass, simulated_entry)
        assert hass_storage[log]["data"]["sessions"] == sessions
        assert "sessions" not in hass_storage[main]["data"]
        assert hass_storage[main]["data"]["totals"] == totals
        assert [s["id"] for s in await get_sessions(hass, simulated_entry)] == ["c", "b", "a"]
        await unload(hass, simulated_entry)


async def test_a_checkpoint_does_not_write_the_sessions(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    simulated_entry: MockConfigEntry,
) -> None:
    """A running programme's checkpoints write the main record alone, not the session log."""
    main, log = keys(simulated_entry)
    old = [finished(str(number)) for number in range(20)]
    hass_storage[log] = stored(log, {"sessions": old})
    simulated_entry.add_to_hass(hass)
    await setup(hass, simulated_entry)
    await start(hass, simulated_entry, LONG)
    await advance(hass, freezer, 70)
    data = hass_storage[main]["data"]
    assert data["active_session"]["backward_distance_m"] > 20
    assert set(data) == {"totals", "active_session", "capabilities"}
    assert hass_storage[log]["data"]["sessions"] == old
    await stop(hass, simulated_entry)


async def test_an_unload_writes_the_session_before_the_totals(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    loaded_simulated: MockConfigEntry,
) -> None:
    """An unload mid-programme leaves the session in the log and in the totals on disk."""
    main, _ = keys(loaded_simulated)
    await start(hass, loaded_simulated, LONG)
    await advance(hass, freezer, 40)
    assert await hass.config_entries.async_unload(loaded_simulated.entry_id)
    # As the unload returns, before anything else runs.
    data = hass_storage[main]["data"]
    assert data["active_session"] is None
    assert len(logged(hass_storage, loaded_simulated)) == 1
    session = hass_storage[keys(loaded_simulated)[1]]["data"]["sessions"][0]
    assert session["reason"] == "unload"
    assert data["totals"]["backward_distance_m"] == session["backward_distance_m"] > 0
