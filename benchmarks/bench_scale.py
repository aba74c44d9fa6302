"""Belt-command lateness with many treadmills in one Home Assistant, on the real clock.

For N = 1, 5, 10 and 20 simulated treadmills in one test Home Assistant running in real
time (ha_harness.real_home_assistant), each is a config entry of its own: the integration's
coordinator and Engine on Home Assistant's clock, its entities, its bus events and its
announcer with one speaker (a media player that fetches the audio from Home Assistant's
TTS). Every treadmill runs the same dense programme, started through the coordinator
(compiled, first cues pre-generated, waiting for the person) and then confirmed:

- aligned: every countdown ends at the same instant, so each boundary falls on all N at once;
- staggered: the N countdown ends are spread evenly over one second (N = 1: aligned only).

The engine reads its clock at confirmation; the bench pins that reading to the start it
wants, so the N starts are exactly aligned or spread, whatever the confirmations cost.

A belt command's lateness is the time its Control Point write reaches the simulated
peripheral (its `written`, wrapped) minus its planned time on the engine's clock: the
countdown's end plus the phase's start and the step's offset in the compiled Timeline.
Commands: the start at the countdown's end, every speed change, the stop at the end.

Per N and mode: lateness p50/p99/max, and the worst start, speed change and stop; full
garbage collections (generation 2, seen through gc.callbacks) during the run and how many
overlapped a command's [planned, written] window; CPU seconds (time.process_time, all
threads) per treadmill-minute of the run (countdown included) and young collections per
treadmill-minute (allocation); the process's peak RSS during the run (VmHWM, reset first).
Per N, after the runs: what a full collection of the heap costs, with and without
gc.freeze(), and the Python memory each treadmill holds (tracemalloc during setup).

Environment: BENCH_SCALE_COUNTS="1,20" runs fewer N (a quick run); BENCH_SCALE_ROUNDS=4
runs each scenario four times (more boundaries, more chances for a collection);
BENCH_SCALE_GC=freeze calls gc.freeze() after setup (Home Assistant itself does not);
BENCH_SCALE_TASKS=eager makes every task start eagerly (asyncio.eager_task_factory), so a
belt command is written inside the boundary's own callback. The last two are experiments:
the figures of `scripts/bench` are taken without them.
"""

from __future__ import annotations

from benchmarks.ha_harness import async_setup_speakers, real_home_assistant  # isort: split

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import gc
import math
import os
from pathlib import Path
import resource
import time
import tracemalloc
from typing import Any

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import (
    CONF_SPEAKERS,
    CONF_START_COUNTDOWN,
    CONF_TTS_ENGINE,
    DOMAIN,
)
from custom_components.treadreverse.coordinator import TreadmillCoordinator
from custom_components.treadreverse.programme.compiler import StepKind, Timeline, compile_programme
from custom_components.treadreverse.programme.events import ProgrammeStatus
from custom_components.treadreverse.programme.schema import Programme
from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.ftms import ControlOpcode
from custom_components.treadreverse.treadmill.simulator import SimulatedFtmsPeripheral
from tests.integration.conftest import SIMULATED_DATA

COUNTS = (1, 5, 10, 20)
SPEEDS = (3.0, 4.0, 3.2, 4.5, 3.6, 5.0, 3.4, 4.2)  # km/h, one 1 s segment each
SEGMENT_S = 1.0
COUNTDOWN_S = 5.0  # the shortest countdown rule 9 allows
SPREAD_S = 1.0  # staggered starts are spread over this
SETTLE_S = 1.0  # after the last planned stop, for the last writes and cues
PREPARE_LIMIT_S = 30.0
SPEED_EPS = 0.006  # km/h: FTMS carries 0.01 km/h
PROGRAMME: dict[str, Any] = {
    "name": "Dense",
    "segments": [
        {"direction": "forward", "duration": SEGMENT_S, "speed": speed} for speed in SPEEDS
    ],
}

KINDS = {
    "start": ControlOpcode.START_OR_RESUME,
    "speed": ControlOpcode.SET_TARGET_SPEED,
    "stop": ControlOpcode.STOP_OR_PAUSE,
}

type Write = tuple[float, bytes]  # time.time() when it reached the peripheral, payload


@dataclass(frozen=True, slots=True)
class Planned:
    """A belt command the timeline calls for: when, which op code, which value."""

    at: float  # time.time() scale
    opcode: ControlOpcode
    value: float | None = None


@dataclass
class Lane:
    """One treadmill: its coordinator and the Control Point writes its peripheral got."""

    coordinator: TreadmillCoordinator
    writes: list[Write] = field(default_factory=list)


@dataclass
class Pause:
    """One garbage collection: generation, start and end (time.time())."""

    generation: int
    start: float
    end: float


@dataclass
class Result:
    """What the runs of one scenario measured."""

    count: int
    mode: str
    # Every belt command of every treadmill: op code, planned and written time (time.time()).
    commands: list[tuple[ControlOpcode, float, float]] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_rss: int = 0  # bytes

    def add(self, other: Result) -> None:
        """Take in another round of the same scenario."""
        self.commands += other.commands
        self.pauses += other.pauses
        self.cpu_s += other.cpu_s
        self.wall_s += other.wall_s
        self.peak_rss = max(self.peak_rss, other.peak_rss)


def _record_writes(peripheral: SimulatedFtmsPeripheral) -> list[Write]:
    """Note the time each Control Point write reaches the peripheral."""
    writes: list[Write] = []
    written = peripheral.written

    def recorded(uuid: str, data: bytes) -> None:
        writes.append((time.time(), data))
        written(uuid, data)

    peripheral.written = recorded  # type: ignore[method-assign]
    return writes


async def _setup(hass: HomeAssistant, count: int) -> tuple[list[Lane], float | None]:
    """Set up `count` simulated treadmills, each speaking on its own speaker.

    Return them and the Python memory each treadmill after the first holds (tracemalloc,
    which runs during their setup only), None for one treadmill.
    """
    _, players = await async_setup_speakers(hass, *(f"Speaker {i}" for i in range(count)))
    lanes = []
    for number, player in enumerate(players):
        if number == 1:
            tracemalloc.start()
        entry = MockConfigEntry(
            domain=DOMAIN,
            entry_id=f"01BENCHSCALE{number:014d}",
            title=f"Treadmill {number}",
            data={**SIMULATED_DATA, CONF_NAME: f"Treadmill {number}"},
            options={
                CONF_SPEAKERS: [player.entity_id],
                CONF_TTS_ENGINE: "tts.test_speech",
                CONF_START_COUNTDOWN: COUNTDOWN_S,
            },
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        coordinator = entry.runtime_data.coordinator
        simulator = coordinator.treadmill.simulator  # type: ignore[attr-defined]
        lanes.append(Lane(coordinator, _record_writes(simulator)))
    await hass.async_block_till_done()
    if not tracemalloc.is_tracing():
        return lanes, None
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return lanes, held / (count - 1)


def _planned(timeline: Timeline, anchor: datetime) -> list[Planned]:
    """Return the belt commands of a timeline whose countdown ends at `anchor`."""
    start = anchor.timestamp()
    commands = [Planned(start, ControlOpcode.START_OR_RESUME)]
    offset = 0.0
    speed: float | None = None
    for phase in timeline.phases:
        for step in phase.steps:
            if step.kind is not StepKind.SPEED:
                continue
            if speed is not None and abs(step.value - speed) > 1e-6:
                commands.append(
                    Planned(
                        start + offset + step.offset, ControlOpcode.SET_TARGET_SPEED, step.value
                    )
                )
            speed = step.value  # the first one goes with the start
        assert phase.duration is not None, "the bench programme is timed"
        offset += phase.duration
    commands.append(Planned(start + offset, ControlOpcode.STOP_OR_PAUSE, ftms.STOP))
    return commands


def _match(planned: list[Planned], writes: list[Write]) -> list[tuple[float, float]]:
    """Pair each planned command with its write, in order; return (planned, written) times."""
    pairs = []
    position = 0
    for command in planned:
        for index in range(position, len(writes)):
            at, data = writes[index]
            request = ftms.decode_request(data)
            same = request.opcode == command.opcode and (
                command.value is None
                or (request.value is not None and abs(request.value - command.value) < SPEED_EPS)
            )
            if same:
                pairs.append((command.at, at))
                position = index + 1
                break
        else:
            raise RuntimeError(f"no write for {command} (writes: {[w.hex() for _, w in writes]})")
    return pairs


async def _prepare(hass: HomeAssistant, lanes: list[Lane], programme: Programme) -> None:
    """Start the programme on every treadmill, waiting for the person; let pre-generation end."""
    for lane in lanes:
        lane.writes.clear()
        await lane.coordinator.async_start_programme(programme, wait_for_person=True)
        assert lane.coordinator.engine.status is ProgrammeStatus.WAITING
    await hass.async_block_till_done()
    deadline = time.monotonic() + PREPARE_LIMIT_S
    while time.monotonic() < deadline:
        busy = [
            t
            for t in hass._background_tasks  # noqa: SLF001
            if isinstance(t, asyncio.Task)
            and not t.done()
            and t.get_name().startswith("treadreverse pre-generate")
        ]
        if not busy:
            break
        await asyncio.wait(busy, timeout=1.0)
    await asyncio.sleep(0.2)  # let the speakers say "waiting for you"


def _confirm_at(lane: Lane, at: datetime) -> None:
    """Confirm the person with the engine's clock reading `at` (the countdown starts then)."""
    clock = lane.coordinator.clock
    clock.now = lambda: at  # type: ignore[method-assign]
    try:
        lane.coordinator.engine.confirm_person()
    finally:
        del clock.now


def _reset_peak_rss() -> None:
    """Reset the process's peak RSS (Linux); harmless where it cannot."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _memory(field_name: str) -> int:
    """Return a /proc/self/status size (VmHWM: peak since the reset) in bytes, else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def _scenario(hass: HomeAssistant, lanes: list[Lane], staggered: bool) -> Result:
    """Run the programme on every lane at once; measure the belt commands' lateness."""
    programme = Programme.from_dict(PROGRAMME)
    await _prepare(hass, lanes, programme)
    count = len(lanes)
    base = dt_util.utcnow()
    anchors = [
        base + timedelta(seconds=COUNTDOWN_S + (SPREAD_S * i / count if staggered else 0.0))
        for i in range(count)
    ]
    plans = [
        _planned(
            compile_programme(
                programme, lane.coordinator.engine_options, lane.coordinator.treadmill.capabilities
            ),
            anchor,
        )
        for lane, anchor in zip(lanes, anchors, strict=True)
    ]
    end = max(plan[-1].at for plan in plans) + SETTLE_S
    result = Result(count, "staggered" if staggered else "aligned")
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = [time.time()]
        elif started:
            result.pauses.append(Pause(info["generation"], started[0], time.time()))

    _reset_peak_rss()
    gc.callbacks.append(on_gc)
    cpu, wall = time.process_time(), time.monotonic()
    try:
        for lane, anchor in zip(lanes, anchors, strict=True):
            _confirm_at(lane, anchor - timedelta(seconds=COUNTDOWN_S))
        await asyncio.sleep(max(end - time.time(), 0.0))
        result.cpu_s = time.process_time() - cpu
        result.wall_s = time.monotonic() - wall
    finally:
        gc.callbacks.remove(on_gc)
    result.peak_rss = _memory("VmHWM")
    for lane, plan in zip(lanes, plans, strict=True):
        status = lane.coordinator.engine.status
        assert status is ProgrammeStatus.COMPLETED, f"{lane.coordinator.name}: {status}"
        for command, (planned, written) in zip(plan, _match(plan, lane.writes), strict=True):
            result.commands.append((command.opcode, planned, written))
    return result


def _rank(values: list[float], share: float) -> float:
    """Return a percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _lines(result: Result, note: str) -> list[str]:
    """Return the figure lines of one scenario (all its rounds)."""
    ms = [(written - planned) * 1000 for _, planned, written in result.commands]
    worst = {
        name: max(
            ((w - p) * 1000 for op, p, w in result.commands if op is opcode), default=math.nan
        )
        for name, opcode in KINDS.items()
    }
    full = [p for p in result.pauses if p.generation == 2]
    hits = sum(
        any(p.start < written and p.end > planned for _, planned, written in result.commands)
        for p in full
    )
    longest = max((p.end - p.start for p in full), default=0.0) * 1000
    young = sum(p.generation == 0 for p in result.pauses)
    minutes = result.count * result.wall_s / 60
    label = f"scale {result.mode} N={result.count}"
    return [
        f"{label} lateness{note}: p50 {_rank(ms, 0.5):.1f} ms, p99 {_rank(ms, 0.99):.1f} ms, "
        f"max {max(ms):.1f} ms ({len(ms)} belt commands; worst "
        + ", ".join(f"{name} {value:.1f}" for name, value in worst.items())
        + f" ms); gc pauses on boundaries {hits} of {len(full)} full collections"
        + (f" (longest {longest:.0f} ms)" if full else ""),
        f"{label} cost{note}: {result.cpu_s / minutes:.2f} CPU s per treadmill-minute; "
        f"{young / minutes:.1f} young collections per treadmill-minute; "
        f"peak RSS {result.peak_rss / 2**20:.0f} MiB",
    ]


def _full_collection_ms() -> float:
    """Return how long a full collection of the heap as it is takes, in ms."""
    started = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - started) * 1000


async def _measure(count: int, rounds: int, freeze: bool, eager: bool) -> tuple[list[Result], str]:
    """Set up `count` treadmills in a fresh Home Assistant; run aligned, then staggered."""
    async with real_home_assistant() as hass:
        lanes, per_treadmill = await _setup(hass, count)
        if freeze:
            gc.collect()
            gc.freeze()
        if eager:
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
        try:
            results = []
            for staggered in (False, True)[: 2 if count > 1 else 1]:
                merged = Result(count, "staggered" if staggered else "aligned")
                for _ in range(rounds):
                    merged.add(await _scenario(hass, lanes, staggered))
                results.append(merged)
            # What a full collection costs with this heap (the runs above are done).
            tracked = len(gc.get_objects())  # the frozen ones not counted
            full = f"full collection {_full_collection_ms():.0f} ms ({tracked} objects to scan)"
            if not freeze:
                gc.freeze()
                full += f", {_full_collection_ms():.1f} ms after gc.freeze()"
        finally:
            gc.unfreeze()
            asyncio.get_running_loop().set_task_factory(None)
    line = f"scale N={count} heap: {full}"
    if per_treadmill is not None:
        line += f"; {per_treadmill / 2**10:.0f} KiB held per treadmill (tracemalloc at setup)"
    return results, line


def _counts() -> tuple[int, ...]:
    """Return the N to run: BENCH_SCALE_COUNTS="1,20", else all."""
    raw = os.environ.get("BENCH_SCALE_COUNTS", "")
    return tuple(int(n) for n in raw.split(",") if n.strip()) or COUNTS


def run() -> list[str]:
    """Return the scale figure lines."""
    freeze = os.environ.get("BENCH_SCALE_GC", "") == "freeze"
    eager = os.environ.get("BENCH_SCALE_TASKS", "") == "eager"
    rounds = int(os.environ.get("BENCH_SCALE_ROUNDS", "1"))
    notes = ["gc.freeze after setup"] * freeze + ["eager tasks"] * eager
    note = f" ({', '.join(notes)})" if notes else ""
    lines = []
    for count in _counts():
        results, heap = asyncio.run(_measure(count, rounds, freeze, eager))
        for result in results:
            lines += _lines(result, note)
        lines.append(heap)
    return lines


if __name__ == "__main__":
    began = time.monotonic()
    for figure in run():
        print(figure, flush=True)
    print(f"scale bench wall time: {time.monotonic() - began:.0f} s")
