"""Bluetooth advertisements and connectors for tests against a real Home Assistant core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bluetooth_data_tools import monotonic_time_coarse
from homeassistant.components.bluetooth import (
    BluetoothServiceInfoBleak,
    async_get_advertisement_callback,
)
from homeassistant.core import HomeAssistant

from custom_components.treadreverse.const import FTMS_SERVICE_UUID
from custom_components.treadreverse.treadmill.base import TreadmillConnectionError
from custom_components.treadreverse.treadmill.client import BleakClientLike, DisconnectCallback

# Where the config flow's connection test gets its connector from.
CONNECTOR = "custom_components.treadreverse.treadmills.bleak_connector"
RSSI = -60
TX_POWER = -127


def service_info(
    address: str,
    name: str,
    service_uuids: Sequence[str] = (FTMS_SERVICE_UUID,),
    *,
    source: str = "local",
    service_data: Mapping[str, bytes] | None = None,
) -> BluetoothServiceInfoBleak:
    """Return what Home Assistant's Bluetooth stack reports for one connectable advertisement."""
    uuids = list(service_uuids)
    data = dict(service_data or {})
    advertisement = AdvertisementData(
        local_name=name,
        manufacturer_data={},
        service_data=data,
        service_uuids=uuids,
        tx_power=TX_POWER,
        rssi=RSSI,
        platform_data=(),
    )
    return BluetoothServiceInfoBleak(
        name=name,
        address=address,
        rssi=RSSI,
        manufacturer_data={},
        service_data=data,
        service_uuids=uuids,
        source=source,
        device=BLEDevice(address, name, {}),
        advertisement=advertisement,
        connectable=True,
        time=monotonic_time_coarse(),
        tx_power=TX_POWER,
    )


def inject_advertisement(hass: HomeAssistant, info: BluetoothServiceInfoBleak) -> None:
    """Feed an advertisement to Home Assistant's Bluetooth manager, as a scanner would."""
    async_get_advertisement_callback(hass)(info)


async def unreachable(on_disconnect: DisconnectCallback) -> BleakClientLike:
    """Fail like a treadmill that is switched off or held by another central."""
    raise TreadmillConnectionError("treadmill is out of range")
