"""Snapshots of every platform and of the diagnostics."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.assertion import SnapshotAssertion


@pytest.mark.freeze_time("2026-11-24 07:00:00+00:00")
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform",
    [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.EVENT,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    simulated_entry: MockConfigEntry,
    platform: Platform,
) -> None:
    """Every entity of a simulated treadmill, platform by platform."""
    simulated_entry.add_to_hass(hass)
    with patch("custom_components.treadreverse.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(simulated_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, simulated_entry.entry_id)


@pytest.mark.freeze_time("2026-11-24 07:00:00+00:00")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: Any,
    snapshot: SnapshotAssertion,
    loaded_simulated: MockConfigEntry,
) -> None:
    """Diagnostics dump the treadmill and engine, with the address redacted."""
    result = await get_diagnostics_for_config_entry(hass, hass_client, loaded_simulated)
    assert result == snapshot
