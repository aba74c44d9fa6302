"""The treadmill's device: how it is identified, and what the machine says about itself."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
import weakref

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import CONNECTION_BLUETOOTH, DeviceInfo

from .const import CONF_DEVICE_INFORMATION, DOMAIN
from .treadmill.base import MachineEvent, MachineEventType, Treadmill
from .treadmill.ftms import DeviceInformation

# Treadmills whose connections are watched already (one watcher per treadmill object).
_WATCHED: weakref.WeakSet[Treadmill] = weakref.WeakSet()


def device_identifier(entry: ConfigEntry[Any]) -> tuple[str, str]:
    """Return the device's identifier: a Bluetooth treadmill's address, else the entry's id."""
    return (DOMAIN, entry.data.get(CONF_ADDRESS) or entry.entry_id)


def stored_information(entry: ConfigEntry[Any]) -> DeviceInformation:
    """Return what the treadmill said about itself at its last connection (nothing if never)."""
    return DeviceInformation(**entry.data.get(CONF_DEVICE_INFORMATION, {}))


def current_information(entry: ConfigEntry[Any], treadmill: Treadmill) -> DeviceInformation:
    """Return what the treadmill said at this connection, or else what was stored."""
    information = getattr(treadmill, "device_information", None)
    if isinstance(information, DeviceInformation):
        return information
    return stored_information(entry)


def device_info(entry: ConfigEntry[Any], information: DeviceInformation) -> DeviceInfo:
    """Return the device of a treadmill: the machine's own name, model, serial and firmware."""
    address = entry.data.get(CONF_ADDRESS)
    return DeviceInfo(
        identifiers={device_identifier(entry)},
        connections={(CONNECTION_BLUETOOTH, address)} if address else set(),
        name=entry.title,
        manufacturer=information.manufacturer,
        model=information.model,
        serial_number=information.serial_number,
        sw_version=information.firmware,
    )


@callback
def async_watch_device_information(
    hass: HomeAssistant, entry: ConfigEntry[Any], treadmill: Treadmill
) -> None:
    """Keep the stored information and the device up to date at every connection."""
    if treadmill in _WATCHED:
        return
    _WATCHED.add(treadmill)

    @callback
    def on_event(event: MachineEvent) -> None:
        if event.type is MachineEventType.CONNECTED:
            async_remember_device_information(hass, entry, treadmill)

    unsubscribe = treadmill.subscribe(on_event=on_event)

    @callback
    def stop_watching() -> None:
        unsubscribe()
        _WATCHED.discard(treadmill)

    entry.async_on_unload(stop_watching)
    async_remember_device_information(hass, entry, treadmill)


@callback
def async_remember_device_information(
    hass: HomeAssistant, entry: ConfigEntry[Any], treadmill: Treadmill
) -> None:
    """Store what the treadmill said about itself, so a set-up without the link shows it too."""
    information = getattr(treadmill, "device_information", None)
    if not isinstance(information, DeviceInformation):
        return  # not connected yet since set-up, or a kind without the service
    if information == stored_information(entry):
        return
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_DEVICE_INFORMATION: asdict(information)}
    )
    registry = dr.async_get(hass)
    if device := registry.async_get_device_by_identifier(device_identifier(entry), entry.entry_id):
        registry.async_update_device(
            device.id,
            manufacturer=information.manufacturer,
            model=information.model,
            serial_number=information.serial_number,
            sw_version=information.firmware,
        )


@callback
def async_identify_by_address(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Move a Bluetooth treadmill's device from the entry id to the address, in place.

    The device keeps its id, which users' automations and dashboards refer to.
    """
    if not entry.data.get(CONF_ADDRESS):
        return
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier((DOMAIN, entry.entry_id), entry.entry_id)
    if device is not None:
        registry.async_update_device(device.id, new_identifiers={device_identifier(entry)})
