"""A Bluetooth treadmill that is off when Home Assistant starts: set up without the link."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.clock import HomeAssistantClock
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.treadmill.simulator import SimulatedFtmsPeripheral

from .bluetooth import inject_advertisement, service_info
from .conftest import advance

ADDRESS = "AA:BB:CC:DD:EE:02"
NAME = "Garage treadmill"


class Switchable:
    """A treadmill double that can be switched off: not seen by Bluetooth, not reachable."""

    def __init__(self, peripheral: SimulatedFtmsPeripheral) -> None:
        """Start switched on."""
        self.peripheral = peripheral
        self.on = True

    def switch(self, on: bool) -> None:
        """Switch the treadmill on or off."""
        self.on = on
        self.peripheral.reachable = on

    def ble_device(self, *_args: Any, **_kwargs: Any) -> object | None:
        """Return a device while the treadmill is on, as Home Assistant's Bluetooth does."""
        return object() if self.on else None


@pytest.fixture
async def treadmill(hass: HomeAssistant) -> AsyncGenerator[Switchable]:
    """Return a simulated Bluetooth treadmill that can be switched off."""
    machine = SimulatedFtmsPeripheral(HomeAssistantClock(hass))
    yield Switchable(machine)
    machine.close()


@pytest.fixture
def reach(treadmill: Switchable) -> Generator[None]:
    """Let the integration reach the switchable treadmill instead of real Bluetooth."""
    with (
        patch(
            "custom_components.treadreverse.treadmills.bluetooth.async_ble_device_from_address",
            side_effect=treadmill.ble_device,
        ),
        patch(
            "custom_components.treadreverse.treadmills.bleak_connector",
            return_value=treadmill.peripheral.connect,
        ),
    ):
        yield


def ftms_entry(**options: Any) -> MockConfigEntry:
    """Return a Bluetooth treadmill entry."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=NAME,
        unique_id=ADDRESS,
        data={"kind": "ftms", "address": ADDRESS, "name": NAME},
        options=options,
    )


async def restart_with_the_treadmill_off(
    hass: HomeAssistant, entry: MockConfigEntry, treadmill: Switchable
) -> None:
    """Set up once with the treadmill on, then again (a restart) with it switched off."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    treadmill.switch(on=False)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("reach", "enable_bluetooth")
async def test_treadmill_off_at_start_up_sets_up_without_the_link(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, treadmill: Switchable
) -> None:
    """Controls, programme, lifetime totals and sessions are there; it connects when on."""
    entry = ftms_entry(remote_control=True)
    await restart_with_the_treadmill_off(hass, entry, treadmill)
    assert entry.state is ConfigEntryState.LOADED
    for available in (
        "button.garage_treadmill_stop",
        "button.garage_treadmill_start",
        "select.garage_treadmill_programme",
        "sensor.garage_treadmill_total_backward_distance",
        "sensor.garage_treadmill_sessions_completed",
        "switch.garage_treadmill_backward_intervals",
    ):
        assert hass.states.get(available).state != STATE_UNAVAILABLE, available
    # The machine's ranges are remembered from its last connection.
    speed = hass.states.get("number.garage_treadmill_target_speed")
    assert (speed.attributes["min"], speed.attributes["max"]) == (0.5, 12.0)
    assert hass.states.get("sensor.garage_treadmill_speed").state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.garage_treadmill_connected").state == "off"
    sessions = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert sessions is not None
    # Switched on: its advertisement brings the link up, without waiting for a retry.
    treadmill.switch(on=True)
    inject_advertisement(hass, service_info(ADDRESS, NAME))
    await advance(hass, freezer, 1)
    assert treadmill.peripheral.connected
    assert hass.states.get("binary_sensor.garage_treadmill_connected").state == "on"
    assert hass.states.get("sensor.garage_treadmill_speed").state != STATE_UNAVAILABLE


@pytest.mark.usefixtures("reach", "enable_bluetooth")
async def test_released_treadmill_off_at_start_up_connects_for_a_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, treadmill: Switchable
) -> None:
    """keep_connected off: set up without the link; advertisements do not connect, a start does."""
    entry = ftms_entry(remote_control=True, keep_connected=False)
    await restart_with_the_treadmill_off(hass, entry, treadmill)
    assert entry.state is ConfigEntryState.LOADED
    treadmill.switch(on=True)
    attempts = treadmill.peripheral.connect_attempts
    inject_advertisement(hass, service_info(ADDRESS, NAME))
    await advance(hass, freezer, 1)
    assert treadmill.peripheral.connect_attempts == attempts  # released on purpose
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": entry.entry_id, "programme": "first_steps", "wait_for_person": False},
        blocking=True,
    )
    assert treadmill.peripheral.connected
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, 1)


@pytest.mark.usefixtures("reach")
async def test_never_connected_treadmill_still_retries(
    hass: HomeAssistant, treadmill: Switchable
) -> None:
    """Without remembered capabilities the entry cannot know its entities: it retries."""
    treadmill.switch(on=False)
    entry = ftms_entry()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.usefixtures("reach", "enable_bluetooth")
async def test_a_start_that_cannot_connect_leaves_the_treadmill_released(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, treadmill: Switchable
) -> None:
    """keep_connected off: a start while the treadmill is off fails; nothing connects later."""
    entry = ftms_entry(remote_control=True, keep_connected=False)
    await restart_with_the_treadmill_off(hass, entry, treadmill)
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            "start_programme",
            {"config_entry_id": entry.entry_id, "programme": "first_steps"},
            blocking=True,
        )
    treadmill.switch(on=True)
    attempts = treadmill.peripheral.connect_attempts
    inject_advertisement(hass, service_info(ADDRESS, NAME))
    await advance(hass, freezer, 1)
    assert treadmill.peripheral.connect_attempts == attempts
    assert hass.states.get("sensor.garage_treadmill_programme_status").state == "idle"
