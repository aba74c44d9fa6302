"""Count each fuzz target's outcomes, for scripts/fuzz's per-target summary (issue 11).

Every execution counts, Hypothesis's shrinking included: "examples" is what ran. A crash is
any outcome other than success or a translated refusal; the test fails on it as well.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
import json
import os
from pathlib import Path

TALLY: defaultdict[str, Counter[str]] = defaultdict(Counter)


class Refused(Exception):  # noqa: N818  (a marker, not an error)
    """Raised inside `outcome` to count a refusal the target has already checked."""


@contextmanager
def outcome(target: str) -> Iterator[None]:
    """Count one example of `target`: accepted, refused (Refused raised) or crashed."""
    try:
        yield
    except Refused:
        TALLY[target]["refused"] += 1
    except BaseException:
        TALLY[target]["crashes"] += 1
        raise
    else:
        TALLY[target]["accepted"] += 1


def write(path: str | None = os.environ.get("FUZZ_TALLY")) -> None:
    """Write the tally as JSON where scripts/fuzz asked for it (nothing when not asked)."""
    if path:
        Path(path).write_text(json.dumps(TALLY, indent=1, sort_keys=True), "utf-8")
