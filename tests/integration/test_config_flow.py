"""Tests of the config flow, through Home Assistant's real flow manager."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.treadreverse.const import CONF_KIND, DOMAIN, Kind


async def test_user_step_offers_three_kinds(hass: HomeAssistant) -> None:
    """The first step is a menu of the three kinds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["ftms", "simulated", "manual"]


async def test_simulated_creates_entry(hass: HomeAssistant) -> None:
    """A simulated treadmill needs a name and ranges, and is set up at once."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "simulated"}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "Garage", "min_speed": 0.5, "max_speed": 10.0, "max_incline": 8.0},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["data"][CONF_KIND] == Kind.SIMULATED
    await hass.async_block_till_done()
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.state.recoverable or entry.state.value == "loaded"
