"""Shared fixtures for the whole suite, and the Hypothesis profiles (issue 9).

Profiles, chosen by HYPOTHESIS_PROFILE:
- "default": a quick random exploration (60 examples a property) for a developer's run;
- "ci" (scripts/test): derandomized, at least 200 examples a property, no example
  database: every run tests the same examples (each property's seed is a hash of its
  source, so editing a property changes its examples); a failure prints its reproduce
  blob;
- "soak" (scripts/soak-properties N): N random examples a property, from the seed given
  with --hypothesis-seed, no example database, without the pinned examples.
A property may ask for more examples than its profile, never fewer.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
import pytest

# Import the integration before any `hass` fixture exists: otherwise the first import of
# `custom_components` resolves to the test helper package and the integration is not found.
import custom_components.treadreverse  # noqa: F401

CI_EXAMPLES = 200  # the floor for every property in scripts/test

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    derandomize=True,
    deadline=None,
    print_blob=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "soak",
    max_examples=int(os.environ.get("SOAK_EXAMPLES", "1000")),
    derandomize=False,
    # The pinned @examples are scripts/test's: an open one would end the soak at once.
    phases=[p for p in Phase if p is not Phase.explicit],
    deadline=None,
    print_blob=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)


def pytest_report_header(config: pytest.Config) -> str:
    """Say which profile runs and where its seed comes from (issue 9: the seed printed)."""
    current = settings.default
    seed = config.getoption("hypothesis_seed", None)
    if current.derandomize:
        source = "derandomized: each property's seed is a hash of its source"
        if seed is not None:
            source += f" (--hypothesis-seed={seed} is ignored)"
    elif seed is not None:
        source = f"seed {seed} (--hypothesis-seed)"
    else:
        source = "random seed (pass --hypothesis-seed=N to repeat a run)"
    return (
        f"hypothesis profile {PROFILE!r}: max_examples={current.max_examples}, "
        f"derandomize={current.derandomize}, database={current.database!r}, "
        f"print_blob={current.print_blob}; {source}"
    )
