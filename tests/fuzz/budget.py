"""How many examples each fuzz target runs.

- scripts/test (the derandomized ci profile): the pure targets take the profile's 200, the
  targets that go through Home Assistant take fewer (`ci`), to keep the suite quick;
- scripts/fuzz N [M]: N examples per target, M for the treadmill byte streams
  (FUZZ_EXAMPLES, FUZZ_TREADMILL_EXAMPLES), from the soak profile's random seed;
- otherwise the profile's number.
"""

from __future__ import annotations

import os

from hypothesis import settings


def examples(ci: int | None = None, *, treadmill: bool = False) -> settings:
    """Return the settings of one fuzz target."""
    asked = os.environ.get("FUZZ_TREADMILL_EXAMPLES") if treadmill else None
    asked = asked or os.environ.get("FUZZ_EXAMPLES")
    if asked:
        return settings(max_examples=int(asked))
    if ci is not None and settings.default.derandomize:
        return settings(max_examples=ci)
    return settings()
