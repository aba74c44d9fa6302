"""Bluetooth treadmills, lost links, reconnection and control refused, in Home Assistant."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.treadmill.ftms import ResultCode
from custom_components.treadreverse.treadmill.simulator import SimulatedFtmsPeripheral

from .conftest import advance

ADDRESS = "AA:BB:CC:DD:EE:FF"
FTMS_DATA = {"kind": "ftms", "address": ADDRESS, "name": "Garage treadmill"}


def ftms_entry(**options: Any) -> MockConfigEntry:
    """Return a Bluetooth treadmill entry."""
    return MockConfigEntry(
        domain=DOMAIN, title="Garage treadmill", unique_id=ADDRESS, data=FTMS_DATA, options=options
    )


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_treadmill_not_in_range(hass: HomeAssistant) -> None:
    """A treadmill Home Assistant cannot see makes set-up retry with a reason."""
    entry = ftms_entry()
    with patch(
        "custom_components.treadreverse.treadmills.bluetooth.async_ble_device_from_address",
        return_value=None,
    ):
        await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert ADDRESS in entry.reason


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_treadmill_that_does_not_answer(
    hass: HomeAssistant, peripheral: SimulatedFtmsPeripheral
) -> None:
    """A treadmill in range that refuses the connection makes set-up retry."""
    peripheral.reachable = False
    entry = ftms_entry()
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    # The reason is translated and names the treadmill; the Bluetooth stack's English
    # error stays in the log.
    assert entry.reason is not None
    assert entry.reason.startswith(f"Could not connect to {entry.title}.")
    assert ":" not in entry.reason


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_bluetooth_treadmill_is_advisory_by_default(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, peripheral: SimulatedFtmsPeripheral
) -> None:
    """remote_control is off by default for real treadmills: the belt gets no command."""
    entry = ftms_entry(speakers=[])
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, 2)
    assert hass.states.get("sensor.garage_treadmill_speed").state == "0.0"
    writes = len(peripheral.writes)
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "programme": "first_steps", "wait_for_person": False},
        blocking=True,
    )
    await advance(hass, freezer, 20)
    assert entry.runtime_data.coordinator.engine.advisory
    assert len(peripheral.writes) == writes
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_release_between_programmes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, peripheral: SimulatedFtmsPeripheral
) -> None:
    """keep_connected off releases the treadmill and connects again for a programme."""
    entry = ftms_entry(keep_connected=False, remote_control=True)
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert not peripheral.connected
    assert hass.states.get("button.garage_treadmill_stop").state != STATE_UNAVAILABLE
    assert hass.states.get("number.garage_treadmill_target_speed") is not None
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "programme": "first_steps", "wait_for_person": False},
        blocking=True,
    )
    assert peripheral.connected
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, 1)
    assert not peripheral.connected


async def test_lost_link_pauses_and_nothing_moves_after_reconnect(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lost link pauses the programme; measurements go unavailable, controls stay (rule 6)."""
    coordinator = loaded_simulated.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "programme": "first_steps",
            "wait_for_person": False,
        },
        blocking=True,
    )
    await advance(hass, freezer, 20)
    simulator.drop_link()
    await advance(hass, freezer, 1)
    assert hass.states.get("binary_sensor.simulated_treadmill_connected").state == "off"
    assert hass.states.get("sensor.simulated_treadmill_speed").state == STATE_UNAVAILABLE
    assert hass.states.get("button.simulated_treadmill_stop").state != STATE_UNAVAILABLE
    assert hass.states.get("sensor.simulated_treadmill_programme_status").state == "paused"
    writes = len(simulator.writes)
    await advance(hass, freezer, 70)
    assert hass.states.get("binary_sensor.simulated_treadmill_connected").state == "on"
    assert hass.states.get("sensor.simulated_treadmill_programme_status").state == "paused"
    # Only the control request went to the machine after the reconnect: nothing moved.
    assert simulator.writes[writes:] == [bytes([0x00])]
    assert caplog.text.count("is unavailable") == 1
    assert caplog.text.count("is connected again") == 1
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": loaded_simulated.entry_id}, blocking=True
    )


async def test_refused_control_raises_repair_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A treadmill that refuses control pauses the programme and asks the user to act."""
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    simulator.reject_opcode(0x07, ResultCode.CONTROL_NOT_PERMITTED)
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "programme": "first_steps",
            "wait_for_person": False,
        },
        blocking=True,
    )
    await advance(hass, freezer, 12)
    assert hass.states.get("sensor.simulated_treadmill_programme_status").state == "paused"
    assert (
        issue_registry.async_get_issue(DOMAIN, f"control_refused_{loaded_simulated.entry_id}")
        is not None
    )
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": loaded_simulated.entry_id}, blocking=True
    )


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_diagnostics_redact_the_address(hass: HomeAssistant, hass_client: Any) -> None:
    """A Bluetooth treadmill's address never leaves in diagnostics."""
    entry = ftms_entry()
    await setup(hass, entry)
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert ADDRESS not in str(result)
    assert result["entry"]["data"]["address"] == "**REDACTED**"
    assert result["kind"] == "ftms"
    assert result["capabilities"]["controllable"] is True


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_completed_programme_stops_before_the_release(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, peripheral: SimulatedFtmsPeripheral
) -> None:
    """keep_connected off: a completed programme's stop is confirmed before the link goes.

    Finding 1: the release disconnected first, the queued stop was never written and
    the belt ran on at 3 km/h while the session said "completed".
    """
    entry = ftms_entry(keep_connected=False, remote_control=True)
    await setup(hass, entry)
    # A speaker that works (rule 9): without one the belt is never started by us.
    entry.runtime_data.coordinator.speaker_check = lambda: True
    definition = {
        "name": "Short",
        "segments": [{"direction": "forward", "duration": 20, "speed": 3.0}],
    }
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "definition": definition, "wait_for_person": False},
        blocking=True,
    )
    for _ in range(40):
        await advance(hass, freezer, 1)
    assert hass.states.get("sensor.garage_treadmill_programme_status").state == "completed"
    assert b"\x08\x01" in peripheral.writes  # STOP reached the treadmill
    assert not peripheral.belt_running
    assert not peripheral.connected  # and only then was the link released


@pytest.mark.usefixtures("bluetooth_treadmill")
async def test_bus_events_name_the_bluetooth_treadmills_device(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry
) -> None:
    """A Bluetooth treadmill's device is identified by its address: its events still name it."""
    entry = ftms_entry(speakers=[])
    await setup(hass, entry)
    events = async_capture_events(hass, "treadreverse_event")
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "programme": "first_steps"},
        blocking=True,
    )
    device = dr.async_entries_for_config_entry(device_registry, entry.entry_id)[0]
    assert events
    assert {event.data["device_id"] for event in events} == {device.id}
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )
