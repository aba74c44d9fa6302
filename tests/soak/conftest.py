"""Fixtures of the soak: statistics compiled as in production (every 5 virtual minutes)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the soak marker."""
    config.addinivalue_line("markers", "soak: the Home Assistant soak (scripts/soak)")


@pytest.fixture
def enable_statistics() -> bool:
    """Compile long-term statistics of the treadmill's sensors, as Home Assistant does."""
    return True
