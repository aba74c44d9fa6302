"""Fixtures for tests against a real Home Assistant core."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from homeassistant.const import CONF_NAME
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import (
    CONF_KIND,
    CONF_MAX_INCLINE,
    CONF_MAX_SPEED,
    CONF_MIN_SPEED,
    DOMAIN,
    Kind,
)


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
def simulated_entry() -> MockConfigEntry:
    """Return a config entry for a simulated treadmill."""
    return MockConfigEntry(
        domain=DOMAIN, title="Simulated treadmill", data=SIMULATED_DATA, version=1, minor_version=1
    )
