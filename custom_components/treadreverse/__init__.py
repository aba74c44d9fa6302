"""The treadreverse integration: a coached backward-walking treadmill trainer."""

from __future__ import annotations

import logging

from homeassistant.const import Platform
from homeassistant.core import HassJob, HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .announcer import async_create_announcer
from .const import CONFIG_MINOR_VERSION, CONFIG_VERSION, DOMAIN
from .coordinator import TreadmillCoordinator, TreadReverseConfigEntry, TreadReverseData
from .device import async_watch_device_information
from .services import async_setup_services
from .storage import PROGRAMMES_KEY, ProgrammeLibrary, TreadmillStore
from .treadmills import async_create_treadmill

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Load the saved programmes and register the actions, once for all treadmills."""
    library = ProgrammeLibrary(hass)
    await library.async_load()
    hass.data[PROGRAMMES_KEY] = library
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> bool:
    """Set up one treadmill: connect (or prove it can), then its entities."""
    store = TreadmillStore(hass, entry.entry_id)
    await store.async_load()
    treadmill = await async_create_treadmill(hass, entry, store)
    coordinator = TreadmillCoordinator(hass, entry, treadmill, store)
    try:
        await _async_start_runtime(hass, entry, coordinator)
    except BaseException:
        # All or nothing: a failed set-up leaves no link, listener or timer behind, or the
        # retry would fight the old client for the treadmill's single connection.
        await coordinator.async_shutdown_runtime("setup_failed")
        raise
    return True


async def _async_start_runtime(
    hass: HomeAssistant, entry: TreadReverseConfigEntry, coordinator: TreadmillCoordinator
) -> None:
    """Start the speakers, the coordinator and the entities of a built treadmill."""
    announcer = await async_create_announcer(hass, entry, coordinator)
    entry.runtime_data = TreadReverseData(coordinator=coordinator, announcer=announcer)
    await coordinator.async_start()
    # The machine's own manufacturer, model, serial and firmware, at every connection.
    async_watch_device_information(hass, entry, coordinator.treadmill)

    async def _async_on_stop() -> None:
        # Home Assistant stops without unloading entries: leave safely anyway (rule 11).
        # A shutdown job runs before timers and background tasks (the speakers) are cancelled.
        await coordinator.async_shutdown_runtime("restart")
        await announcer.async_drain()

    entry.async_on_unload(
        hass.async_add_shutdown_job(HassJob(_async_on_stop, "treadreverse leave safely"))
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)


async def async_unload_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> bool:
    """Leave safely (rule 11), say so on the speakers, and release everything."""
    await entry.runtime_data.coordinator.async_shutdown_runtime("unload")
    await entry.runtime_data.announcer.async_drain()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> None:
    """Delete what the treadmill stored (sessions, totals) and its repair issues."""
    await TreadmillStore(hass, entry.entry_id).async_remove()
    _delete_repair_issues(hass, entry.entry_id)


def _delete_repair_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the repair issues of one treadmill, which would otherwise stay for ever.

    Every issue of ours names its entry (control_refused_<entry>, missing_entity_<entry>_<entity>).
    """
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and entry_id in issue_id:
            ir.async_delete_issue(hass, DOMAIN, issue_id)


async def async_migrate_entry(hass: HomeAssistant, entry: TreadReverseConfigEntry) -> bool:
    """Migrate entry data from older versions; refuse versions from the future."""
    if entry.version > CONFIG_VERSION:
        # A downgrade: this code cannot read data written by a newer release.
        return False
    from .device import async_identify_by_address
    from .entity import async_alias_registered_entities

    if entry.version == CONFIG_VERSION and entry.minor_version < CONFIG_MINOR_VERSION:
        if entry.minor_version < 2:
            # 1.2: a Bluetooth treadmill's device is identified by its address; same device id.
            async_identify_by_address(hass, entry)
            # 1.2: "turn on backward intervals" names the switch without the treadmill's name.
            async_alias_registered_entities(hass, entry)
        hass.config_entries.async_update_entry(entry, minor_version=CONFIG_MINOR_VERSION)
    _LOGGER.debug("Entry %s at version %s.%s", entry.entry_id, entry.version, entry.minor_version)
    return True
