"""The mutation gate's catalogue: deliberate rule-breaking patches the safety tests must kill.

`scripts/mutants` copies `custom_components/`, `tests/` and `pyproject.toml` to a temporary
folder, applies ONE mutant there (the shipped code is never touched and has no switches for
this), runs the mutant's `tests` with `-x` and a timeout, and restores the file before the
next mutant. A mutant is KILLED when the tests fail (or time out), SURVIVED when they pass.
Every mutant must be killed; a surviving mutant means a safety rule is not really tested.

Adding a mutant: append one `Mutant(...)` to `MUTANTS` below, then check it alone with
`scripts/mutants --only <id>`.

    Mutant(
        id="M06-engine-...",        # unique; "M" + number + what breaks, or "F<finding>-..."
        rule="7",                   # the safety rule it breaks (README, "Safety rules"; 1-11)
        finding=None,               # the review finding it re-creates, if any (an int)
        file="custom_components/treadreverse/programme/engine.py",   # relative to the repo
        find="...",                 # exact source text; must occur EXACTLY once in `file`
        replace="...",              # what it becomes in the mutant
        tests=["tests/programme/test_engine.py::test_x"],   # pytest arguments, see below
        why="one line: what a user would suffer if this shipped",
    )

- `find` is matched verbatim (indentation and newlines included). When it occurs 0 or 2+
  times the tool reports the mutant as STALE and fails: edit the entry together with the
  code it mutates, so the catalogue always stays in step. Widen `find` with a neighbouring
  line to make it unique.
- `replace` must still be valid Python; prefer the smallest change that breaks the rule
  (drop a call, invert or weaken a condition, raise a limit).
- `tests` are passed to pytest as they are: node ids (`tests/x.py::test_y`), files,
  folders, and options such as `"-k", "cap and not ramp"` (two list items). Name the
  targeted tests, not the whole suite: each mutant reruns them, and `-x` stops at the
  first failure. The tool first runs every mutant's tests on the UNMUTATED copy; they
  must pass there, or nothing is proven.
- A held-out catalogue is any Python file defining `MUTANTS` the same way (entries may be
  `Mutant`s or plain dicts with these keys): `scripts/mutants --catalogue FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_PROGRAMME = "custom_components/treadreverse/programme"
_TREADMILL = "custom_components/treadreverse/treadmill"


@dataclass(frozen=True)
class Mutant:
    """One deliberate rule-breaking patch and the tests that must catch it."""

    id: str
    rule: str
    file: str
    find: str
    replace: str
    tests: list[str] = field(default_factory=list)
    why: str = ""
    finding: int | None = None


MUTANTS: list[Mutant] = [
    Mutant(
        id="M01-client-stop-keeps-queue",
        rule="7",
        file=f"{_TREADMILL}/client.py",
        find=(
            "        self._drop_queue(CommandFailure.SUPERSEDED)\n"
            '        await self._ensure_control("stop"'
        ),
        replace='        await self._ensure_control("stop"',
        tests=["tests/treadmill/test_client.py::test_stop_jumps_a_stuck_queue"],
        why="a speed or start queued before a stop would still run after it",
    ),
    Mutant(
        id="M02-compiler-backward-cap-not-checked",
        rule="3",
        file=f"{_PROGRAMME}/compiler.py",
        find="if direction is not SegmentDirection.FORWARD and speed > self.cap + _EPS:",
        replace="if False:  # mutant: no backward cap check",
        tests=[
            "tests/programme/test_compiler.py",
            "tests/programme/test_properties.py::test_compiler_refuses_or_respects_the_cap",
        ],
        why="a programme above max_backward_speed would be clipped silently instead of refused",
    ),
    Mutant(
        id="M03-compiler-cap-ignores-machine-max",
        rule="3",
        file=f"{_PROGRAMME}/compiler.py",
        find="    return min(options.max_backward_speed, machine)\n",
        replace="    return options.max_backward_speed\n",
        tests=["tests/programme/test_compiler.py::test_machine_max_lowers_the_cap"],
        why="on a slow machine the backward cap would be above what the machine can do",
    ),
    Mutant(
        id="M04-compiler-joint-raise-not-staggered",
        rule="4",
        file=f"{_PROGRAMME}/compiler.py",
        find="later = after_turn or (raise_speed and incline > self.incline + _EPS)",
        replace="later = after_turn  # mutant: a joint raise goes at once",
        tests=["tests/programme/test_compiler.py::test_raises_are_staggered"],
        why="speed and incline would rise in the same step at a segment change",
    ),
    Mutant(
        id="M05-schema-half-squat-90s",
        rule="5",
        file=f"{_PROGRAMME}/schema.py",
        find="HALF_SQUAT_MAX_S = 60.0",
        replace="HALF_SQUAT_MAX_S = 90.0",
        tests=["tests/programme/test_schema.py"],
        why="half-squat bouts longer than 60 s would be accepted",
    ),
]
