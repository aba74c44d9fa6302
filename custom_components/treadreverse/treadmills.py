"""Build the treadmill of a config entry, by kind, and prove it can be reached."""

from __future__ import annotations

import logging

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
from .storage import TreadmillStore
from .treadmill.base import (
    Capabilities,
    MachineEvent,
    MachineEventType,
    Range,
    Treadmill,
    TreadmillConnectionError,
)
from .treadmill.client import Connector, FtmsTreadmill, bleak_connector
from .treadmill.clock import Clock
from .treadmill.manual import ManualTreadmill
from .treadmill.simulator import SimulatorConfig, create_simulated_treadmill

_LOGGER = logging.getLogger(__name__)


class KnownFtmsTreadmill(FtmsTreadmill):
    """An FTMS client that knows its machine's capabilities before it connects."""

    def __init__(
        self,
        clock: Clock,
        connector: Connector,
        name: str,
        *,
        keep_connected: bool,
        known: Capabilities,
    ) -> None:
        """Answer with `known` until the machine tells its own at a connection."""
        super().__init__(clock, connector, name, keep_connected=keep_connected)
        self._known: Capabilities | None = known
        # Subscribed first: the capabilities read are in place before anyone hears CONNECTED.
        self.subscribe(on_event=self._on_own_event)

    @property
    def capabilities(self) -> Capabilities:
        """Return what the machine said at the last connection, or at one before."""
        return self._known if self._known is not None else super().capabilities

    def _on_own_event(self, event: MachineEvent) -> None:
        """Use the machine's own answer from its first connection on."""
        if event.type is MachineEventType.CONNECTED:
            self._known = None


def ftms_treadmill(
    hass: HomeAssistant,
    address: str,
    name: str,
    *,
    keep_connected: bool = True,
    known: Capabilities | None = None,
) -> FtmsTreadmill:
    """Return an FTMS client that always connects to the freshest BLEDevice of `address`."""
    clock = HomeAssistantClock(hass)
    connector = bleak_connector(
        lambda: bluetooth.async_ble_device_from_address(hass, address, connectable=True),
        name,
    )
    if known is not None:
        return KnownFtmsTreadmill(
            clock, connector, name, keep_connected=keep_connected, known=known
        )
    return FtmsTreadmill(clock, connector, name, keep_connected=keep_connected)


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


async def async_create_treadmill(
    hass: HomeAssistant, entry: TreadReverseConfigEntry, store: TreadmillStore
) -> Treadmill:
    """Build the entry's treadmill; ConfigEntryNotReady when it must be reached and is not.

    A Bluetooth treadmill whose capabilities are remembered is built without the link
    (it may be switched off): the coordinator connects it when it can.
    """
    kind = Kind(entry.data[CONF_KIND])
    if kind is Kind.MANUAL:
        return ManualTreadmill()
    if kind is Kind.SIMULATED:
        treadmill = simulated_treadmill(hass, entry)
        await treadmill.connect()
        return treadmill
    if (known := store.capabilities) is not None:
        keep = bool(entry_options(entry)["keep_connected"])
        return ftms_treadmill(
            hass, entry.data[CONF_ADDRESS], entry.title, keep_connected=keep, known=known
        )
    treadmill = await _async_connect_ftms(hass, entry)
    store.remember_capabilities(treadmill.capabilities)
    return treadmill


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
        # The cause (a Bluetooth stack's English text) goes to the log, not the message.
        _LOGGER.debug("Cannot connect to %s: %s", entry.title, err)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"name": entry.title},
        ) from err
    if not keep:
        # Capabilities stay known; the link is opened again when a programme starts.
        await close_unused_link(treadmill)
    return treadmill
