"""Fixtures for tests against a real Home Assistant core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.treadreverse.clock import HomeAssistantClock
from custom_components.treadreverse.const import (
    CONF_KIND,
    CONF_MAX_INCLINE,
    CONF_MAX_SPEED,
    CONF_MIN_SPEED,
    DOMAIN,
    Kind,
)
from custom_components.treadreverse.treadmill.simulator import SimulatedFtmsPeripheral

from .speakers import RecordingPlayer, RecordingTTS, async_setup_speakers


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load custom_components/treadreverse."""
    return


SIMULATED_DATA: dict[str, Any] = {
    CONF_KIND: Kind.SIMULATED,
    CONF_NAME: "Simulated treadmill",
    CONF_MIN_SPEED: 0.5,
    CONF_MAX_SPEED: 12.0,
    CONF_MAX_INCLINE: 12.0,
}


@pytest.fixture
async def speakers(hass: HomeAssistant) -> tuple[RecordingTTS, list[RecordingPlayer]]:
    """Set up a TTS engine and two recording media players."""
    return await async_setup_speakers(hass, "Living room", "Kitchen")


@pytest.fixture
def player(speakers: tuple[RecordingTTS, list[RecordingPlayer]]) -> RecordingPlayer:
    """Return the living-room player."""
    return speakers[1][0]


@pytest.fixture
def simulated_entry(speakers: tuple[RecordingTTS, list[RecordingPlayer]]) -> MockConfigEntry:
    """Return a config entry for a simulated treadmill that speaks on the living-room player."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="01SIMULATEDTREADMILL00000",
        title="Simulated treadmill",
        data=SIMULATED_DATA,
        options={"speakers": ["media_player.living_room"], "tts_engine": "tts.test_speech"},
        version=1,
        minor_version=1,
    )


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move Home Assistant's time forward one second at a time, running due timers."""
    whole = int(seconds)
    for step in [1.0] * whole + ([seconds - whole] if seconds > whole else []):
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        # Background tasks (the speakers' queues) are not awaited by block_till_done.
        for _ in range(10):
            await asyncio.sleep(0)


@pytest.fixture
async def loaded_simulated(
    hass: HomeAssistant, simulated_entry: MockConfigEntry
) -> MockConfigEntry:
    """Return a set-up simulated treadmill entry."""
    simulated_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulated_entry.entry_id)
    await hass.async_block_till_done()
    return simulated_entry


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are disabled by default (as Home Assistant core's tests do)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Serialise registry entries and states the way Home Assistant core's snapshots do."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


# The simulated Bluetooth treadmill standing in for a real one (a module may define its own).
@pytest.fixture
async def peripheral(hass: HomeAssistant) -> AsyncGenerator[SimulatedFtmsPeripheral]:
    """Return a simulated FTMS peripheral standing in for a Bluetooth treadmill."""
    machine = SimulatedFtmsPeripheral(HomeAssistantClock(hass))
    yield machine
    machine.close()


@pytest.fixture
def bluetooth_treadmill(peripheral: SimulatedFtmsPeripheral) -> Generator[None]:
    """Let the integration reach the simulated peripheral instead of real Bluetooth."""
    with (
        patch(
            "custom_components.treadreverse.treadmills.bluetooth.async_ble_device_from_address",
            return_value=object(),
        ),
        patch(
            "custom_components.treadreverse.treadmills.bleak_connector",
            return_value=peripheral.connect,
        ),
    ):
        yield
