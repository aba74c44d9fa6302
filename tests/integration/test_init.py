"""Set-up, unload and lifetime of a treadmill entry in a real Home Assistant."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_simulated_entry_loads_and_unloads(
    hass: HomeAssistant, simulated_entry: MockConfigEntry
) -> None:
    """A simulated treadmill sets up its entities and unloads cleanly."""
    simulated_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulated_entry.entry_id)
    await hass.async_block_till_done()
    assert simulated_entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(simulated_entry.entry_id)
    await hass.async_block_till_done()
    assert simulated_entry.state is ConfigEntryState.NOT_LOADED
