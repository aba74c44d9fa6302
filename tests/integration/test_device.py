"""The treadmill's device: the machine's own information, and Bluetooth devices by address."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from dataclasses import asdict, replace
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import CONNECTION_BLUETOOTH
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.clock import HomeAssistantClock
from custom_components.treadreverse.const import (
    CONF_DEVICE_INFORMATION,
    CONFIG_MINOR_VERSION,
    DOMAIN,
)
from custom_components.treadreverse.treadmill.ftms import DeviceInformation
from custom_components.treadreverse.treadmill.simulator import (
    DEVICE_INFORMATION,
    SimulatedFtmsPeripheral,
    SimulatorConfig,
)

from .bluetooth import inject_advertisement, service_info
from .conftest import advance

ADDRESS = "AA:BB:CC:DD:EE:0A"
NAME = "Garage treadmill"
KINGSMITH = DeviceInformation(
    manufacturer="Kingsmith", model="KS-R1", serial_number="KS2024R1000042", firmware="2.1"
)


@pytest.fixture
async def peripheral(hass: HomeAssistant) -> AsyncGenerator[SimulatedFtmsPeripheral]:
    """Return a Bluetooth treadmill that names itself like a real one."""
    machine = SimulatedFtmsPeripheral(
        HomeAssistantClock(hass), SimulatorConfig(device_information=KINGSMITH)
    )
    yield machine
    machine.close()


@pytest.fixture
def reach(peripheral: SimulatedFtmsPeripheral) -> Generator[None]:
    """Let the integration reach the peripheral while it is reachable, as Bluetooth would."""
    with (
        patch(
            "custom_components.treadreverse.treadmills.bluetooth.async_ble_device_from_address",
            side_effect=lambda *_args, **_kwargs: object() if peripheral.reachable else None,
        ),
        patch(
            "custom_components.treadreverse.treadmills.bleak_connector",
            return_value=peripheral.connect,
        ),
    ):
        yield


def ftms_entry(**kwargs: Any) -> MockConfigEntry:
    """Return a Bluetooth treadmill entry."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=NAME,
        unique_id=ADDRESS,
        data={"kind": "ftms", "address": ADDRESS, CONF_NAME: NAME},
        **kwargs,
    )


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry that was added."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def the_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """Return the entry's only device."""
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return device


def shown(device: dr.DeviceEntry) -> DeviceInformation:
    """Return what the device page shows of the machine."""
    return DeviceInformation(
        manufacturer=device.manufacturer,
        model=device.model,
        serial_number=device.serial_number,
        firmware=device.sw_version,
    )


async def test_simulated_treadmill_names_itself(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """The device shows what the machine's Device Information Service says, stored too."""
    device = the_device(hass, loaded_simulated)
    assert shown(device) == DEVICE_INFORMATION
    assert device.model == "Simulated FTMS treadmill"
    assert device.identifiers == {(DOMAIN, loaded_simulated.entry_id)}
    assert loaded_simulated.data[CONF_DEVICE_INFORMATION] == asdict(DEVICE_INFORMATION)


async def test_manual_treadmill_claims_no_maker(hass: HomeAssistant) -> None:
    """Nothing is known of a treadmill without connection: no made-up maker or model."""
    entry = MockConfigEntry(domain=DOMAIN, title="Old mill", data={"kind": "manual", "name": "x"})
    entry.add_to_hass(hass)
    await setup(hass, entry)
    assert shown(the_device(hass, entry)) == DeviceInformation()


@pytest.mark.usefixtures("reach")
async def test_bluetooth_device_is_moved_to_its_address_in_place(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, device_registry: dr.DeviceRegistry
) -> None:
    """A device made by 1.1 keeps its id (automations use it) and is identified by address."""
    entry = ftms_entry(version=1, minor_version=1)
    entry.add_to_hass(hass)
    old = device_registry.async_get_or_create(  # as release 1.1 made it
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        connections={(CONNECTION_BLUETOOTH, ADDRESS)},
        name=NAME,
        manufacturer="TreadReverse",
        model="Bluetooth FTMS treadmill",
    )
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == CONFIG_MINOR_VERSION == 2
    device = the_device(hass, entry)
    assert device.id == old.id
    assert device.identifiers == {(DOMAIN, ADDRESS)}
    assert device.connections == {(CONNECTION_BLUETOOTH, ADDRESS)}
    assert shown(device) == KINGSMITH
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert entities
    assert {entity.device_id for entity in entities} == {old.id}


@pytest.mark.usefixtures("reach", "enable_bluetooth")
async def test_stored_information_shown_without_the_link_and_renewed_at_connection(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, peripheral: SimulatedFtmsPeripheral
) -> None:
    """Set up with the treadmill off, the device shows what it said last; then what it says."""
    entry = ftms_entry()
    entry.add_to_hass(hass)
    await setup(hass, entry)
    assert entry.data[CONF_DEVICE_INFORMATION] == asdict(KINGSMITH)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    # Off while Home Assistant restarts; its firmware was updated meanwhile.
    peripheral.reachable = False
    updated = replace(KINGSMITH, firmware="2.2")
    peripheral.config = replace(peripheral.config, device_information=updated)
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert not peripheral.connected
    assert shown(the_device(hass, entry)) == KINGSMITH

    peripheral.reachable = True
    inject_advertisement(hass, service_info(ADDRESS, NAME))
    await advance(hass, freezer, 1)
    assert peripheral.connected
    assert shown(the_device(hass, entry)) == updated
    assert entry.data[CONF_DEVICE_INFORMATION] == asdict(updated)


async def test_no_deprecated_device_registry_calls(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Set-up and bus events look the device up without a call Home Assistant deprecates.

    device_registry.async_get_device stops working in 2027.8 (found by scripts/soak).
    """
    coordinator = loaded_simulated.runtime_data.coordinator
    assert coordinator.device_id is not None
    logged = [r.getMessage() for r in caplog.get_records("setup")] + [
        r.getMessage() for r in caplog.records
    ]
    assert not [line for line in logged if "device_registry.async_get_device" in line]
