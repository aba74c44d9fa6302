"""The integration suite's fixtures: the fuzz targets run against the same real Home Assistant."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401  (fixtures)
    auto_enable_custom_integrations,
    loaded_simulated,
    simulated_entry,
    speakers,
)


def pytest_sessionfinish() -> None:
    """Leave the per-target tally for scripts/fuzz."""
    from .tally import write

    write()
