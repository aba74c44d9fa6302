"""Boundary timing: the engine's absolute scheduling against a naive chain of sleeps.

One real-time run on a real asyncio loop (LoopClock). The engine runs a synthetic
timeline of short segments (0.05-0.2 s: below the schema's 1 s minimum, so it is built
directly and handed to Engine.run_timeline, which is the engine's real scheduling code)
against the simulated FTMS treadmill. At the same time, on the same loop, a naive
runner does `await asyncio.sleep(duration)` per step. Both do the same CPU work at
every boundary (standing in for state writes and cue rendering).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import math
import random
import time

from custom_components.treadreverse.programme.compiler import (
    Interval,
    Phase,
    PhaseKind,
    Step,
    StepKind,
    Timeline,
)
from custom_components.treadreverse.programme.engine import Engine
from custom_components.treadreverse.programme.events import CueType, EngineEvent, EventType
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import Programme, Segment, SegmentDirection
from custom_components.treadreverse.treadmill.clock import LoopClock
from custom_components.treadreverse.treadmill.simulator import create_simulated_treadmill

BOUNDARIES = 240
SEED = 20260101
NOISE_S = 0.002  # CPU work per boundary


def _noise() -> None:
    """Burn about NOISE_S of CPU, as a state write and a cue rendering would."""
    end = time.perf_counter() + NOISE_S
    total = 0
    while time.perf_counter() < end:
        total += sum(range(200))


def _timeline(durations: list[float]) -> Timeline:
    """Build a timeline of short forward segments, each setting a speed."""
    segment = Segment(SegmentDirection.FORWARD, speed=3.0, duration=1.0)
    phases: list[Phase] = []
    intervals: list[Interval] = []
    for index, duration in enumerate(durations):
        speed = 3.0 + 0.1 * (index % 2)
        interval = Interval(
            index + 1, len(durations), "Forward walk", "forward_walk", "", segment, speed, None
        )
        intervals.append(interval)
        phases.append(
            Phase(
                PhaseKind.SEGMENT,
                SegmentDirection.FORWARD,
                duration,
                steps=(Step(0.0, StepKind.SPEED, speed),),
                interval=interval,
                duration=duration,
            )
        )
    programme = Programme(name="Timing", segments=(segment,))
    return Timeline(programme, tuple(phases), tuple(intervals), (), 1.0, 4.0, 1.0)


def _p99(values: list[float]) -> float:
    """Return the 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)]


async def _naive(durations: list[float], start: datetime, out: list[float]) -> None:
    """Sleep per step, as a chain of relative sleeps does; record each boundary's lateness."""
    await asyncio.sleep(max((start - datetime.now(UTC)).total_seconds(), 0.0))
    planned = start
    for duration in durations:
        _noise()
        await asyncio.sleep(duration)
        planned += timedelta(seconds=duration)
        out.append((datetime.now(UTC) - planned).total_seconds())


async def _measure() -> tuple[list[float], list[float], float, float]:
    """Run the engine and the naive chain together; return latenesses and final drifts."""
    rng = random.Random(SEED)
    durations = [round(rng.uniform(0.05, 0.2), 3) for _ in range(BOUNDARIES)]
    clock = LoopClock()
    treadmill = create_simulated_treadmill(clock)
    await treadmill.connect()
    options = EngineOptions(start_countdown=5.0)
    engine = Engine(treadmill, clock, options)
    ours: list[float] = []
    anchor: list[datetime] = []
    done = asyncio.get_running_loop().create_future()

    def listen(event: EngineEvent) -> None:
        now = datetime.now(UTC)
        if event.type is CueType.COUNTDOWN:
            anchor.append(event.at + timedelta(seconds=options.start_countdown))
        elif event.type is EventType.INTERVAL_STARTED:
            index = int(event.data["index"]) - 1
            planned = anchor[0] + timedelta(seconds=sum(durations[:index]))
            ours.append((now - planned).total_seconds())
            _noise()
        elif event.type is EventType.PROGRAMME_COMPLETED and not done.done():
            done.set_result((now - anchor[0]).total_seconds() - sum(durations))

    engine.add_listener(listen)
    await engine.run_timeline(_timeline(durations), key="timing")
    naive: list[float] = []
    naive_task = asyncio.create_task(_naive(durations, anchor[0], naive))
    our_drift = await done
    await naive_task
    await engine.stop("bench")
    await engine.close()
    await treadmill.disconnect()
    treadmill.simulator.close()
    # Boundaries after the first; the final boundary is the programme's end.
    return ours[1:], naive, our_drift, naive[-1]


def run() -> list[str]:
    """Return the figure lines."""
    ours, naive, our_drift, naive_drift = asyncio.run(_measure())
    ours_p99, naive_p99 = _p99(ours) * 1000, _p99(naive) * 1000
    ours_ms, naive_ms = our_drift * 1000, naive_drift * 1000
    return [
        f"boundary lateness p99: ours {ours_p99:.2f} ms; naive sleep chain {naive_p99:.2f} ms; "
        f"ratio {naive_p99 / max(ours_p99, 1e-3):.1f}",
        f"final drift: ours {ours_ms:.2f} ms; naive sleep chain {naive_ms:.2f} ms; "
        f"ratio {naive_ms / max(abs(ours_ms), 1e-3):.1f}",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
