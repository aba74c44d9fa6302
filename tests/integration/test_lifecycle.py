"""The runtime's lifecycle: release and start, unload during a start, set-up that fails."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.treadmill.simulator import SimulatedFtmsPeripheral

from .conftest import advance

ADDRESS = "AA:BB:CC:DD:EE:01"
STATUS = "sensor.garage_treadmill_programme_status"
SHORT = {"name": "Short", "segments": [{"direction": "forward", "duration": 20, "speed": 3.0}]}


def ftms_entry(**options: Any) -> MockConfigEntry:
    """Return a Bluetooth treadmill entry."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Garage treadmill",
        unique_id=ADDRESS,
        data={"kind": "ftms", "address": ADDRESS, "name": "Garage treadmill"},
        options=options,
    )


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def call(
    hass: HomeAssistant,
    action: str,
    entry: MockConfigEntry,
    context: Context | None = None,
    **data: Any,
) -> None:
    """Call one of the treadmill's actions and wait for it."""
    await hass.services.async_call(
        DOMAIN, action, {"config_entry_id": entry.entry_id, **data}, blocking=True, context=context
    )


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_start_right_after_a_release_keeps_its_link(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    peripheral: SimulatedFtmsPeripheral,
    hass_admin_user: MockUser,
) -> None:
    """keep_connected off: a start pressed while the last session's release runs keeps the link.

    The release was not awaited: the start found the old link still up, and the release
    then took it away under the new programme.
    """
    # The machine replays its last status ("stopped") on the new link: old news, not a
    # console stop ending the new programme.
    assert peripheral.config.replay_status
    entry = ftms_entry(keep_connected=False, remote_control=True)
    await setup(hass, entry)
    entry.runtime_data.coordinator.speaker_check = lambda: True
    person = Context(user_id=hass_admin_user.id)
    await call(hass, "start_programme", entry, person, definition=SHORT)
    await call(hass, "stop", entry, person)
    await call(hass, "start_programme", entry, person, definition=SHORT)
    await advance(hass, freezer, 15)
    assert peripheral.connected
    assert hass.states.get(STATUS).state == "running"
    assert peripheral.belt_running
    await call(hass, "stop", entry)


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_a_link_wanted_in_the_pass_a_programme_completes_is_kept(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    peripheral: SimulatedFtmsPeripheral,
    hass_admin_user: MockUser,
) -> None:
    """keep_connected off: a start's link asked for in the pass a programme completes stays.

    The session's end, which begins the release, is told to the coordinator a pass later
    (after the belt commands due then). A start connecting in that pass found the old link
    up and no release yet; the release then took the link from under it (found by review).
    """
    entry = ftms_entry(keep_connected=False, remote_control=True)
    await setup(hass, entry)
    coordinator = entry.runtime_data.coordinator
    coordinator.speaker_check = lambda: True
    engine = coordinator.engine
    connecting: list[asyncio.Task[None]] = []
    complete = engine._complete

    def complete_then_connect() -> None:
        complete()
        # A start's first step, handled in the same loop pass as the completion timer.
        coro = coordinator._async_ensure_connected()
        connecting.append(asyncio.get_running_loop().create_task(coro, eager_start=True))

    engine._complete = complete_then_connect  # type: ignore[method-assign]
    person = Context(user_id=hass_admin_user.id)
    await call(hass, "start_programme", entry, person, definition=SHORT)
    await advance(hass, freezer, 31)  # countdown 10 + 20 s: it completes
    engine._complete = complete  # type: ignore[method-assign]
    assert connecting
    assert connecting[0].done()
    assert connecting[0].exception() is None
    await advance(hass, freezer, 15)
    # The release came first, then the start's own link: it is up and wanted.
    assert peripheral.connected
    assert coordinator.treadmill.connected


async def test_unload_while_a_start_is_prepared_leaves_nothing_running(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """An unload while the start's cues are generated ends the start: no engine runs on."""
    coordinator = loaded_simulated.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    release = asyncio.Event()

    async def slow_prepare(*_args: Any, **_kwargs: Any) -> None:
        await release.wait()

    data = {
        "config_entry_id": loaded_simulated.entry_id,
        "programme": "first_steps",
        "wait_for_person": False,
    }
    with patch("custom_components.treadreverse.announcer.Announcer.async_prepare", slow_prepare):
        starting = hass.async_create_task(
            hass.services.async_call(DOMAIN, "start_programme", data, blocking=True)
        )
        await asyncio.sleep(0)
        unloading = hass.async_create_task(
            hass.config_entries.async_unload(loaded_simulated.entry_id)
        )
        await asyncio.sleep(0)
        release.set()
        with pytest.raises(HomeAssistantError) as err:
            await starting
        assert await unloading
    assert err.value.translation_key == "entry_unloaded"
    assert coordinator.engine.status == "idle"
    await advance(hass, freezer, 20)
    assert coordinator.engine.status == "idle"
    assert bytes([0x07]) not in simulator.writes


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_failed_set_up_leaves_no_link(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, peripheral: SimulatedFtmsPeripheral
) -> None:
    """A set-up that fails after the link opened closes it: the retry needs the connection."""
    entry = ftms_entry()
    with patch(
        "custom_components.treadreverse.async_create_announcer",
        side_effect=ConfigEntryNotReady("speech is not ready"),
    ):
        await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not peripheral.connected
    attempts = peripheral.connect_attempts
    await advance(hass, freezer, 70)  # the old client's reconnection loop would be back
    assert peripheral.connect_attempts - attempts <= 1  # only the entry's own retry


def records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    """Return the integration's log records that contain `text`."""
    return [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.treadreverse") and text in r.getMessage()
    ]


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_a_release_is_not_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    peripheral: SimulatedFtmsPeripheral,
    hass_admin_user: MockUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """keep_connected off: the releases at start-up and after a session log no outage."""
    caplog.set_level(logging.DEBUG)
    entry = ftms_entry(keep_connected=False, remote_control=True)
    await setup(hass, entry)
    entry.runtime_data.coordinator.speaker_check = lambda: True
    await call(
        hass, "start_programme", entry, Context(user_id=hass_admin_user.id), definition=SHORT
    )
    for _ in range(40):
        await advance(hass, freezer, 1)
    assert hass.states.get(STATUS).state == "completed"
    assert not peripheral.connected
    assert records(caplog, "is unavailable") == []
    assert not [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.treadreverse") and r.levelno >= logging.WARNING
    ]


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_a_lost_link_logs_once_at_info(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    peripheral: SimulatedFtmsPeripheral,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A loss is logged once at info, and the reconnection once (log-when-unavailable)."""
    caplog.set_level(logging.DEBUG)
    entry = ftms_entry()
    await setup(hass, entry)
    assert peripheral.connected
    peripheral.drop_link()
    await advance(hass, freezer, 1)
    peripheral.reachable = False
    await advance(hass, freezer, 40)  # failed attempts are no new outage
    peripheral.reachable = True
    await advance(hass, freezer, 70)
    assert peripheral.connected
    lost = records(caplog, "is unavailable")
    back = records(caplog, "is connected again")
    assert [r.levelno for r in lost] == [logging.INFO]
    assert [r.levelno for r in back] == [logging.INFO]


async def test_update_entity_is_a_harmless_refresh(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """homeassistant.update_entity refreshes from the current state: no traceback."""
    assert await async_setup_component(hass, "homeassistant", {})
    entities = ["sensor.simulated_treadmill_programme_status", "button.simulated_treadmill_stop"]
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": entities}, blocking=True
    )
    await hass.async_block_till_done()
    assert "NotImplementedError" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert hass.states.get("sensor.simulated_treadmill_programme_status").state == "idle"
    assert loaded_simulated.runtime_data.coordinator.last_update_success
