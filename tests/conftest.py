"""Shared fixtures for the whole suite."""

from __future__ import annotations

# Import the integration before any `hass` fixture exists: otherwise the first import of
# `custom_components` resolves to the test helper package and the integration is not found.
import custom_components.treadreverse  # noqa: F401
