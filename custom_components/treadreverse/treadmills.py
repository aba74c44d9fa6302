"""Build the treadmill of a config entry, by kind, and prove it can be reached."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .clock import HomeAssistantClock
from .const import (
    CONF_KIND,
    CONF_MAX_INCLINE,
    CONF_MAX_SPEED,
    CONF_MIN_SPEED,
    DOMAIN,
    Kind,
)
from .coordinator import TreadReverseConfigEntry
from .options import entry_options
from .programme.interlock import close_unused_link
from .treadmill.base import Range, Treadmill, TreadmillConnectionError
from .treadmill.client import FtmsTreadmill, bleak_connector
from .treadmill.manual import ManualTreadmill
from .treadmill.simulator import SimulatorConfig, create_simulated_treadmill


def ftms_treadmill(
    hass: HomeAssistant, address: str, name: str, *, keep_connected: bool = True
) -> FtmsTreadmill:
    """Return an FTMS client that always connects to the freshest BLEDevice of `address`."""
    return FtmsTreadmill(
        HomeAssistantClock(hass),
        bleak_connector(
            lambda: bluetooth.async_ble_device_from_address(hass, address, connectable=True),
            name,
        ),
        name,
        keep_connected=keep_connected,
    )


def simulated_treadmill(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> Treadmill:
    """Return a simulated treadmill with the entry's ranges."""
    data = entry.data
    config = SimulatorConfig(
        speed_range=Range(float(data[CONF_MIN_SPEED]), float(data[CONF_MAX_SPEED]), 0.1),
        incline_range=Range(0.0, float(data[CONF_MAX_INCLINE]), 0.5),
    )
    treadmill = create_simulated_treadmill(HomeAssistantClock(hass), config, name=entry.title)
    # The simulated machine itself (its belt physics and timers) goes away with the entry.
    entry.async_on_unload(treadmill.simulator.close)
    return treadmill


async def async_create_treadmill(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> Treadmill:
    """Build and connect the entry's treadmill; ConfigEntryNotReady when it is not reachable."""
    kind = Kind(entry.data[CONF_KIND])
    if kind is Kind.MANUAL:
        return ManualTreadmill()
    if kind is Kind.SIMULATED:
        treadmill = simulated_treadmill(hass, entry)
        await treadmill.connect()
        return treadmill
    return await _async_connect_ftms(hass, entry)


async def _async_connect_ftms(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> Treadmill:
    """Connect a Bluetooth treadmill once, to learn what it can do."""
    address = entry.data[CONF_ADDRESS]
    if bluetooth.async_ble_device_from_address(hass, address, connectable=True) is None:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"address": address},
        )
    keep = bool(entry_options(entry)["keep_connected"])
    treadmill = ftms_treadmill(hass, address, entry.title, keep_connected=keep)
    try:
        await treadmill.connect()
    except TreadmillConnectionError as err:
        await close_unused_link(treadmill)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    if not keep:
        # Capabilities stay known; the link is opened again when a programme starts.
        await close_unused_link(treadmill)
    return treadmill
