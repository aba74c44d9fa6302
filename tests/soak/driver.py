"""The soak's driver: virtual time, the scenario's actions and faults, and each session's end.

Time is virtual: the loop's clock is frozen (freezer) and moves only here, to the next
timer that is due (at most a second at a time), so every timer fires at its own moment.
Actions run as tasks the driver does not wait for, as in Home Assistant, where a press may
wait for the treadmill while time goes on (and a Stop must not wait behind it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from datetime import timedelta
import math
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.util.ulid import ulid_now

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.programme.events import ProgrammeStatus
from custom_components.treadreverse.programme.interlock import Origin
from custom_components.treadreverse.programme.schema import Programme
from custom_components.treadreverse.programmes import programme_key
from custom_components.treadreverse.treadmill.ftms import ControlOpcode, ResultCode
from custom_components.treadreverse.treadmill.simulator import BeltState

from .scenario import Session
from .tape import TAPE, now
from .watchdog import Watchdog
from .world import PERSON_ID, SPEAKERS, World

S = ProgrammeStatus
ACTIVE = frozenset({S.WAITING, S.COUNTDOWN, S.RUNNING, S.PAUSED, S.TURNING})
MAX_STEP_S = 1.0
TAIL_S = 15.0  # s watched after a programme ended before the session ends
RESCUE_AFTER_S = 40.0  # s paused before the person sets things right and resumes
MAX_RESCUES = 6
SETTLE_ROUNDS = 20
JOB_WAIT_S = 30.0  # real s an executor job may take before virtual time moves on anyway
ACTION_LIMIT_S = 120.0  # virtual s an action may take before it counts as hung
ENTITY = "simulated_treadmill"
OPCODE = {
    "set_speed": ControlOpcode.SET_TARGET_SPEED,
    "set_incline": ControlOpcode.SET_TARGET_INCLINATION,
    "start": ControlOpcode.START_OR_RESUME,
    "pause": ControlOpcode.STOP_OR_PAUSE,
    "stop": ControlOpcode.STOP_OR_PAUSE,
    "request_control": ControlOpcode.REQUEST_CONTROL,
}
# Refusals are answers (translated errors), not defects.
ANSWERS = (ServiceValidationError, HomeAssistantError, Unauthorized)


class Driver:
    """Runs sessions on a World, moving virtual time."""

    def __init__(self, world: World, freezer: FrozenDateTimeFactory) -> None:
        """Bind to the world and the frozen clock."""
        self.world = world
        self.freezer = freezer
        self.tasks: set[asyncio.Task[None]] = set()
        self.unexpected: list[str] = []  # an action that failed other than with an answer
        self.session: Session | None = None
        self.t0 = now()
        self.rng = random.Random(0)
        self.shutdown_reason: str | None = None
        self._ended_at: float | None = None
        self._paused_since: float | None = None
        self._rescues = 0
        self._undo: list[tuple[float, Callable[[], None]]] = []
        self.watchdog: Watchdog | None = None
        self.launched = False  # a task was started since time last moved

    # ----- time --------------------------------------------------------------------------

    def elapsed(self) -> float:
        """Return the session's virtual seconds."""
        return (now() - self.t0).total_seconds()

    async def step(self, limit: float = MAX_STEP_S, *, settle: bool = True) -> None:
        """Let what was started run, then move time to the next timer due (<= limit s on)."""
        if self.launched:
            self.launched = False
            await self._settle(settle=settle)  # an action runs at its moment, not a tick late
        loop = asyncio.get_running_loop()
        handles = [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
        delta = limit
        if handles:
            delta = min(delta, max(min(h.when() for h in handles) - loop.time(), 0.0))
        # One microsecond past the timer: the loop runs a timer only once its time is
        # strictly behind the clock (its resolution vanishes at these magnitudes).
        self.freezer.tick(timedelta(microseconds=math.ceil(delta * 1e6) + 1))
        if self.watchdog is not None:
            self.watchdog.progress += 1
        await self._settle(settle=settle)

    async def _settle(self, *, settle: bool) -> None:
        """Run everything due now, as async_block_till_done would, but never wait for time.

        Home Assistant's tasks that wait for a timer (a slow speaker's play_media, a press
        waiting for the treadmill's reply) only go on once time moves: waiting for them
        here would wait for ever. Executor jobs finish in real time: they are awaited.
        """
        hass = self.world.hass
        for _ in range(SETTLE_ROUNDS):
            for _ in range(4):
                await asyncio.sleep(0)
            if hass is None:
                return
            pending = {t for t in hass._tasks if not t.done()}
            jobs = [f for f in pending if not isinstance(f, asyncio.Task)]
            # A job a background task (or an eagerly started listener) runs lands among the
            # background ones: the Store's writes in the executor, the recorder's join.
            jobs += [
                f
                for f in hass._background_tasks
                if not isinstance(f, asyncio.Task) and not f.done()
            ]
            if jobs:
                # Even unsettled (a stop), virtual time must not race a thread: the
                # recorder's shutdown joins its thread, and HA's stop stages time out in
                # virtual seconds (a loaded machine made a restart "hang" for 120 s).
                _, late = await asyncio.wait(jobs, timeout=JOB_WAIT_S)
                if late:
                    return
                continue
            if not settle:
                return
            await asyncio.sleep(0)
            if {t for t in hass._tasks if not t.done()} >= pending:
                return  # nothing finished: what is left waits for time to move

    async def run_for(self, seconds: float) -> None:
        """Let time pass."""
        end = now() + timedelta(seconds=seconds)
        while now() < end:
            await self.step(min(MAX_STEP_S, (end - now()).total_seconds()))

    async def drive(self, awaitable: Awaitable[Any], limit: float, *, settle: bool = True) -> None:
        """Await something while virtual time passes (it may wait for the treadmill)."""
        task = asyncio.get_running_loop().create_task(_as_coro(awaitable))
        waited = 0.0
        await asyncio.sleep(0)
        while not task.done() and waited < limit:
            before = now()
            await self.step(settle=settle)
            waited += (now() - before).total_seconds()
        assert task.done(), f"not done within {limit} virtual s: {awaitable!r}"
        await task

    # ----- a session -----------------------------------------------------------------------

    async def run_session(self, session: Session) -> None:
        """Start the session's programme, play its scenario, then end it cleanly."""
        self.session = session
        self.t0 = now()
        self.rng = random.Random(f"{session.index}:{session.programme!s}:{session.scale}")
        self.shutdown_reason = None
        self._ended_at = None
        self._paused_since = None
        self._rescues = 0
        await self._prepare_start(session)
        self._launch(session.start.split()[0], session.start.split()[1], "start", None)
        pending = list(session.steps)
        while self.elapsed() < session.horizon:
            while pending and pending[0][0] <= self.elapsed() + 1e-6:
                _, what = pending.pop(0)
                await self.perform(what)
            self._run_undo()
            if self._finished():
                break
            await self._rescue()
            nxt = pending[0][0] - self.elapsed() if pending else MAX_STEP_S
            await self.step(max(min(MAX_STEP_S, nxt), 0.0))
        await self._end()

    def _finished(self) -> bool:
        """Return whether the programme ended a while ago (no need to watch longer)."""
        engine = TAPE.engine
        if TAPE.started == 0 or engine is None:
            return False
        if engine.status in ACTIVE:
            self._ended_at = None
            return False
        if self._ended_at is None:
            self._ended_at = self.elapsed()
        return self.elapsed() - self._ended_at >= TAIL_S

    async def _prepare_start(self, session: Session) -> None:
        """Save and select the programme a button or switch start runs."""
        hass = self.world.hass
        assert hass is not None
        key = session.programme
        if isinstance(key, dict):
            await hass.services.async_call(
                DOMAIN,
                "save_programme",
                {"definition": key, "overwrite": True},
                blocking=True,
                context=self._context("person"),
            )
            key = programme_key(Programme.from_dict(key).name)
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": f"select.{ENTITY}_programme", "option": key},
            blocking=True,
            context=self._context("person"),
        )
        self._note(f"selected {key}")

    async def _rescue(self) -> None:
        """Let the person set things right when the programme sat paused a long while."""
        engine = TAPE.engine
        status = engine.status if engine is not None else None
        planned = self._resumes_planned()
        waiting = status is S.WAITING and planned is not None and self.elapsed() > planned
        if status is S.PAUSED or waiting:
            self._paused_since = self._paused_since or self.elapsed()
        else:
            self._paused_since = None
            return
        if self.elapsed() - self._paused_since < RESCUE_AFTER_S or self._rescues >= MAX_RESCUES:
            return
        self._rescues += 1
        self._paused_since = None
        await self.heal()
        surface = self.rng.choice(["button", "button_start", "switch", "action"])
        self._launch("person", surface, "resume", None)

    def _resumes_planned(self) -> float | None:
        """Return when the person first comes to the treadmill in this session, if ever."""
        session = self.session
        moments = [
            at
            for at, what in (session.steps if session else [])
            if what.startswith("person") and what.endswith("resume")
        ]
        return min(moments) if moments else None

    async def heal(self) -> None:
        """Clear the machine's faults and the speakers' troubles (the person fixes things)."""
        machine = TAPE.machine
        assert machine is not None
        machine.clear_faults()
        self._undo.clear()
        health = self.world.health
        health.heal()
        for entity_id in SPEAKERS:
            health.available[entity_id] = True
        if self.world.hass is not None:
            self.world.write_speaker_states()
        health.changed()
        self._note("heal: faults cleared, speakers back")

    async def _end(self) -> None:
        """Stop what still runs, put everything right, and let the tape settle."""
        engine = TAPE.engine
        if engine is not None and engine.status in ACTIVE:
            self._launch("person", "action", "stop", None)
        await self.run_for(2)
        await self.heal()
        machine = TAPE.machine
        assert machine is not None
        if machine.state is not BeltState.STOPPED:
            TAPE.mark("console_stop")
            machine.console_stop()
            self._note("console stop (end)")
        waited = 0.0
        while not machine.connected and waited < 120:
            await self.step()
            waited += MAX_STEP_S
        await self.run_for(5)
        waited = 0.0
        while self.tasks and waited < ACTION_LIMIT_S:
            await self.step()
            waited += MAX_STEP_S
        for task in self.tasks:
            self.unexpected.append(f"an action never returned: {task.get_name()}")
            task.cancel()
        self.tasks.clear()

    # ----- actions and faults ------------------------------------------------------------

    def _note(self, what: str) -> None:
        """Note in the scenario what ran, when, in what state."""
        engine = TAPE.engine
        status = engine.status.value if engine is not None else "-"
        if self.session is not None:
            self.session.done.append(f"{self.elapsed():7.1f} [{status}] {what}")

    def _context(self, who: str) -> Context:
        """Return a person's context, or an automation's (a parent, with or without a user)."""
        if who == "person":
            return Context(user_id=PERSON_ID)
        user = PERSON_ID if self.rng.random() < 0.5 else None
        return Context(user_id=user, parent_id=ulid_now())

    async def perform(self, what: str) -> None:
        """Carry out one drawn action or fault."""
        words = what.split()
        if words[0] in ("person", "automation") and self._would_start_anew(words):
            # One programme per session: the rules judge a trace of one programme.
            self._note(f"{what} (skipped: the session's programme has ended)")
            return
        if words[0] in ("person", "automation"):
            value = float(words[3]) if len(words) > 3 and _is_number(words[3]) else None
            self._launch(words[0], words[1], words[2], value, extra=words[3:])
            return
        if words[0] == "restart":
            await self.restart()
            return
        if words[0] == "reload":
            self._reload()
            return
        if words[0] == "speaker":
            self._speaker(words[1], words[2:])
            return
        self._fault(words)

    def _would_start_anew(self, words: list[str]) -> bool:
        """Return whether an action would start a second programme in this session."""
        engine = TAPE.engine
        ended = TAPE.started > 0 and (engine is None or engine.status not in ACTIVE)
        surface, verb = words[1], words[2]
        return ended and (
            verb == "start" or (verb == "resume" and surface in ("switch", "button_start"))
        )

    def _fault(self, words: list[str]) -> None:
        """Inject a fault into the machine, marking the tape first."""
        machine = TAPE.machine
        assert machine is not None
        kind = words[0]
        self._note(" ".join(words))
        if kind == "drop_link":
            if machine.connected:
                TAPE.mark("drop_link")
                machine.drop_link()
            return
        simple: dict[str, Callable[[], None]] = {
            "console_pause": machine.console_pause,
            "console_stop": machine.console_stop,
            "console_start": machine.console_start,
            "console_speed": lambda: machine.console_set_speed(
                min(1.0, machine.target_speed or 1.0)
            ),
            "console_incline": lambda: machine.console_set_incline(min(1.0, machine.incline)),
            "control_lost": machine.take_control_back,
            "safety_key": machine.safety_key,
            "reorder": machine.reorder_next_replies,
            "reset_distance": machine.reset_distance,
            "garble": lambda: machine.garble_next_notification(self.rng.randint(1, 3)),
        }
        if kind in simple:
            TAPE.mark(kind)
            simple[kind]()
            TAPE.sample()
            return
        if kind == "freeze_distance":
            TAPE.mark(kind)
            machine.freeze_distance(True)
            self._later(30, lambda: machine.freeze_distance(False))
            return
        opcode = OPCODE[words[1]]
        if kind == "reject":
            TAPE.mark("command_fail", words[1])
            result = self.rng.choice([ResultCode.OPERATION_FAILED, ResultCode.INVALID_PARAMETER])
            machine.reject_opcode(opcode, result, times=self.rng.randint(1, 2))
        elif kind == "lose":
            TAPE.mark("lose_reply", words[1])
            machine.lose_indication(opcode)
        elif kind == "late":
            TAPE.mark("late_reply", words[1])
            machine.delay_indication(opcode, float(words[2]))
            self._later(30, lambda: machine._faults.delays.pop(opcode, None))

    def _later(self, seconds: float, undo: Callable[[], None]) -> None:
        """Undo a lasting fault after a while."""
        self._undo.append((self.elapsed() + seconds, undo))

    def _run_undo(self) -> None:
        """Undo the lasting faults whose time came."""
        due = [item for item in self._undo if item[0] <= self.elapsed()]
        for item in due:
            self._undo.remove(item)
            item[1]()

    def _speaker(self, entity_id: str, what: list[str]) -> None:
        """Make a speaker unavailable, failing, slow or busy (or well again)."""
        health = self.world.health
        self._note(f"speaker {entity_id} {' '.join(what)}")
        match what[0]:
            case "unavailable" | "available":
                health.available[entity_id] = what[0] == "available"
                if self.world.hass is not None:
                    self.world.write_speaker_states()
            case "fail" | "ok":
                health.fail[entity_id] = what[0] == "fail"
            case "slow":
                health.slow[entity_id] = float(what[1])
            case "fast":
                health.slow[entity_id] = 0.0
            case "busy":
                health.busy[entity_id] = int(what[1])
        health.changed()

    def _reload(self) -> None:
        """Reload the config entry (a programme running is left safely, rule 11)."""
        world = self.world
        if world.hass is None or world.entry is None:
            return
        self._mark_shutdown("unload")
        self._note("reload")
        task = asyncio.get_running_loop().create_task(
            world.hass.config_entries.async_reload(world.entry.entry_id), name="reload"
        )
        self._keep(task, "reload")

    def _mark_shutdown(self, reason: str) -> None:
        """Mark a shutdown (rule 11) when a programme is active to be left."""
        engine = TAPE.engine
        if engine is not None and engine.status in ACTIVE and self.shutdown_reason is None:
            TAPE.mark("shutdown", reason)
            self.shutdown_reason = reason

    async def restart(self) -> None:
        """Stop Home Assistant and start it again on the same storage."""
        self._mark_shutdown("restart")
        self._note("restart: Home Assistant stops")
        await self.drive(self.world.stop(), ACTION_LIMIT_S, settle=False)
        await self.run_for(self.rng.choice([0, 5, 30]))  # down for a while; the belt goes on
        await self.world.boot()
        self._note("restart: Home Assistant is up again")

    # ----- who acts, through which surface -------------------------------------------------

    def _launch(
        self,
        who: str,
        surface: str,
        verb: str,
        value: float | None,
        extra: list[str] | None = None,
    ) -> None:
        """Mark the tape as the rules read it, then act as a task (never awaited here)."""
        world = self.world
        engine = TAPE.engine
        status = engine.status if engine is not None else S.IDLE
        # Between a reload's unload and its set-up the entry has no runtime_data at all.
        loaded = world.hass is not None and getattr(world.entry, "runtime_data", None)
        self._note(f"{who} {surface} {verb} {value if value is not None else ''}".rstrip())
        if not loaded:
            self._note("  (Home Assistant or the entry is not up: skipped)")
            return
        self._mark(who, surface, verb, value, status)
        call = self._call(who, surface, verb, value, extra or [])
        if call is None:
            return
        context = self._context(who)
        domain, service, data = call
        assert world.hass is not None
        hass = world.hass
        name = f"{who} {surface} {verb}"

        async def act() -> None:
            try:
                await hass.services.async_call(
                    domain, service, data, blocking=True, context=context
                )
            except ANSWERS as err:
                self._note(f"  {name}: {type(err).__name__}: {err}")

        self._keep(asyncio.get_running_loop().create_task(act(), name=name), name)

    def _keep(self, task: asyncio.Task[Any], name: str) -> None:
        """Track an action's task; an exception other than an answer is a finding."""
        self.tasks.add(task)
        self.launched = True

        def done(finished: asyncio.Task[Any]) -> None:
            self.tasks.discard(finished)
            if finished.cancelled():
                return
            if (error := finished.exception()) is not None:
                self.unexpected.append(f"{name}: {type(error).__name__}: {error}")

        task.add_done_callback(done)

    def _mark(self, who: str, surface: str, verb: str, value: float | None, status: S) -> None:
        """Mark what the action means for the rules (tests/rules.py's labels)."""
        person = who == "person"
        if verb == "start" and surface == "action" and status in ACTIVE:
            TAPE.mark("noop" if person else "automation_noop")  # refused: one is running
        elif verb in ("start", "resume"):
            starts_anew = status not in ACTIVE and (verb == "start" or surface != "action")
            if starts_anew and not (verb == "resume" and surface == "button"):
                label = "start"
                wait = self.session.wait if self.session and surface == "action" else None
                if not person and wait is False:
                    TAPE.mark("automation_nowait")  # explicitly asked not to wait
            elif status is S.WAITING:
                label = "confirm"
            elif status is S.PAUSED:
                label = "resume"
            else:
                label = "noop"
            TAPE.mark(label if person else f"automation_{label}")
        elif verb == "stop":
            TAPE.mark("stop")
        elif verb in ("speed", "incline") and value is not None:
            name = "set_speed" if verb == "speed" else "set_incline"
            origin = Origin.PERSON if person else Origin.AUTOMATION
            TAPE.mark("manual", (name, origin.value, value))
        else:
            TAPE.mark(verb if person else f"automation_{verb}")

    def _call(
        self, who: str, surface: str, verb: str, value: float | None, extra: list[str]
    ) -> tuple[str, str, dict[str, Any]] | None:
        """Return the service call of an action through a surface."""
        world = self.world
        assert world.entry is not None
        assert world.hass is not None
        entry = {"config_entry_id": world.entry.entry_id}
        on = bool(extra) and extra[-1] == "on"
        announce = "announce" if world.hass.services.has_service(DOMAIN, "announce") else None
        calls: dict[tuple[str, str], Callable[[], tuple[str, str, dict[str, Any]]]] = {
            ("start", "button"): lambda: _button("start"),
            ("start", "switch"): lambda: _switch(on=True),
            ("resume", "switch"): lambda: _switch(on=True),
            ("start", "action"): lambda: (DOMAIN, "start_programme", self._start_data(entry)),
            ("resume", "button"): lambda: _button("resume"),
            ("resume", "button_start"): lambda: _button("start"),
            ("resume", "action"): lambda: (DOMAIN, "resume", entry),
            ("pause", "button"): lambda: _button("pause"),
            ("pause", "action"): lambda: (DOMAIN, "pause", entry),
            ("stop", "button"): lambda: _button("stop"),
            ("stop", "switch"): lambda: _switch(on=False),
            ("stop", "action"): lambda: (DOMAIN, "stop", entry),
            ("skip", "button"): lambda: _button("skip_interval"),
            ("skip", "action"): lambda: (DOMAIN, "skip_interval", entry),
            ("speed", "number"): lambda: _number("target_speed", value),
            ("speed", "action"): lambda: (DOMAIN, "set_speed", entry | {"speed": value}),
            ("incline", "number"): lambda: _number("target_incline", value),
            ("incline", "action"): lambda: (DOMAIN, "set_incline", entry | {"incline": value}),
            ("announce", "action"): lambda: (
                DOMAIN,
                announce or "test_announcement",
                entry | {"message": "Keep going."},
            ),
            # Mute "on" turns the announcements switch off.
            ("mute", "switch"): lambda: (
                "switch",
                "turn_off" if on else "turn_on",
                {"entity_id": f"switch.{ENTITY}_announcements"},
            ),
            ("select", "select"): lambda: (
                "select",
                "select_option",
                {"entity_id": f"select.{ENTITY}_programme", "option": self._key()},
            ),
        }
        make = calls.get((verb, surface))
        return make() if make is not None else None

    def _key(self) -> str:
        """Return the key the session's programme is selected by."""
        session = self.session
        assert session is not None
        key = session.programme
        return programme_key(Programme.from_dict(key).name) if isinstance(key, dict) else key

    def _start_data(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Return start_programme's data for the session's programme."""
        session = self.session
        assert session is not None
        data = dict(entry)
        if isinstance(session.programme, dict):
            data["definition"] = session.programme
        else:
            data["programme"] = session.programme
        if session.scale != 1.0:
            data["speed_scale"] = session.scale
        if session.wait is not None:
            data["wait_for_person"] = session.wait
        return data


def _button(key: str) -> tuple[str, str, dict[str, Any]]:
    """Return a button press."""
    return "button", "press", {"entity_id": f"button.{ENTITY}_{key}"}


def _switch(*, on: bool) -> tuple[str, str, dict[str, Any]]:
    """Return the backward_intervals switch turned on or off."""
    entity = {"entity_id": f"switch.{ENTITY}_backward_intervals"}
    return "switch", "turn_on" if on else "turn_off", entity


def _number(key: str, value: float | None) -> tuple[str, str, dict[str, Any]]:
    """Return a number set."""
    return "number", "set_value", {"entity_id": f"number.{ENTITY}_{key}", "value": value}


async def _as_coro(awaitable: Awaitable[Any]) -> Any:
    """Await anything in a task."""
    return await awaitable


def _is_number(text: str) -> bool:
    """Return whether a word is a number."""
    with contextlib.suppress(ValueError):
        float(text)
        return True
    return False
