"""A small fake treadmill on a ManualClock: a belt model, a command log and fault hooks.

By default it is kind: replies come at once and every command does what it says. The
hostile options and fault methods make it behave like real treadmills do: replies come
late, out of order or never, the machine keeps its stored target speed, takes control
back, freezes or resets its distance counter, and drops the link in the middle of a
command. `belt_trace` records the belt's true state so property checks can judge the
safety rules on what the belt really did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import heapq
from typing import Any, NamedTuple

from custom_components.treadreverse.treadmill.base import (
    Capabilities,
    CommandError,
    CommandFailure,
    DataField,
    LiveData,
    MachineEvent,
    MachineEventType,
    Range,
    Treadmill,
)
from custom_components.treadreverse.treadmill.clock import Cancel, ManualClock, settle

CAPS = Capabilities(
    controllable=True,
    speed=Range(0.5, 16.0, 0.1),
    incline=Range(0.0, 15.0, 0.5),
    fields=frozenset({DataField.SPEED, DataField.INCLINE, DataField.DISTANCE}),
)
MANUAL_CAPS = Capabilities(controllable=False)

REPLY_TIMEOUT = 5.0  # s: a reply that has not come by then is a timeout (as the client)
HALTS = frozenset({"stop", "pause"})  # the only commands that may ask for control again


@dataclass(frozen=True, slots=True)
class Command:
    """One command as the fake received it."""

    at: datetime
    name: str
    value: float | None = None


class BeltState(NamedTuple):
    """The belt's true state at one moment (a physics update, a command or a fault)."""

    at: datetime
    speed: float
    incline: float
    running: bool
    target: float


@dataclass(slots=True)
class _Reply:
    """A reply the caller is waiting for."""

    name: str
    written: datetime
    future: asyncio.Future[None]
    failure: CommandFailure | None = None  # what the reply says (None: confirmed)
    drop_link: bool = False  # the link drops instead of the reply coming
    delay: float | None = 0.0  # s after the write that the reply comes (None: never)
    follower: _Reply | None = None  # a reordered reply delivered right after this one
    cancels: list[Cancel] = field(default_factory=list)


class FastClock(ManualClock):
    """A ManualClock that lets tasks run 4 loop rounds per callback instead of 20."""

    # The engine's command tasks finish within two rounds against the fake; the shorter
    # settle keeps the property tests fast.

    rounds = 4

    async def advance(self, seconds: float) -> None:
        """Move time forward, running due callbacks in order."""
        target = self._now + timedelta(seconds=seconds)
        await settle(self.rounds)
        while self._heap and self._heap[0][0] <= target:
            when, ident, callback = heapq.heappop(self._heap)
            if ident in self._cancelled:
                self._cancelled.discard(ident)
                continue
            self._now = max(self._now, when)
            callback()
            await settle(self.rounds)
        self._now = target
        await settle(self.rounds)


class FakeTreadmill(Treadmill):
    """A belt that speeds up and slows down at set rates and reports at 1 Hz."""

    def __init__(
        self,
        clock: ManualClock,
        capabilities: Capabilities = CAPS,
        *,
        acceleration: float = 1.0,
        deceleration: float = 1.5,
        latency: float = 0.0,
        reply_latency: float = 0.0,
        apply_delay: float = 0.0,
        reply_timeout: float = REPLY_TIMEOUT,
        stop_keeps_target: bool = False,
    ) -> None:
        """Start stopped and connected.

        `latency` (legacy): yield to the loop once before replying. `reply_latency`: the
        caller's await returns this long (virtual time) after the write. `apply_delay`:
        the effect lands this long after the write. `reply_timeout`: a reply later than
        this raises TIMEOUT then. `stop_keeps_target`: a stop keeps the stored target.
        """
        super().__init__()
        self.clock = clock
        self._caps = capabilities
        self.acceleration = acceleration
        self.deceleration = deceleration
        self.latency = latency
        self.reply_latency = reply_latency
        self.apply_delay = apply_delay
        self.reply_timeout = reply_timeout
        self.stop_keeps_target = stop_keeps_target
        self.log: list[Command] = []
        self.marks: list[tuple[datetime, str]] = []
        # Commands, marks and (from the rig) engine events in the order they happened.
        self.trace: list[tuple[str, Any]] = []
        self.history: list[tuple[datetime, float]] = []
        self.belt_trace: list[BeltState] = []
        # Replies as the caller got them: (time, command, failure or None).
        self.replies: list[tuple[datetime, str, CommandFailure | None]] = []
        # Fault injections and console actions: (time, what).
        self.faults: list[tuple[datetime, str]] = []
        # request_control() calls and the control a stop or pause asked again for.
        self.control_requests: list[tuple[datetime, str]] = []
        self.speed = 0.0
        self.target = 0.0
        self.incline = 0.0
        self.distance = 0.0  # true metres on the belt
        self.reported_distance = 0.0  # the machine's counter (may freeze or reset)
        self.distance_frozen = False
        self.running = False
        self.link = True
        self.taken_back = False
        self.failures: dict[str, CommandFailure] = {}
        self._lost: dict[str, int] = {}
        self._late: dict[str, list[float]] = {}
        self._drops: dict[str, bool] = {}
        self._reorder = False
        self._held: _Reply | None = None
        self._pending: list[_Reply] = []
        self._updated = clock.now()
        self._cancel: Cancel | None = None
        self.reports = DataField.SPEED in capabilities.fields
        if capabilities.controllable:
            self._tick()

    @property
    def capabilities(self) -> Capabilities:
        """Return the configured capabilities."""
        return self._caps

    @property
    def connected(self) -> bool:
        """Return whether the fake link is up."""
        return self.link

    @property
    def control_taken_back(self) -> bool:
        """Return whether the machine took control back and nobody asked for it since."""
        return self.taken_back

    async def connect(self) -> None:
        """Bring the link up."""
        self.reconnect()

    async def disconnect(self) -> None:
        """Let go of the link."""
        self.link = False
        self._fail_pending(CommandFailure.DISCONNECTED)

    def close(self) -> None:
        """Stop reporting."""
        if self._cancel:
            self._cancel()

    # ----- physics ----------------------------------------------------------------

    def physics(self) -> None:
        """Move the belt from the last update to now."""
        now = self.clock.now()
        seconds = (now - self._updated).total_seconds()
        self._updated = now
        goal = self.target if self.running else 0.0
        before = self.speed
        if goal > self.speed:
            self.speed = min(goal, self.speed + self.acceleration * seconds)
        else:
            self.speed = max(goal, self.speed - self.deceleration * seconds)
        moved = (before + self.speed) / 2 / 3.6 * seconds
        self.distance += moved
        if not self.distance_frozen:
            self.reported_distance += moved
        self.history.append((now, self.speed))
        self._snapshot()

    def _snapshot(self) -> None:
        """Record the belt's true state now."""
        self.belt_trace.append(
            BeltState(self.clock.now(), self.speed, self.incline, self.running, self.target)
        )

    def _tick(self) -> None:
        """Report the measurements once a second."""
        self.physics()
        if self.link and self.reports:
            self._publish_data(
                LiveData(
                    speed=round(self.speed, 2),
                    incline=self.incline,
                    distance=round(self.reported_distance, 1),
                )
            )
        self._cancel = self.clock.call_at(self.clock.now() + timedelta(seconds=1), self._tick)

    def _resume_target(self) -> None:
        """Start the belt at the stored target; at the minimum only when none is stored."""
        self.running = True
        if self.target <= 0:
            minimum = self._caps.speed.minimum if self._caps.speed else 0.5
            self.target = minimum

    # ----- commands ---------------------------------------------------------------

    async def _command(
        self, name: str, value: float | None = None, effect: Callable[[], None] | None = None
    ) -> None:
        """Log a command, fail it or apply its effect at the write, then await the reply."""
        self.physics()
        command = Command(self.clock.now(), name, value)
        if name == "request_control":
            self.control_requests.append((command.at, name))
        else:
            self.log.append(command)
        self.trace.append(("cmd", command))
        if not self.link:
            self._replied(name, CommandFailure.DISCONNECTED)
            raise CommandError(name, CommandFailure.DISCONNECTED)
        if self.taken_back and name not in HALTS and name != "request_control":
            # The console has control: refused without a write (rule 10).
            self._replied(name, CommandFailure.CONTROL_NOT_PERMITTED)
            raise CommandError(name, CommandFailure.CONTROL_NOT_PERMITTED)
        if self.taken_back and name in HALTS:
            self.control_requests.append((command.at, name))  # asked again, granted
        refused = self.failures.pop(name, None)
        drop = self._drops.pop(name, None)
        if effect is not None and refused is None and (drop is None or drop):
            self._apply(effect)
        await self._await_reply(name, refused, drop is not None)

    def _apply(self, effect: Callable[[], None]) -> None:
        """Apply an effect now or after the apply delay."""

        def land() -> None:
            self.physics()
            effect()
            self._snapshot()

        if self.apply_delay > 0:
            self.clock.call_at(self.clock.now() + timedelta(seconds=self.apply_delay), land)
        else:
            land()

    def _reply_delay(self, name: str) -> float | None:
        """Return when this command's reply comes, or None when it never does."""
        if self._lost.get(name, 0) > 0:
            self._lost[name] -= 1
            return None
        late = self._late.get(name)
        if late:
            return late.pop(0)
        return self.reply_latency

    async def _await_reply(self, name: str, failure: CommandFailure | None, drop: bool) -> None:
        """Wait for the reply the way the hostile options say."""
        delay = self._reply_delay(name)
        if delay == 0 and not self._reorder and self._held is None:
            if drop:
                await asyncio.sleep(0)  # the caller is awaiting when the link drops
                self.drop_link()
                self._replied(name, CommandFailure.DISCONNECTED)
                raise CommandError(name, CommandFailure.DISCONNECTED)
            if self.latency:
                await asyncio.sleep(0)
            self._replied(name, failure)
            if failure is not None:
                raise CommandError(name, failure)
            self.physics()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        reply = _Reply(name, self.clock.now(), future, failure, drop, delay)
        self._pending.append(reply)
        reply.cancels.append(
            self.clock.call_at(
                reply.written + timedelta(seconds=self.reply_timeout),
                lambda: self._resolve(reply, CommandFailure.TIMEOUT),
            )
        )
        if self._reorder:
            self._reorder = False
            self._held = reply  # delivered only after the next command's reply
        else:
            if self._held is not None:
                reply.follower, self._held = self._held, None
            self._schedule(reply)
        try:
            await future
        finally:
            for cancel in reply.cancels:
                cancel()
            self._hand_off(reply)
            if reply in self._pending:
                self._pending.remove(reply)
            if self._held is reply:
                self._held = None
        self.physics()

    def _schedule(self, reply: _Reply) -> None:
        """Deliver a reply its delay after its write (at once when due; never if lost)."""
        if reply.delay is None or reply.future.done():
            return
        due = reply.written + timedelta(seconds=reply.delay)
        if due <= self.clock.now():
            self._deliver(reply)
        else:
            reply.cancels.append(self.clock.call_at(due, lambda: self._deliver(reply)))

    def _deliver(self, reply: _Reply) -> None:
        """Deliver the reply (or drop the link instead); a held one follows."""
        if reply.drop_link and not reply.future.done():
            self.drop_link()
        else:
            self._resolve(reply, reply.failure)

    def _hand_off(self, reply: _Reply) -> None:
        """Let a reply held back behind this one come (once its own delay has passed)."""
        if reply.follower is not None:
            follower, reply.follower = reply.follower, None
            self._schedule(follower)

    def _resolve(self, reply: _Reply, failure: CommandFailure | None) -> None:
        """Hand the caller its reply (once)."""
        if reply.future.done():
            return
        self._replied(reply.name, failure)
        if failure is None:
            reply.future.set_result(None)
        else:
            reply.future.set_exception(CommandError(reply.name, failure))
        self._hand_off(reply)

    def _replied(self, name: str, failure: CommandFailure | None) -> None:
        """Record a reply as the caller gets it."""
        self.replies.append((self.clock.now(), name, failure))

    def _fail_pending(self, failure: CommandFailure) -> None:
        """Fail every reply still awaited (the link dropped them)."""
        self._held = None
        for reply in list(self._pending):
            reply.follower = None
            self._resolve(reply, failure)

    async def start(self) -> None:
        """Start the belt at its stored target (the minimum when none is stored)."""
        await self._command("start", effect=self._resume_target)

    async def pause(self) -> None:
        """Pause the belt; the stored target stays."""
        await self._command("pause", effect=self._halt)

    async def stop(self) -> None:
        """Stop the belt; the stored target goes to 0 unless `stop_keeps_target`."""

        def effect() -> None:
            self.running = False
            if not self.stop_keeps_target:
                self.target = 0.0

        await self._command("stop", effect=effect)

    async def set_speed(self, speed: float) -> None:
        """Set the target; never starts the belt (paused or stopped: only stored)."""

        def effect() -> None:
            self.target = speed

        await self._command("set_speed", speed, effect)

    async def set_incline(self, incline: float) -> None:
        """Set the incline (instantly)."""

        def effect() -> None:
            self.incline = incline

        await self._command("set_incline", incline, effect)

    async def request_control(self) -> None:
        """Ask for control again; ends the taken-back state (not in `log`, in `trace`)."""

        def effect() -> None:
            self.taken_back = False

        await self._command("request_control", effect=effect)

    def _halt(self) -> None:
        """Let the belt run down."""
        self.running = False

    # ----- faults -----------------------------------------------------------------

    def mark(self, label: str) -> None:
        """Note a moment in the log (e.g. when stop() was called)."""
        self.marks.append((self.clock.now(), label))
        self.trace.append(("mark", (self.clock.now(), label)))

    def _fault(self, what: str) -> None:
        """Record a fault or console action with the belt's state after it."""
        self.faults.append((self.clock.now(), what))
        self._snapshot()

    def lose_reply(self, name: str, times: int = 1) -> None:
        """Lose the reply of the next `times` commands `name` (their effect still happens)."""
        self._lost[name] = self._lost.get(name, 0) + times
        self._fault(f"lose_reply {name} x{times}")

    def late_reply(self, name: str, seconds: float) -> None:
        """Reply to the next command `name` `seconds` after its write."""
        self._late.setdefault(name, []).append(seconds)
        self._fault(f"late_reply {name} {seconds}s")

    def reorder_next(self) -> None:
        """Deliver the next two in-flight replies in swapped order."""
        self._reorder = True
        self._fault("reorder_next")

    def drop_link_during(self, name: str, *, applied: bool = True) -> None:
        """Drop the link after the next command `name` is written (applied or not)."""
        self._drops[name] = applied
        self._fault(f"drop_link_during {name} applied={applied}")

    def freeze_distance(self, frozen: bool = True) -> None:
        """Stop (or restart) the reported distance counter; the belt still moves."""
        self.physics()
        self.distance_frozen = frozen
        self._fault(f"freeze_distance {frozen}")

    def reset_distance(self) -> None:
        """Reset the machine's distance counter to 0; it counts on from there."""
        self.physics()
        self.reported_distance = 0.0
        self._fault("reset_distance")

    def console_pause(self) -> None:
        """Pause on the console, as the person does."""
        self.physics()
        self.running = False
        self._fault("console_pause")
        self._publish_event(MachineEvent(MachineEventType.PAUSED))

    def console_start(self) -> None:
        """Start on the console, as the person does: at the stored target."""
        self.physics()
        self._resume_target()
        self._fault("console_start")
        self._publish_event(MachineEvent(MachineEventType.STARTED))

    def console_stop(self) -> None:
        """Stop on the console, as the person does (the stored target stays)."""
        self.physics()
        self.running = False
        self._fault("console_stop")
        self._publish_event(MachineEvent(MachineEventType.STOPPED))

    def console_speed(self, speed: float) -> None:
        """Change the speed on the console, as the person does."""
        self.physics()
        self.target = speed
        self._fault(f"console_speed {speed}")
        self._publish_event(MachineEvent(MachineEventType.TARGET_SPEED_CHANGED, speed))

    def console_incline(self, incline: float) -> None:
        """Change the incline on the console, as the person does."""
        self.physics()
        self.incline = incline
        self._fault(f"console_incline {incline}")
        self._publish_event(MachineEvent(MachineEventType.TARGET_INCLINE_CHANGED, incline))

    def safety_key(self) -> None:
        """Pull the safety key: the belt stops."""
        self.physics()
        self.running = False
        self.speed = 0.0
        self.history.append((self.clock.now(), self.speed))
        self._fault("safety_key")
        self._publish_event(MachineEvent(MachineEventType.SAFETY_KEY))

    def control_lost(self) -> None:
        """Take control back: only stop and pause are accepted until request_control()."""
        self.taken_back = True
        self._fault("control_lost")
        self._publish_event(MachineEvent(MachineEventType.CONTROL_LOST))

    def drop_link(self) -> None:
        """Break the link; the belt keeps doing what it did (the console decides)."""
        self.physics()
        self.link = False
        self._fault("drop_link")
        self._fail_pending(CommandFailure.DISCONNECTED)
        self._publish_event(MachineEvent(MachineEventType.DISCONNECTED))

    def reconnect(self) -> None:
        """Bring the link back; nothing moves."""
        self.link = True
        self._fault("reconnect")
        self._publish_event(MachineEvent(MachineEventType.CONNECTED))
