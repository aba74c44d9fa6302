"""The engine's commands room: the belt command queue and its worker, refusals and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from ..treadmill.base import CommandError, CommandFailure
from ..treadmill.clock import sleep_until
from .compiler import STAGGER_S
from .core import _LOGGER, _MOVING, EngineCore
from .events import CueType, Direction, ProgrammeStatus
from .interlock import InterlockError, Origin, Verb


class CommandsMixin(EngineCore):
    """Queue belt commands for the interlock and send them one at a time, in order."""

    def _may_command(self) -> bool:
        """Return whether the engine may move the belt now (not advisory, rule 10)."""
        return self.can_control and not self.advisory

    def _raise_wait(self, verb: Verb) -> float:
        """Return how long a raise must wait for the other kind's raise (rule 4)."""
        run = self._run
        assert run is not None
        wait = self.interlock.raise_wait(verb) if self._may_command() else 0.0
        other = run.incline_raised_at if verb is Verb.SET_SPEED else run.speed_raised_at
        if other is not None:
            passed = (self._clock.now() - other).total_seconds()
            wait = max(wait, STAGGER_S - passed)
        return wait

    def _speed(self, value: float, *, force: bool = False) -> None:
        """Set the target speed: a command, or a spoken instruction in advisory mode."""
        run = self._run
        assert run is not None
        self._accrue()
        rising = value > run.target_speed + 1e-6
        if rising:
            wait = self._raise_wait(Verb.SET_SPEED)
            if wait > 1e-9:
                # Rule 4 at run time too: a manual incline raise came just before.
                later = self._clock.now() + timedelta(seconds=wait)
                self._at(later, lambda: self._speed(value))
                return
            run.speed_raised_at = self._clock.now()
        changed = force or abs(value - run.target_speed) > 1e-6
        run.target_speed = value
        if changed:
            self._command(Verb.SET_SPEED, value)
        self._emit(CueType.SPEED_CHANGE, speed=value, advisory=self.advisory)

    def _incline(self, value: float, *, force: bool = False) -> None:
        """Set the target incline: a command, or a spoken instruction in advisory mode."""
        run = self._run
        assert run is not None
        if self.status is ProgrammeStatus.TURNING:
            return  # never in a turn (rule 1); the next segment sets its own
        rising = run.target_incline is None or value > run.target_incline + 1e-6
        if rising:
            wait = self._raise_wait(Verb.SET_INCLINE)
            if wait > 1e-9:
                later = self._clock.now() + timedelta(seconds=wait)
                self._at(later, lambda: self._incline(value, force=force))
                return
            run.incline_raised_at = self._clock.now()
        changed = force or run.target_incline is None or abs(value - run.target_incline) > 1e-6
        run.target_incline = value
        if changed and self._treadmill.capabilities.incline is not None:
            self._command(Verb.SET_INCLINE, value)
        self._emit(CueType.INCLINE_CHANGE, incline=value, advisory=self.advisory)

    def _command(self, verb: Verb, value: float | None, origin: Origin = Origin.PROGRAMME) -> None:
        """Queue a belt command for the interlock; commands run one at a time, in order."""
        if verb is not Verb.STOP and not self._may_command():
            return
        self._queue.append((verb, value, origin))
        if self._starting_worker:
            return  # the worker being started (eagerly, below us) takes it
        if self._worker is None or self._worker.done():
            self._worker = self._spawn(self._work())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start a task the engine owns, eagerly: its first write leaves in this call.

        Eager, so that the belt command is written before the boundary's listeners and
        before other treadmills' boundaries due in the same loop pass (scale figure).
        """
        self._starting_worker = True
        self._dropped_while_starting = False
        try:
            task: asyncio.Task[None] = asyncio.Task(
                coro, loop=asyncio.get_running_loop(), eager_start=True
            )
        finally:
            self._starting_worker = False
        if self._dropped_while_starting:
            task.cancel()  # a stop or pause came while it started: nothing more of it
            if self._queue:  # what was asked after the drop (a stop) still goes out
                self._own(task)
                task = asyncio.get_running_loop().create_task(self._work())
        self._own(task)
        return task

    def _own(self, task: asyncio.Task[None]) -> None:
        """Keep a task until it is done, so close() can cancel it."""
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self) -> None:
        """Send queued commands one by one; a failure or a refusal pauses the programme."""
        while self._queue:
            verb, value, origin = self._queue.popleft()
            try:
                await self._call_and_tell(verb, value, origin)
            except InterlockError as err:
                self._after_start(self._command_refused, verb, err)
                return
            except CommandError as err:
                if err.failure is CommandFailure.SUPERSEDED:
                    continue  # a stop came first: this one must never reach the belt
                self._after_start(self._command_failed, verb, err)
                return

    def _after_start[E: Exception](
        self, handle: Callable[[Verb, E], None], verb: Verb, err: E
    ) -> None:
        """Handle a failure at once, or, while the worker is still being started, just after.

        An eagerly started worker can fail inside the caller that queued the command
        (a countdown entering its phase): the caller finishes first, then the pause comes.
        """
        if self._starting_worker:
            asyncio.get_running_loop().call_soon(handle, verb, err)
        else:
            handle(verb, err)

    async def _call_and_tell(self, verb: Verb, value: float | None, origin: Origin) -> None:
        """Hand one command to the interlock; after a start, tell what waited for it."""
        if verb is not Verb.START:
            await self._call(verb, value, origin)
            return
        self._starting = True
        try:
            await self._call(verb, value, origin)
        finally:
            self._starting = False
            self._start_done()

    async def _call(self, verb: Verb, value: float | None, origin: Origin) -> None:
        """Hand one command to the interlock, which decides and sends it."""
        lock = self.interlock
        reclaim = self._reclaiming
        if reclaim is not None and not reclaim.done() and verb not in (Verb.STOP, Verb.PAUSE):
            # Control is being asked for again (rule 10): what moves the belt goes after,
            # however the request ends (asyncio.wait raises neither its error nor its
            # cancellation: the command still goes to the interlock, which decides).
            await asyncio.wait([reclaim])
        if verb is Verb.STOP:
            await lock.stop(origin)
        elif verb is Verb.PAUSE:
            await lock.pause(origin)
        elif value is None:  # pragma: no cover - every other verb carries a value
            raise ValueError(verb)
        elif verb is Verb.START:
            await lock.start(origin, value)
        elif not await self._in_time(verb, value):
            return
        elif verb is Verb.SET_SPEED:
            await lock.set_speed(origin, value)
        elif verb is Verb.SET_INCLINE:
            await lock.set_incline(origin, value)
        elif verb is Verb.LOWER_TARGET:
            await lock.lower_target(origin, value)

    async def _in_time(self, verb: Verb, value: float) -> bool:
        """Ask for a raise only when rule 4 allows it; drop an incline raise a turn overtook.

        A command can reach the interlock later than planned, queued behind one whose
        reply is late (the start's speed): the raise of the other kind it was staggered
        against may have gone out later than planned too.
        """
        if verb not in (Verb.SET_SPEED, Verb.SET_INCLINE) or not self.interlock.is_raise(
            verb, value
        ):
            return True
        wait = self.interlock.raise_wait(verb)
        if wait > 0:
            await sleep_until(self._clock, self._clock.now() + timedelta(seconds=wait))
        # The incline never rises in a turn (a turn may have begun while it waited):
        # dropped, the next segment sets its own.
        return verb is not Verb.SET_INCLINE or self.interlock.direction is not Direction.TURNING

    def _command_refused(self, verb: Verb, err: InterlockError) -> None:
        """Pause after the interlock refused one of the programme's own commands (a defect)."""
        _LOGGER.error("The interlock refused the programme's %s: %s", verb, err)
        self._command_failed(verb, CommandError(verb.value, CommandFailure.OPERATION_FAILED))

    def _command_failed(self, verb: Verb, err: CommandError) -> None:
        """Pause the programme after a command failed midway, and say so."""
        self._queue.clear()
        self._emit(CueType.COMMAND_FAILED, command=verb.value, reason=err.failure.value)
        run = self._run
        if run is None or self.status not in _MOVING | {ProgrammeStatus.COUNTDOWN}:
            return
        # A start whose reply was lost may have started the belt all the same.
        belt_may_move = self._belt_may_move() or verb is Verb.START
        self._enter_paused("command_failed")
        if belt_may_move and self._may_command():
            self._queue.append((Verb.PAUSE, None, Origin.SAFETY))  # best effort
            self._worker = self._spawn(self._work())

    def _drop_commands(self) -> None:
        """Forget queued commands and cancel the one in flight."""
        self._queue.clear()
        self._starting = False
        self._start_done()  # a start dropped holds nothing back any longer
        self._dropped_while_starting = self._starting_worker
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._worker = None
