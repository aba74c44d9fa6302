"""What the soak checks beyond tests/rules.py: who started the belt, the record, the totals.

The safety rules are tests/rules.py's, on the same RuleTrace (one set, shared with the
engine's properties). These are Home Assistant's part: the origin of a start (product.md
"Who asked": a start or resume from an automation waits for the person) and the stored
record (every session exactly once, with an outcome; lifetime totals = the sum).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

from custom_components.treadreverse.programme.events import EventType
from tests import rules

# Marks that let the belt start: the person's, or an automation that asked explicitly not
# to wait (start_programme with wait_for_person: false).
MAY_START = rules.PERSON_MARKS | {"automation_nowait"}
GATES = (EventType.PROGRAMME_PAUSED, EventType.PROGRAMME_ABORTED, EventType.PROGRAMME_COMPLETED)


def check_who_started(trace: rules.RuleTrace) -> None:
    """Rule 9 and "Who asked": Home Assistant starts the belt only after the person said so.

    Every start written follows a person's start, confirm, resume or console start (or an
    automation's explicit wait_for_person: false) since the programme last paused or ended.
    """
    allowed = False
    for entry in trace.entries:
        if entry.kind == "mark" and entry.name in MAY_START:
            allowed = True
        elif entry.kind == "event" and entry.value.type in GATES:
            allowed = False
        elif entry.kind == "cmd" and entry.name == "start" and not allowed:
            raise rules.RuleBroken(
                f"rule 9 (who asked) at t={trace.t(entry.at):.2f}: the belt was started "
                "without the person (an automation's start or resume must wait)"
            )


@dataclass
class Ledger:
    """Every session seen in the store, and the sums the lifetime totals must equal."""

    ids: set[str]
    backward_distance_m: float = 0.0
    backward_time_s: float = 0.0
    completed: int = 0

    def take(self, stored: list[dict[str, Any]], started: int) -> list[str]:
        """Take the sessions new in the store; return what is wrong with them."""
        problems: list[str] = []
        ids = [s["id"] for s in stored]
        doubled = {i for i in ids if ids.count(i) > 1}
        if doubled:
            problems.append(f"sessions recorded twice: {sorted(doubled)}")
        new = [s for s in stored if s["id"] not in self.ids]
        if len(new) != started:
            problems.append(f"{started} programme(s) started, {len(new)} session(s) recorded")
        for session in new:
            if session.get("outcome") not in ("completed", "aborted", "stopped"):
                problems.append(f"session {session['id']} has no outcome: {session}")
            if not session.get("end"):
                problems.append(f"session {session['id']} has no end")
            self.ids.add(session["id"])
            self.backward_distance_m += float(session.get("backward_distance_m") or 0.0)
            self.backward_time_s += float(session.get("backward_time_s") or 0.0)
            self.completed += session.get("outcome") == "completed"
        return problems

    def compare(self, totals: Any) -> list[str]:
        """Return how the lifetime totals differ from the sum of the sessions."""
        problems = []
        pairs = (
            ("backward_distance_m", totals.backward_distance_m, self.backward_distance_m),
            ("backward_time_s", totals.backward_time_s, self.backward_time_s),
        )
        for name, stored, summed in pairs:
            if not math.isclose(stored, summed, rel_tol=1e-9, abs_tol=1e-6):
                problems.append(f"lifetime {name} {stored} != sum of sessions {summed}")
        if totals.sessions_completed != self.completed:
            problems.append(
                f"lifetime sessions_completed {totals.sessions_completed} != {self.completed}"
            )
        return problems
