# ruff: noqa: PLR0912, SIM102 - each check is one state machine over a trace
"""Safety rules 1-11 (product.md) as checks over what really happened.

A `RuleTrace` holds, in the order they happened: the commands as written to the
treadmill (each with the belt's true state just before it), marks (faults injected and
what the person did), and the engine's events (what was said when, with the belt's true
speed then); plus the belt's true trace (speed, incline, running, stored target over
time). The checks judge the rules on that, never on what the engine believed. They take
no engine or fake: a Home-Assistant-level soak builds a RuleTrace and reuses them.

Marks the checks understand (labels; anything else is ignored):
- person actions: "start" (a person starts a programme), "confirm", "resume" (a
  person's resume), "console_start" - each lifts the stop latch and allows motion again;
- "stop" (engine.stop called), "console_stop", "safety_key": the stop latch;
- "shutdown": the entry unloads (rule 11);
- "drop_link", "reconnect": the link (rule 6);
- "speaker_off", "speaker_on": whether any speaker works (rules 2 and 9);
- "console_speed", "console_incline": the person's own changes (rule 10);
- "manual <verb> <origin> <value>": a manual set_speed/set_incline asked for.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from custom_components.treadreverse.programme.events import CueType, EngineEvent, EventType
from custom_components.treadreverse.programme.options import EngineOptions

STAGGER_S = 3.0  # rule 4
WAIT_FOR_PERSON_S = 600.0  # rule 9
TURN_SLOW_TIMEOUT_S = 15.0  # rule 1: a belt not at turn_speed by then is paused
# The engine accepts a measured speed within the FTMS resolution (0.01 km/h) of a limit,
# and speeds are reported rounded to 0.01 km/h: the true belt may be this much above.
MEASURED = 0.01 + 0.006
# Inclines are reported in 0.1 % steps, rounded: the true incline may be this much below.
MEASURED_INCLINE = 0.05 + 1e-3
EPS = 1e-6
PERSON_MARKS = frozenset({"start", "confirm", "resume", "console_start"})
STOP_MARKS = frozenset({"stop", "console_stop", "safety_key"})
HALTS = frozenset({"stop", "pause", "request_control"})
MOTION = frozenset({"start", "set_speed", "set_incline"})
REFUSED_OWN = "The interlock refused the programme's"


class Belt(NamedTuple):
    """The belt's true state at one moment."""

    at: datetime
    speed: float
    incline: float | None  # None: not known (a source that does not say)
    running: bool
    target: float | None  # the machine's stored target speed (None: not known)


class Entry(NamedTuple):
    """One thing that happened: a command written, a mark, or an engine event."""

    at: datetime
    kind: str  # "cmd", "mark" or "event"
    name: str  # the command, the mark's label, or the event's type
    value: Any  # the command's value, the mark's argument, or the EngineEvent
    belt: Belt | None  # the belt just before a command; at an event or mark


@dataclass
class RuleTrace:
    """Everything the rule checks read."""

    options: EngineOptions
    cap: float  # max_backward_speed, never above the machine's maximum
    controllable: bool  # the machine takes commands (a link exists to stop it)
    remote_control: bool  # ... and Home Assistant may move it
    entries: list[Entry]
    belt: list[Belt]
    sessions: list[Any] = field(default_factory=list)
    distance_limits: dict[int, float] = field(default_factory=dict)  # interval -> max s
    errors: list[str] = field(default_factory=list)  # ERROR log lines
    speaker: bool = True  # whether a speaker worked at the beginning
    first_backward: bool = False  # the programme's first segment is backward
    last_backward: bool = False  # ... and its last
    start: datetime | None = None
    shutdown_reason: str = "unload"
    # Whether the trace marks "cue_accepted" when a speaker accepted a turn cue (rule 2:
    # a turn begins only once its cue was accepted, or falls back to pause-and-wait).
    receipts: bool = False
    # Safety cues the listeners (the speakers) heard later than the engine said them:
    # "<type> said at <t> heard at <t>" (rule 2's lead counts from when they are heard).
    heard_late: list[str] = field(default_factory=list)

    # ----- views -------------------------------------------------------------------------

    @property
    def commands(self) -> list[Entry]:
        """Return the commands written (request_control included)."""
        return [e for e in self.entries if e.kind == "cmd"]

    @property
    def events(self) -> list[EngineEvent]:
        """Return the engine's events."""
        return [e.value for e in self.entries if e.kind == "event"]

    def marks(self, *labels: str) -> list[Entry]:
        """Return the marks with these labels (all when none is given)."""
        return [e for e in self.entries if e.kind == "mark" and (not labels or e.name in labels)]

    def t(self, moment: datetime) -> float:
        """Return seconds since the trace began."""
        first = self.start or (self.entries[0].at if self.entries else moment)
        return (moment - first).total_seconds()

    def belt_at(self, moment: datetime) -> Belt | None:
        """Return the last true state at or before a moment."""
        times = [b.at for b in self.belt]
        index = bisect_right(times, moment)
        return self.belt[index - 1] if index else None

    def belt_between(self, begin: datetime, end: datetime | None) -> Iterator[Belt]:
        """Yield the true states in [begin, end] (end None: to the end)."""
        for state in self.belt:
            if state.at >= begin and (end is None or state.at <= end):
                yield state

    def speaker_on(self, moment: datetime) -> bool:
        """Return whether a speaker worked at a moment (by the speaker marks)."""
        on = self.speaker
        for mark in self.marks("speaker_off", "speaker_on"):
            if mark.at > moment:
                break
            on = mark.name == "speaker_on"
        return on

    def render(self) -> str:
        """Return the trace as text (shown when a rule fails)."""
        lines = []
        for entry in self.entries:
            belt = entry.belt
            state = (
                f"[belt {belt.speed:.2f} {'run' if belt.running else 'rest'} target "
                f"{belt.target} incl {belt.incline}]"
                if belt
                else ""
            )
            if entry.kind == "event":
                event: EngineEvent = entry.value
                data = {k: v for k, v in event.data.items() if k not in _NOISE}
                lines.append(f"{self.t(entry.at):8.2f} {event.type} {data} {state}")
            elif entry.kind == "cmd":
                lines.append(f"{self.t(entry.at):8.2f} CMD {entry.name} {entry.value} {state}")
            else:
                lines.append(f"{self.t(entry.at):8.2f} MARK {entry.name} {entry.value or ''}")
        lines.extend(f"ERROR {line}" for line in self.errors)
        return "\n".join(lines)


_NOISE = frozenset({"programme", "name", "count", "label", "ends_at", "incline", "label_key"})


class RuleBroken(AssertionError):  # noqa: N818 - reads as what it is
    """A safety rule did not hold; the message names the rule and the moment."""


def _fail(trace: RuleTrace, rule: str, at: datetime | None, what: str) -> RuleBroken:
    """Return the error for a broken rule."""
    when = f" at t={trace.t(at):.2f}" if at is not None else ""
    return RuleBroken(f"{rule}{when}: {what}")


def _is(entry: Entry, *kinds: EventType | CueType) -> bool:
    """Return whether an entry is one of these engine events."""
    return entry.kind == "event" and entry.value.type in kinds


# ----- rules 1 and 2: turns, and the cue in time -------------------------------------------


def check_turns(trace: RuleTrace) -> None:
    """Rules 1 and 2 on every turn.

    - Every change of segment direction passes a turn: slow_down (or wait_at_turn), then
      turn_now, then direction_changed (skip never skips a turn).
    - The lead cue (turn_around_soon) is never said during a turn, and the last one
      before a turn begins came at least cue_lead_time before it.
    - turn_now only on a belt at or below turn_speed (its true speed, unless the person
      drives it: advisory or a console start); turn_duration passes between turn_now
      and direction_changed, and the belt stays at or below turn_speed meanwhile.
    - The incline (true, and every set_incline) never rises from the turn's slow_down to
      its direction_changed.
    - A turn whose belt is not at turn_speed within the timeout gets a pause written.
    - A backward-first programme says mount (facing backward) before its first start; a
      completed programme that ended backward ended with a turn to face forward.
    """
    opts = trace.options
    lead = opts.cue_lead_time
    said: datetime | None = None
    turn_begun: datetime | None = None
    turn_now: datetime | None = None
    slow_limit = opts.turn_speed
    advisory = not trace.remote_control
    person_drove = False
    interval_dir: str | None = None
    last_changed_to: str | None = None
    incline_at_begin: float | None = None
    accepted = False
    for entry in trace.entries:
        if entry.kind == "mark" and entry.name in ("console_start", "console_speed"):
            person_drove = True
        if entry.kind == "mark" and entry.name == "cue_accepted" and said is not None:
            accepted = True
        if (
            entry.kind == "event"
            and entry.value.type is EventType.PROGRAMME_PAUSED
            and entry.value.data.get("reason") == "wait_at_turn"
        ):
            accepted = True  # the pause-and-wait fallback: the person resumes the turn
        if entry.kind == "cmd" and turn_begun is not None and entry.name == "set_incline":
            before = entry.belt.incline if entry.belt else None
            if before is not None and entry.value > before + EPS:
                raise _fail(trace, "rule 1/4", entry.at, f"incline raised in a turn: {entry}")
        if entry.kind != "event":
            continue
        event: EngineEvent = entry.value
        kind = event.type
        if kind is CueType.ADVISORY_MODE:
            advisory = True
        elif kind is EventType.TURN_AROUND_SOON:
            if turn_begun is not None:
                raise _fail(trace, "rule 2", entry.at, "turn cue said during the turn")
            said = entry.at
            accepted = False  # a fresh cue needs its own receipt
        elif kind in (CueType.SLOW_DOWN, CueType.WAIT_AT_TURN) and turn_begun is None:
            if said is None:
                raise _fail(trace, "rule 2", entry.at, "turn without a turn-around-soon cue")
            ahead = (entry.at - said).total_seconds()
            if ahead < lead - EPS:
                raise _fail(trace, "rule 2", entry.at, f"turn cue only {ahead:.2f} s ahead")
            if kind is CueType.SLOW_DOWN and trace.receipts and not advisory and not accepted:
                raise _fail(trace, "rule 2", entry.at, "turn began before its cue was accepted")
            turn_begun = entry.at
            turn_now = None
            person_drove = False
            if kind is CueType.SLOW_DOWN and event.data.get("turn_speed"):
                slow_limit = max(float(event.data["turn_speed"]), opts.turn_speed)
            incline_at_begin = entry.belt.incline if entry.belt else None
        elif kind is CueType.SLOW_DOWN:
            turn_now = None  # slowed again (a resume or a console start mid-turn)
            person_drove = False
        elif kind is CueType.TURN_NOW:
            if turn_begun is None:
                raise _fail(trace, "rule 1", entry.at, "turn_now outside a turn")
            speed = entry.belt.speed if entry.belt else 0.0
            if not advisory and not person_drove and speed > slow_limit + MEASURED:
                raise _fail(trace, "rule 1", entry.at, f"turn_now on a belt at {speed}")
            turn_now = entry.at
        elif kind is EventType.DIRECTION_CHANGED:
            if turn_begun is None or turn_now is None:
                raise _fail(trace, "rule 1", entry.at, "direction changed without a turn")
            passed = (entry.at - turn_now).total_seconds()
            if passed < opts.turn_duration - EPS:
                raise _fail(trace, "rule 1", entry.at, f"turn_duration not kept: {passed} s")
            if not advisory and not person_drove:
                for state in trace.belt_between(turn_now, entry.at):
                    if state.speed > slow_limit + MEASURED:
                        raise _fail(trace, "rule 1", state.at, f"belt at {state.speed} in turn")
            _check_incline_flat(trace, turn_begun, entry.at, incline_at_begin)
            last_changed_to = event.data.get("to")
            turn_begun = turn_now = said = None
        elif kind is EventType.INTERVAL_STARTED:
            direction = event.data.get("direction")
            if interval_dir is not None and direction != interval_dir:
                if last_changed_to != direction:
                    raise _fail(trace, "rule 1", entry.at, "direction changed without a turn")
            interval_dir = direction
            said = None
        elif kind in (
            EventType.PROGRAMME_PAUSED,
            EventType.PROGRAMME_ABORTED,
            EventType.PROGRAMME_COMPLETED,
        ):
            if turn_begun is not None:
                end = entry.at
                _check_incline_flat(trace, turn_begun, end, incline_at_begin)
            if kind is not EventType.PROGRAMME_PAUSED:
                turn_begun = turn_now = None
            if kind is EventType.PROGRAMME_COMPLETED and trace.last_backward:
                if last_changed_to != "forward":
                    raise _fail(trace, "rule 1", entry.at, "ended backward without a turn")
        elif kind is EventType.PROGRAMME_RESUMED:
            turn_now = None
    _check_turn_timeout(trace)
    _check_mount(trace)


def _check_incline_flat(
    trace: RuleTrace, begin: datetime, end: datetime, start: float | None
) -> None:
    """Fail when the belt's true incline rose between two moments (the person aside).

    Measured from the lowest incline since `begin`, within MEASURED_INCLINE: the engine
    knows the incline as reported (0.1 % steps, rounded), so an incline motor that is a
    hair below its target when the turn begins may finish that hair inside the turn.
    """
    level = start
    console = [m.at for m in trace.marks("console_incline")]
    for state in trace.belt_between(begin, end):
        if state.at <= begin:
            continue  # the instant the turn begins: `start` is the incline then
        if state.incline is None:
            return
        if level is not None and state.incline > level + MEASURED_INCLINE:
            if not any(begin <= at <= state.at for at in console):
                raise _fail(trace, "rule 1/4", state.at, f"incline rose to {state.incline}")
            level = state.incline  # the person's own change: judged from there
        level = state.incline if level is None else min(level, state.incline)


def _check_turn_timeout(trace: RuleTrace) -> None:
    """Rule 1: a belt not at turn_speed within the timeout of a slow_down is paused."""
    if not trace.remote_control:
        return
    entries = trace.entries
    for index, entry in enumerate(entries):
        if not _is(entry, CueType.SLOW_DOWN) or entry.value.data.get("advisory"):
            continue
        deadline = entry.at + timedelta(seconds=TURN_SLOW_TIMEOUT_S + 1.0)
        for later in entries[index + 1 :]:
            if later.at > deadline:
                if later.belt is not None and later.belt.running:
                    raise _fail(trace, "rule 1", entry.at, "turn never slowed nor paused")
                break
            if later.kind == "cmd" and later.name in ("pause", "stop"):
                break
            if later.kind == "event" and later.value.type in (
                CueType.TURN_NOW,
                CueType.SLOW_DOWN,
                CueType.ADVISORY_MODE,
                EventType.PROGRAMME_PAUSED,
                EventType.PROGRAMME_ABORTED,
                EventType.PROGRAMME_COMPLETED,
            ):
                break
            if later.kind == "mark" and later.name in ("drop_link", "shutdown", *STOP_MARKS):
                break


def _check_mount(trace: RuleTrace) -> None:
    """Rule 1: a backward-first programme says how to step on before its first start."""
    if not trace.first_backward:
        return
    for entry in trace.entries:
        if _is(entry, CueType.MOUNT):
            if entry.value.data.get("direction") != "backward":
                raise _fail(trace, "rule 1", entry.at, "mount not facing backward")
            return
        if entry.kind == "cmd" and entry.name == "start":
            raise _fail(trace, "rule 1", entry.at, "backward-first start without mount cue")


# ----- rule 3: the backward cap -------------------------------------------------------------


def backward_windows(trace: RuleTrace) -> list[tuple[datetime, datetime | None]]:
    """Return when the person faces backward.

    From mount/turn_now to backward until turn_now to forward; a stop or an end leaves
    them facing backward.
    """
    windows: list[tuple[datetime, datetime | None]] = []
    begin: datetime | None = None
    for entry in trace.entries:
        if entry.kind != "event":
            continue
        event = entry.value
        to = event.data.get("to") or event.data.get("direction")
        if event.type in (CueType.TURN_NOW, CueType.MOUNT) and to == "backward":
            begin = begin or entry.at
        elif event.type is CueType.TURN_NOW and to == "forward" and begin is not None:
            windows.append((begin, entry.at))
            begin = None
    if begin is not None:
        windows.append((begin, None))
    return windows


def advisory_spans(trace: RuleTrace) -> list[tuple[datetime, datetime | None]]:
    """Return when the programme was advisory: from the switch to the next programme.

    Advisory mode (rule 10, product.md "Advisory mode") sends no belt command but stop:
    the belt's speed is then the person's, told by the spoken instructions.
    """
    spans: list[tuple[datetime, datetime | None]] = []
    begin: datetime | None = trace.start if not trace.remote_control else None
    for entry in trace.entries:
        if entry.kind != "event":
            continue
        if entry.value.type is CueType.ADVISORY_MODE and begin is None:
            begin = entry.at
        elif entry.value.type is EventType.PROGRAMME_STARTED and trace.remote_control:
            if begin is not None:
                spans.append((begin, entry.at))
            begin = None
    if begin is not None:
        spans.append((begin, None))
    return spans


def check_backward_cap(trace: RuleTrace) -> None:
    """Rule 3.

    - The belt's true speed never exceeds the cap while the person faces backward (from
      mount/turn_now to backward until turn_now to forward, also after the programme
      ends: whatever restarts the belt, ours or the console's).
    - Every set_speed written while backward, turning, or about to face backward (a
      backward-first programme before its start) is at or below the cap; so is the belt's
      stored target whenever the belt is (re)started in a backward window.
    """
    cap = trace.cap
    advisory = advisory_spans(trace)
    for begin, end in backward_windows(trace):
        for state in trace.belt_between(begin, end):
            if any(a <= state.at and (b is None or state.at <= b) for a, b in advisory):
                continue  # the person drives (rule 10): the engine only says "slow down"
            if state.speed > cap + MEASURED:
                raise _fail(trace, "rule 3", state.at, f"belt at {state.speed} > cap {cap}")
        for entry in trace.entries:
            inside = entry.at >= begin and (end is None or entry.at <= end)
            restart = entry.kind == "cmd" and entry.name == "start"
            restart = restart or (entry.kind == "mark" and entry.name == "console_start")
            if inside and restart:
                state = trace.belt_at(entry.at + timedelta(microseconds=1))
                if state is not None and state.target is not None and state.target > cap + EPS:
                    raise _fail(trace, "rule 3", entry.at, f"restart at target {state.target}")
    capped = trace.first_backward
    for entry in trace.entries:
        if entry.kind == "event":
            event = entry.value
            to = event.data.get("to") or event.data.get("direction")
            if (
                event.type in (CueType.SLOW_DOWN, CueType.WAIT_AT_TURN, CueType.MOUNT)
                or event.type is CueType.TURN_NOW
            ):
                capped = True
            elif event.type is EventType.DIRECTION_CHANGED:
                capped = to == "backward"
            elif event.type is EventType.INTERVAL_STARTED:
                capped = event.data.get("direction") == "backward"
            if event.type is CueType.MOUNT and to != "backward":
                capped = False
        elif entry.kind == "cmd" and entry.name == "set_speed" and capped:
            if entry.value > cap + EPS:
                raise _fail(trace, "rule 3", entry.at, f"set_speed {entry.value} > cap {cap}")


# ----- rule 4: one thing at a time ----------------------------------------------------------


def raises(trace: RuleTrace) -> tuple[list[datetime], list[datetime]]:
    """Return when the belt's speed and its incline were raised (true targets).

    A speed raise: the stored target goes up while the belt runs, or the belt starts.
    An incline raise: the true incline starts going up (the fake moves it at once; the
    simulator's motor moves it over seconds: one raise, timed from its first motion, as
    a speed raise is timed from its target, not from when the belt reaches it).
    """
    speed: list[datetime] = []
    incline: list[datetime] = []
    previous: Belt | None = None
    rising: datetime | None = None  # when the deck last rose
    for state in trace.belt:
        if previous is not None:
            started = state.running and not previous.running
            higher = (
                state.running
                and state.target is not None
                and previous.target is not None
                and state.target > previous.target + EPS
            )
            if started or higher:
                speed.append(state.at)
            up = (
                state.incline is not None
                and previous.incline is not None
                and state.incline > previous.incline + EPS
            )
            if up:
                # Samples closer than the motor's steps show it still now and then: a rise
                # within 2 s of the last one is the same raise.
                if rising is None or (state.at - rising).total_seconds() > 2.0:
                    incline.append(_raised_at(trace, previous.at, state.at))
                rising = state.at
        previous = state
    return speed, incline


def _raised_at(trace: RuleTrace, before: datetime, seen: datetime) -> datetime:
    """Return when a deck rise first seen at `seen` began.

    That is the set_incline that caused it (written since the sample before), as a speed
    raise is timed from its command; else when it was seen (the console's).
    """
    written = [
        c.at
        for c in trace.commands
        if c.name == "set_incline" and before - timedelta(seconds=1) <= c.at <= seen
    ]
    return written[-1] if written else seen


def check_stagger(trace: RuleTrace) -> None:
    """Rule 4: a speed raise and an incline raise are never within 3 s of each other.

    On the belt's true targets, from any source; only a pair both made by the person on
    the console is theirs to make. Also on the commands: a raising set_speed (or start)
    and a raising set_incline are never written within 3 s of each other.
    """
    speed, incline = raises(trace)
    console = [m.at for m in trace.marks("console_speed", "console_incline", "console_start")]

    def by_person(moment: datetime) -> bool:
        return moment in console

    for s in speed:
        for i in incline:
            if abs((s - i).total_seconds()) < STAGGER_S - 1e-3:
                if not (by_person(s) and by_person(i)):
                    raise _fail(trace, "rule 4", max(s, i), "speed and incline raised < 3 s")
    written_speed: list[datetime] = []
    written_incline: list[datetime] = []
    for entry in trace.commands:
        before = entry.belt
        if entry.name == "start":
            written_speed.append(entry.at)
        elif entry.name == "set_speed" and before is not None and before.running:
            if before.target is None or entry.value > before.target + EPS:
                written_speed.append(entry.at)
        elif entry.name == "set_incline" and before is not None:
            if before.incline is None or entry.value > before.incline + EPS:
                written_incline.append(entry.at)
    for s in written_speed:
        for i in written_incline:
            if abs((s - i).total_seconds()) < STAGGER_S - 1e-3:
                raise _fail(trace, "rule 4", max(s, i), "raises written < 3 s apart")


# ----- rule 5: half squat -------------------------------------------------------------------


def check_half_squat(trace: RuleTrace) -> None:
    """Rule 5: a half-squat segment follows a knee warning, lasts <= 60 s, has no distance."""
    warned = False
    for event in trace.events:
        if event.type is CueType.KNEE_WARNING:
            warned = True
        elif event.type is EventType.INTERVAL_STARTED:
            if str(event.data.get("label_key", "")).endswith("half_squat") and not warned:
                raise _fail(trace, "rule 5", event.at, "half squat without a knee warning")
            warned = False
    for session in trace.sessions:
        for segment in session.segments:
            if segment.label_key.endswith("half_squat"):
                if segment.actual_duration_s > 60 + 1e-6 or segment.planned_distance_m:
                    raise _fail(trace, "rule 5", None, f"half squat segment {segment}")


# ----- rules 6, 7 and 9: nothing moves by itself, stop wins, starting a belt -----------------


def _lowering(entry: Entry, trace: RuleTrace, capped: bool) -> bool:
    """Return whether a set_speed only lowers the belt's true stored target.

    A set_speed at or below the cap while the cap applies secures the stored target
    (rule 3 asks for it) when the target is not known to be lower: that is allowed too.
    """
    if entry.name != "set_speed":
        return False
    before = entry.belt
    target = before.target if before is not None else None
    if target is not None and entry.value <= target + EPS:
        return True
    # No stored target (a fresh machine, or a stop that cleared it): setting one at or
    # below the cap is what rule 3 asks before the person faces backward.
    no_target = target is None or target <= EPS
    return capped and no_target and entry.value <= trace.cap + EPS


def _raising(entry: Entry) -> bool:
    """Return whether a set_speed or set_incline may raise the belt's true target."""
    before = entry.belt
    if before is None or entry.value is None:
        return True
    now = before.target if entry.name == "set_speed" else before.incline
    return now is None or entry.value > now + EPS


def check_stop_latch(trace: RuleTrace) -> None:
    """Rule 7 (stop wins, the latch) and rule 6 (nothing moves by itself).

    - engine.stop on a machine that takes commands writes a stop at once (the first
      command after it); a manual machine is told "stop the belt now" instead.
    - After a stop (ours, the console's, the safety key, or the one a completion
      writes), every command until a person's start, confirm, resume or console start is
      stop, pause, request_control, or a set_speed that lowers the stored target.
    - After the link drops, after a pause (programme_paused) or an abort, the same holds
      until the person acts: a reconnect only re-requests control.
    - The belt's true state never goes from resting to running without a start written
      or the console's start (speed commands never start it).
    """
    latched = False
    blocked = False
    pending_stop: Entry | None = None
    capped = trace.first_backward
    asked: list[tuple[str, float]] = []  # a person's own manual commands not yet written
    for entry in trace.entries:
        if entry.kind == "mark":
            if entry.name == "manual" and entry.value[1] == "person":
                asked.append((entry.value[0], entry.value[2]))
            if entry.name in PERSON_MARKS:
                latched = blocked = False
            elif entry.name in STOP_MARKS:
                latched = True
                if entry.name == "stop":
                    pending_stop = entry
            elif entry.name == "drop_link":
                blocked = True
        elif entry.kind == "event":
            kind = entry.value.type
            if kind in (EventType.PROGRAMME_PAUSED, EventType.PROGRAMME_ABORTED):
                blocked = True
            elif kind is CueType.STOP_THE_BELT and pending_stop is not None:
                if not trace.controllable:
                    pending_stop = None
            to = entry.value.data.get("to") or entry.value.data.get("direction")
            if kind in (CueType.SLOW_DOWN, CueType.WAIT_AT_TURN, CueType.MOUNT, CueType.TURN_NOW):
                capped = kind is not CueType.MOUNT or to == "backward"
            elif kind in (EventType.DIRECTION_CHANGED, EventType.INTERVAL_STARTED):
                capped = to == "backward"
        elif entry.kind == "cmd":
            if pending_stop is not None:
                if entry.name not in {"stop", "request_control"}:
                    raise _fail(trace, "rule 7", entry.at, f"{entry.name} written before stop")
                if entry.name == "stop":
                    if entry.at != pending_stop.at:
                        raise _fail(trace, "rule 7", entry.at, "stop not written at once")
                    pending_stop = None
            if entry.name == "stop":
                latched = True
                continue
            key = (entry.name, entry.value)
            own = key in asked
            if own:
                asked.remove(key)
            if (latched or blocked) and entry.name not in HALTS:
                running = entry.belt is not None and entry.belt.running
                if blocked and not latched and own and (running or not _raising(entry)):
                    # Rule 6 is about the integration moving the belt by itself: a
                    # person's own change that raises nothing starts nothing, and one
                    # on a belt that runs (an advisory programme's pause leaves it to
                    # them, rule 10) is their choice, not a start.
                    continue
                if not _lowering(entry, trace, capped):
                    rule = "rule 7 (stop latch)" if latched else "rule 6 (nothing moves)"
                    raise _fail(trace, rule, entry.at, f"{entry.name} {entry.value}")
    if pending_stop is not None and trace.controllable:
        raise _fail(trace, "rule 7", pending_stop.at, "stop never written")
    _check_nothing_starts_alone(trace)
    _check_no_raise_at_rest(trace)


def _check_no_raise_at_rest(trace: RuleTrace) -> None:
    """Check that a set_speed to a resting belt only lowers its stored target.

    Except the speed a released start sends just before START (the next command
    written), and the stored target secured at or below the cap (rule 3).
    """
    commands = trace.commands
    capped = trace.first_backward
    events = iter([e for e in trace.entries if e.kind == "event"])
    pending = next(events, None)
    for index, entry in enumerate(commands):
        while pending is not None and pending.at <= entry.at:
            kind = pending.value.type
            to = pending.value.data.get("to") or pending.value.data.get("direction")
            if kind in (CueType.SLOW_DOWN, CueType.WAIT_AT_TURN, CueType.TURN_NOW):
                capped = True
            elif kind is CueType.MOUNT or kind in (
                EventType.DIRECTION_CHANGED,
                EventType.INTERVAL_STARTED,
            ):
                capped = to == "backward"
            pending = next(events, None)
        if entry.name != "set_speed" or entry.belt is None or entry.belt.running:
            continue
        following = commands[index + 1] if index + 1 < len(commands) else None
        if following is not None and following.name == "start":
            continue
        if _start_failed_after(trace, entry) or _released_start(trace, entry):
            continue  # the released start's own speed; the start itself never got out
        if not _lowering(entry, trace, capped):
            raise _fail(
                trace,
                "rule 9 (at rest)",
                entry.at,
                f"set_speed {entry.value} raises a resting belt's target {entry.belt.target}",
            )


def _check_nothing_starts_alone(trace: RuleTrace) -> None:
    """Check the belt goes from rest to running only on a start written or a console start."""
    starts = {e.at for e in trace.commands if e.name == "start"}
    starts |= {m.at for m in trace.marks("console_start")}
    previous: Belt | None = None
    for state in trace.belt:
        if previous is not None and state.running and not previous.running:
            if state.at not in starts:
                raise _fail(trace, "rule 9", state.at, "the belt started by itself")
        previous = state


def check_countdown(trace: RuleTrace) -> None:
    """Rule 9 on every start written.

    - It follows a countdown of start_countdown seconds with its ticks 3, 2, 1 that no
      stop, pause or abort interrupted.
    - A speaker worked for the whole countdown (nobody hears a countdown otherwise: with
      no working speaker Home Assistant never starts the belt itself).
    - After a wait for the person (waiting_for_person), only the person's confirmation
      (a confirm or console start mark) lets a countdown begin, and the wait gives up
      after 10 minutes (aborted "no_person"), never earlier.
    """
    countdown: Entry | None = None
    ticks: list[int] = []
    waiting: Entry | None = None
    # Whether a speaker works now, in the trace's order (marks at the same instant as a
    # cue count before or after it as they came), and whether every countdown cue so far
    # was said while one worked.
    speaker_now = trace.speaker
    heard = True
    for entry in trace.entries:
        if entry.kind == "mark":
            if entry.name in ("speaker_off", "speaker_on"):
                speaker_now = entry.name == "speaker_on"
            if entry.name in STOP_MARKS:
                countdown = None
            if entry.name in ("confirm", "console_start"):
                waiting = None
        elif entry.kind == "event":
            event = entry.value
            if event.type is CueType.WAITING_FOR_PERSON:
                waiting = entry
                countdown = None
            elif event.type is CueType.COUNTDOWN:
                if waiting is not None:
                    raise _fail(trace, "rule 9", entry.at, "countdown without the person")
                countdown, ticks, heard = entry, [], speaker_now
            elif event.type is CueType.COUNTDOWN_TICK:
                ticks.append(event.data["seconds"])
                heard = heard and speaker_now
            elif event.type in (EventType.PROGRAMME_PAUSED, EventType.PROGRAMME_ABORTED):
                if event.type is EventType.PROGRAMME_ABORTED and waiting is not None:
                    waited = (entry.at - waiting.at).total_seconds()
                    if event.data.get("reason") == "no_person" and waited < WAIT_FOR_PERSON_S:
                        raise _fail(trace, "rule 9", entry.at, f"gave up after {waited} s")
                countdown = None
                waiting = None
            elif event.type in (EventType.PROGRAMME_COMPLETED,):
                waiting = None
        elif entry.kind == "cmd":
            if entry.name == "stop":
                countdown = None
            if waiting is not None:
                waited = (entry.at - waiting.at).total_seconds()
                if waited > WAIT_FOR_PERSON_S + 1.0:
                    raise _fail(trace, "rule 9", entry.at, "waited longer than 10 minutes")
            if entry.name != "start":
                continue
            if countdown is None:
                raise _fail(trace, "rule 9", entry.at, "start without a countdown")
            waited = (entry.at - countdown.at).total_seconds()
            if waited < trace.options.start_countdown - EPS:
                raise _fail(trace, "rule 9", entry.at, f"countdown of {waited} s only")
            if ticks != [3, 2, 1]:
                raise _fail(trace, "rule 9", entry.at, f"countdown ticks {ticks}")
            if not (heard and speaker_now):
                # The countdown is spoken: its cue and every tick said while a speaker
                # worked, and one still works at the start.
                raise _fail(trace, "rule 9", entry.at, "started with no working speaker")
            countdown = None
    _check_wait_gives_up(trace)


def _check_wait_gives_up(trace: RuleTrace) -> None:
    """Rule 9: a wait nobody answers ends (aborted) 10 minutes after it began."""
    entries = trace.entries
    for index, entry in enumerate(entries):
        if not _is(entry, CueType.WAITING_FOR_PERSON):
            continue
        deadline = entry.at + timedelta(seconds=WAIT_FOR_PERSON_S + 1.0)
        answered = False
        for later in entries[index + 1 :]:
            if later.kind == "mark" and later.name in ("confirm", "console_start", "stop"):
                answered = True
                break
            if _is(later, EventType.PROGRAMME_ABORTED, EventType.PROGRAMME_COMPLETED):
                answered = True
                break
            if later.at > deadline:
                break
        last = entries[-1].at
        if not answered and last > deadline:
            raise _fail(trace, "rule 9", entry.at, "the wait never gave up")


# ----- rule 10: advisory ----------------------------------------------------------------------


def check_advisory(trace: RuleTrace) -> None:
    """Rule 10 and rule 7.

    Without remote control (or on a manual machine) nothing but stop is ever written.
    After the programme switched to advisory mode (console change, control taken back),
    the programme writes nothing but stop: a command written then must be a person's or
    an automation's own manual set_speed/set_incline (matched to its mark), or, while the
    deck's target is still the programme's (no console incline, control not taken back),
    a set_incline holding a deck still climbing as a turn begins (rule 1). Speed and
    incline cues in advisory mode say so (advisory=True).
    """
    manual: list[tuple[str, float]] = []
    advisory = not trace.remote_control
    deck_is_ours = True  # the incline target is still the programme's (rule 1's hold)
    turn_began: datetime | None = None  # a hold goes out as a turn begins, not later
    for entry in trace.entries:
        if entry.kind == "mark" and entry.name == "manual":
            verb, _origin, value = entry.value
            manual.append((verb, value))
            deck_is_ours = deck_is_ours and verb != "set_incline"
        elif entry.kind == "mark" and entry.name in ("console_incline", "control_lost"):
            deck_is_ours = False
        elif entry.kind == "event":
            event = entry.value
            if event.type is CueType.SLOW_DOWN:
                turn_began = entry.at
            elif event.type is EventType.DIRECTION_CHANGED:
                turn_began = None
            if event.type is CueType.ADVISORY_MODE:
                advisory = True
            elif event.type is EventType.PROGRAMME_STARTED:
                advisory = not trace.remote_control
            elif event.type in (CueType.SPEED_CHANGE, CueType.INCLINE_CHANGE) and advisory:
                if event.data.get("advisory") is not True:
                    raise _fail(trace, "rule 10", entry.at, "advisory cue not advisory")
        elif entry.kind == "cmd" and advisory and entry.name not in ("stop", "request_control"):
            key = (entry.name, entry.value)
            if trace.remote_control and key in manual:
                manual.remove(key)
                continue
            begun = turn_began is not None and entry.at - turn_began <= timedelta(seconds=1)
            if entry.name == "set_incline" and begun and deck_is_ours and _holds_the_deck(entry):
                continue  # rule 1: our own raise still climbing is held as a turn begins
            raise _fail(trace, "rule 10", entry.at, f"{entry.name} written in advisory mode")


def _holds_the_deck(entry: Entry) -> bool:
    """Return whether a set_incline keeps the deck where it is (at or below it), no more."""
    belt = entry.belt
    return (
        belt is not None
        and belt.incline is not None
        and entry.value is not None
        and entry.value <= belt.incline + MEASURED_INCLINE
    )


# ----- rule 8: bounded ------------------------------------------------------------------------


def check_bounded(trace: RuleTrace) -> None:
    """Rule 8: bounded.

    "distance estimated" is said at most once; no distance segment of a session lasts
    longer than its distance at half its speed (the compiled max_duration) plus 2 s.
    """
    if sum(1 for e in trace.events if e.type is CueType.DISTANCE_ESTIMATED) > 1:
        raise _fail(trace, "rule 8", None, "distance_estimated said more than once")
    for session in trace.sessions:
        for segment in session.segments:
            distance = getattr(segment, "planned_distance_m", None)
            speed = getattr(segment, "planned_speed", None)
            if not distance or not speed:
                continue
            limit = trace.distance_limits.get(segment.index)
            if limit is None:
                limit = distance / (max(speed, 0.1) / 2 / 3.6)
            if segment.actual_duration_s > limit + 2.0:
                raise _fail(trace, "rule 8", None, f"segment {segment} over {limit:.0f} s")


# ----- rule 11 and the record -----------------------------------------------------------------


def check_leaving(trace: RuleTrace) -> None:
    """Rule 11 and the end of a programme (rule 7).

    - After a shutdown only a lowering set_speed (at or below turn_speed), pause and stop
      are written; the session is recorded aborted with the reason; the abort says whether
      the person must slow and stop the belt (advisory) or the belt does.
    - When it could command (remote control, not advisory, link up throughout) and the
      belt ran, a pause is written even if the slow-down failed, and the belt ends at
      rest (its true state).
    - A completed programme writes a stop whenever a link exists, and the belt ends at
      rest; in advisory mode (or manual) it says "stop the belt".
    """
    shutdown = trace.marks("shutdown")
    links = trace.marks("drop_link", "reconnect")
    if shutdown:
        at = shutdown[0].at
        after = [c for c in trace.commands if c.at >= at]
        for command in after:
            lowering = (
                command.name == "set_speed"
                and command.value
                <= max(
                    trace.options.turn_speed, (command.belt.target or 0.0) if command.belt else 0.0
                )
                + EPS
            )
            # A stop is always allowed (rule 7: from every surface, at any time), here the
            # stop a person or an automation asks after Home Assistant came back.
            if command.name not in ("pause", "stop", "request_control") and not lowering:
                raise _fail(trace, "rule 11", command.at, f"{command.name} after shutdown")
        aborted = [e for e in trace.events if e.type is EventType.PROGRAMME_ABORTED]
        if not aborted or aborted[-1].data.get("reason") != trace.shutdown_reason:
            raise _fail(trace, "rule 11", at, "shutdown not recorded as aborted")
        if trace.sessions and trace.sessions[-1].reason != trace.shutdown_reason:
            raise _fail(trace, "rule 11", at, "session reason")
        said_advisory = aborted[-1].data.get("advisory")
        before = trace.belt_at(at)
        advisory_now = any(e.type is CueType.ADVISORY_MODE for e in trace.events)
        link_ok = _link_up(trace, at) and not [m for m in links if m.at >= at]
        could = trace.remote_control and not advisory_now and link_ok
        if could and before is not None and before.running:
            if said_advisory:
                raise _fail(trace, "rule 11", at, "said advisory though it could pause")
            if not any(c.name == "pause" for c in after):
                raise _fail(trace, "rule 11", at, "shutdown wrote no pause")
            end = trace.belt[-1]
            if end.running and not _pause_lost(trace, at):
                raise _fail(trace, "rule 11", end.at, "shutdown left the belt running")
        elif before is not None and before.running and not said_advisory:
            raise _fail(trace, "rule 11", at, "belt left running without telling the person")
    for event in trace.events:
        if event.type is not EventType.PROGRAMME_COMPLETED:
            continue
        stops = [c for c in trace.commands if c.name == "stop" and c.at >= event.at]
        if trace.controllable and _link_up(trace, event.at) and not stops:
            raise _fail(trace, "rule 7", event.at, "completed without a stop")
        advisory = not trace.remote_control or any(
            e.type is CueType.ADVISORY_MODE and e.at <= event.at for e in trace.events
        )
        if advisory and not any(
            e.type is CueType.STOP_THE_BELT and e.at >= event.at for e in trace.events
        ):
            raise _fail(trace, "rule 7", event.at, "advisory completion without 'stop the belt'")
        person_started = [m for m in trace.marks("console_start") if m.at >= event.at]
        if trace.remote_control and not advisory and _link_up(trace, event.at) and not links:
            end = trace.belt[-1]
            if end.running and not person_started:  # the person's own start after it
                raise _fail(trace, "rule 7", end.at, "completed, the belt still runs")


def _link_up(trace: RuleTrace, moment: datetime) -> bool:
    """Return whether the link was up at a moment (by the link marks and the engine's word).

    A link dropped in the middle of a command ("drop_link_during") shows as the engine's
    pause for "disconnected"; only a reconnect mark brings it back.
    """
    up = True
    for entry in trace.entries:
        if entry.at > moment:
            break
        if entry.kind == "mark" and entry.name in ("drop_link", "reconnect"):
            up = entry.name == "reconnect"
        elif (
            entry.kind == "event"
            and entry.value.type is EventType.PROGRAMME_PAUSED
            and entry.value.data.get("reason") == "disconnected"
        ):
            up = False
    return up


def _pause_lost(trace: RuleTrace, since: datetime) -> bool:
    """Return whether a fault may have swallowed the pause (a command failure mark)."""
    return any(m.at >= since or m.name == "command_fail" for m in trace.marks("command_fail"))


def check_heard_when_said(trace: RuleTrace) -> None:
    """Rule 2: the speakers hear a safety cue the moment the engine says it, never later.

    Listeners may be told on the next loop pass (the same virtual instant), and what a
    countdown's end says waits for its START; a turn cue waiting so would shorten its lead.
    """
    for line in trace.heard_late:
        raise _fail(trace, "rule 2 (heard late)", None, line)


def check_errors(trace: RuleTrace) -> None:
    """Check no command the programme itself generated was refused by the interlock."""
    for line in trace.errors:
        if REFUSED_OWN in line:
            raise _fail(trace, "interlock", None, line)


CHECKS: tuple[Callable[[RuleTrace], None], ...] = (
    check_turns,
    check_backward_cap,
    check_stagger,
    check_half_squat,
    check_stop_latch,
    check_countdown,
    check_advisory,
    check_bounded,
    check_leaving,
    check_heard_when_said,
    check_errors,
)


def check_all(trace: RuleTrace, checks: tuple[Callable[[RuleTrace], None], ...] = CHECKS) -> None:
    """Run every check; a failure carries the whole trace."""
    for check in checks:
        try:
            check(trace)
        except RuleBroken as err:
            raise RuleBroken(f"{err}\n--- trace ---\n{trace.render()}") from None


def _start_failed_after(trace: RuleTrace, command: Entry) -> bool:
    """Return whether the engine said a start failed before anything else was written.

    The set_speed a released start sends just before START, when that set_speed or the
    START is refused, fails or times out (its reply may come late): the engine reports
    the start as failed and START is never written.
    """
    after = False
    for entry in trace.entries:
        if entry is command:
            after = True
        elif not after:
            continue
        elif entry.kind == "cmd":
            return False
        elif (
            entry.kind == "event"
            and entry.value.type is CueType.COMMAND_FAILED
            and entry.value.data.get("command") == "start"
        ):
            return True
    return False


_ENDS_A_COUNTDOWN = {"mark": STOP_MARKS, "cmd": frozenset({"start", "stop", "pause"})}


def _released_start(trace: RuleTrace, command: Entry) -> bool:
    """Return whether a set_speed at rest is the one a start sends once its countdown ran.

    The interlock lets it pass (its docstring); a pause, a stop or a failure may then
    keep START from being written: the belt stays at rest with its target set.
    """
    countdown: EngineEvent | None = None
    for entry in trace.entries:
        if entry is command:
            break
        if entry.kind == "event":
            kind = entry.value.type
            if kind is CueType.COUNTDOWN:
                countdown = entry.value
            elif kind in (EventType.PROGRAMME_PAUSED, EventType.PROGRAMME_ABORTED):
                countdown = None
        elif entry.name in _ENDS_A_COUNTDOWN.get(entry.kind, ()):
            countdown = None
    if countdown is None:
        return False
    seconds = float(countdown.data.get("seconds", 0))
    return command.at >= countdown.at + timedelta(seconds=seconds) - timedelta(milliseconds=1)
