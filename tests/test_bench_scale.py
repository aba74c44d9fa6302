"""The scale benchmark's bookkeeping: planned belt commands and their writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks.bench_scale import (
    PROGRAMME,
    SPEEDS,
    Planned,
    Result,
    _lines,
    _match,
    _planned,
)
from custom_components.treadreverse.programme.compiler import compile_programme
from custom_components.treadreverse.programme.options import EngineOptions
from custom_components.treadreverse.programme.schema import Programme
from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.clock import ManualClock
from custom_components.treadreverse.treadmill.ftms import ControlOpcode
from custom_components.treadreverse.treadmill.simulator import create_simulated_treadmill

ANCHOR = datetime(2026, 1, 1, 8, 0, 10, tzinfo=UTC)


async def test_planned_commands_follow_the_timeline() -> None:
    """The start at the countdown's end, a speed change at each boundary, the stop at the end."""
    treadmill = create_simulated_treadmill(ManualClock())
    await treadmill.connect()
    try:
        timeline = compile_programme(
            Programme.from_dict(PROGRAMME), EngineOptions(start_countdown=5), treadmill.capabilities
        )
    finally:
        await treadmill.disconnect()
        treadmill.simulator.close()
    planned = _planned(timeline, ANCHOR)
    speed = ControlOpcode.SET_TARGET_SPEED
    assert [c.opcode for c in planned] == [
        ControlOpcode.START_OR_RESUME,
        *[speed] * (len(SPEEDS) - 1),
        ControlOpcode.STOP_OR_PAUSE,
    ]
    assert [c.at - ANCHOR.timestamp() for c in planned] == [
        float(i) for i in range(len(SPEEDS) + 1)
    ]
    assert [c.value for c in planned[1:-1]] == list(SPEEDS[1:])


def test_writes_are_matched_in_order_skipping_the_others() -> None:
    """Control requests and the start's speed are not belt commands of their own."""
    t0 = ANCHOR.timestamp()
    planned = [
        Planned(t0, ControlOpcode.START_OR_RESUME),
        Planned(t0 + 1, ControlOpcode.SET_TARGET_SPEED, 4.0),
        Planned(t0 + 2, ControlOpcode.STOP_OR_PAUSE, ftms.STOP),
    ]
    writes = [
        (t0 - 5, ftms.request_control()),
        (t0 + 0.001, ftms.set_target_speed(3.0)),
        (t0 + 0.002, ftms.start_or_resume()),
        (t0 + 1.003, ftms.set_target_speed(4.0)),
        (t0 + 2.004, ftms.stop()),
    ]
    pairs = _match(planned, writes)
    assert [round(w - p, 6) for p, w in pairs] == [0.002, 0.003, 0.004]
    with pytest.raises(RuntimeError, match="no write"):
        _match(planned, writes[:-1])


def test_lines_report_lateness_and_gc() -> None:
    """One lateness line and one cost line per scenario."""
    t0 = ANCHOR.timestamp()
    result = Result(2, "aligned", wall_s=60.0, cpu_s=1.0, peak_rss=2**20)
    result.commands = [(ControlOpcode.SET_TARGET_SPEED, t0, t0 + 0.010)] * 2
    lateness, cost = _lines(result, "")
    assert lateness.startswith("scale aligned N=2 lateness: p50 10.0 ms, p99 10.0 ms, max 10.0 ms")
    assert "gc pauses on boundaries 0 of 0 full collections" in lateness
    assert cost == (
        "scale aligned N=2 cost: 0.50 CPU s per treadmill-minute; "
        "0.0 young collections per treadmill-minute; peak RSS 1 MiB"
    )
