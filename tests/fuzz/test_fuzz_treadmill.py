"""Random and adversarial byte streams through the real FTMS client on the simulated peripheral.

Not only the decoders: the bytes arrive as the peripheral's notifications and reads, through
the simulated bleak client, into FtmsTreadmill. Whatever arrives, the client drops what it
cannot use, never raises from a callback, never writes a belt command of its own (the belt
does not move), a command in flight ends as done or as a TreadmillError, and a set-up ends
connected with sane ranges or as a TreadmillConnectionError.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

from bleak.exc import BleakError
from hypothesis import given, strategies as st
import pytest

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.base import TreadmillConnectionError, TreadmillError
from custom_components.treadreverse.treadmill.clock import ManualClock, settle
from custom_components.treadreverse.treadmill.ftms import ControlOpcode
from custom_components.treadreverse.treadmill.simulator import (
    BeltState,
    SimulatorConfig,
    _Services as Services,
    create_simulated_treadmill,
)

from .budget import examples
from .tally import Refused, outcome

NOTIFIED = [ftms.TREADMILL_DATA, ftms.MACHINE_STATUS, ftms.CONTROL_POINT, ftms.TRAINING_STATUS]
READ = [ftms.FITNESS_MACHINE_FEATURE, ftms.SUPPORTED_SPEED_RANGE, ftms.SUPPORTED_INCLINATION_RANGE]
UNKNOWN = "0000ffff-0000-1000-8000-00805f9b34fb"


def _u16(value: int) -> bytes:
    return (value & 0xFFFF).to_bytes(2, "little")


@st.composite
def treadmill_data(draw: st.DrawFn) -> bytes:
    """Draw Treadmill Data: random flags, fields of random bytes, often cut short."""
    flags = draw(st.integers(0, 0xFFFF))
    body = draw(st.binary(max_size=40))
    return _u16(flags) + body


@st.composite
def split_record(draw: st.DrawFn) -> list[bytes]:
    """Draw a record split over More Data packets, some never finished, some with bad parts."""
    parts = [
        _u16(draw(st.integers(0, 0xFFFF)) | 0x0001) + draw(st.binary(max_size=12))
        for _ in range(draw(st.integers(1, 4)))
    ]
    if draw(st.booleans()):
        parts.append(_u16(draw(st.integers(0, 0xFFFF)) & ~0x0001) + draw(st.binary(max_size=12)))
    return parts


machine_status = st.builds(
    lambda code, body: bytes([code]) + body, st.integers(0, 255), st.binary(max_size=6)
)
responses = st.builds(
    lambda lead, opcode, result, body: bytes([lead, opcode, result]) + body,
    st.sampled_from([0x80, 0x80, 0x80, 0x00, 0x81]),
    st.sampled_from(list(ControlOpcode)) | st.integers(0, 255),
    st.integers(0, 7),
    st.binary(max_size=3),
)
packets = st.one_of(
    st.tuples(st.just(ftms.TREADMILL_DATA), treadmill_data().map(lambda d: [d])),
    st.tuples(st.just(ftms.TREADMILL_DATA), split_record()),
    st.tuples(st.just(ftms.MACHINE_STATUS), machine_status.map(lambda d: [d])),
    st.tuples(st.just(ftms.CONTROL_POINT), responses.map(lambda d: [d])),
    st.tuples(st.sampled_from([*NOTIFIED, UNKNOWN]), st.binary(max_size=30).map(lambda d: [d])),
)
BELT_OPCODES = {
    ControlOpcode.SET_TARGET_SPEED,
    ControlOpcode.SET_TARGET_INCLINATION,
    ControlOpcode.START_OR_RESUME,
    ControlOpcode.SET_TARGET_DISTANCE,
    ControlOpcode.SET_TARGET_TIME,
}


CLIENT_LOGGER = "custom_components.treadreverse.treadmill.client"


def _logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """Each kind of dropped data is logged once above debug per link (one link here)."""
    dropped = [
        r.getMessage().split(" it cannot use")[0]
        for r in caplog.records
        if r.name == CLIENT_LOGGER and r.levelno > logging.DEBUG and "dropped" in r.getMessage()
    ]
    assert len(dropped) == len(set(dropped)), dropped


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return and forget the records at error level or above."""
    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    return bad


async def _stream(stream: list[tuple[str, list[bytes]]], in_flight: bool) -> None:
    """Connect, maybe start a control request, pour the stream in, check the belt."""
    clock = ManualClock()
    treadmill = create_simulated_treadmill(clock, SimulatorConfig())
    sim = treadmill.simulator
    await treadmill.connect()
    await settle(50)
    writes = len(sim.writes)
    task = asyncio.ensure_future(treadmill.request_control()) if in_flight else None
    for uuid, chunks in stream:
        for chunk in chunks:
            sim._notify(uuid, chunk)
        await settle(5)
    await clock.advance(6)  # any command in flight times out or is answered
    if task is not None:
        await settle(20)
        assert task.done()
        with contextlib.suppress(TreadmillError):  # refused or timed out: both fine
            task.result()
    assert sim.state is BeltState.STOPPED
    assert sim.belt_speed == 0
    sent = [data[0] for data in sim.writes[writes:] if data]
    assert not BELT_OPCODES & set(sent), sent
    await treadmill.disconnect()
    sim.close()
    await settle(20)


@examples(treadmill=True)
@given(stream=st.lists(packets, max_size=12), in_flight=st.booleans())
def test_byte_streams_are_dropped_never_crash_never_move_the_belt(
    caplog: pytest.LogCaptureFixture, stream: list[tuple[str, list[bytes]]], in_flight: bool
) -> None:
    """Notifications of random and adversarial bytes, a control request maybe in flight."""
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger=CLIENT_LOGGER)
    with outcome("treadmill: byte streams"):
        loop = asyncio.new_event_loop()
        errors: list[Any] = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        try:
            loop.run_until_complete(_stream(stream, in_flight))
        finally:
            loop.close()
        assert not errors, errors  # a callback that raised: the loop's handler saw it
        _logged_once(caplog)
        assert not _errors(caplog)


reads = st.one_of(
    st.binary(max_size=12),
    st.builds(
        lambda low, high, step: _u16(low) + _u16(high) + _u16(step),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
        st.sampled_from([0, 0, 1, 10, 0xFFFF]),
    ),
    st.just(b"error"),
)


async def _set_up(characteristics: frozenset[str], values: dict[str, bytes]) -> bool:
    """Connect to a peripheral with these characteristics and read values; return success."""
    clock = ManualClock()
    treadmill = create_simulated_treadmill(clock, keep_connected=False)
    sim = treadmill.simulator
    sim.services = Services(characteristics)

    def read(uuid: str) -> bytes:
        value = values.get(uuid, b"error")
        if value == b"error":
            raise BleakError("read failed")
        return value

    sim.read = read  # type: ignore[method-assign]
    try:
        await treadmill.connect()
    except TreadmillConnectionError:
        assert not sim.connected
        return False
    caps = treadmill.capabilities
    for machine_range in (caps.speed, caps.incline):
        if machine_range is not None:
            assert math.isfinite(machine_range.minimum)
            assert machine_range.minimum <= machine_range.maximum
            assert machine_range.step > 0
    assert not sim.writes  # connecting never commands the belt
    await treadmill.disconnect()
    sim.close()
    await settle(20)
    return True


@examples(treadmill=True)
@given(
    characteristics=st.frozensets(st.sampled_from([*NOTIFIED, *READ])),
    values=st.dictionaries(st.sampled_from(READ), reads),
)
def test_set_up_with_missing_or_wrong_characteristics(
    caplog: pytest.LogCaptureFixture, characteristics: frozenset[str], values: dict[str, bytes]
) -> None:
    """Characteristics missing, of the wrong length, absurd ranges: connected sanely or refused."""
    caplog.clear()
    with outcome("treadmill: set-up"):
        connected = asyncio.run(_set_up(characteristics, values))
        assert not _errors(caplog)
        if not connected:
            raise Refused


async def _bad_packets(count: int) -> tuple[list[Any], Any]:
    """Send half a split record, then `count` broken packets, then the record's end."""
    clock = ManualClock()
    treadmill = create_simulated_treadmill(clock, SimulatorConfig())
    sim = treadmill.simulator
    await treadmill.connect()
    await settle(50)
    seen: list[Any] = []
    treadmill.subscribe(seen.append, lambda _event: None)
    speed_part = ftms.encode_treadmill_data(ftms.TreadmillData(more_data=True, speed=5.0))
    sim._notify(ftms.TREADMILL_DATA, speed_part)
    for _ in range(count):
        sim._notify(ftms.TREADMILL_DATA, b"\x01")  # too short: not even flags
    sim._notify(
        ftms.TREADMILL_DATA, ftms.encode_treadmill_data(ftms.TreadmillData(total_distance=7))
    )
    await settle(20)
    await treadmill.disconnect()
    sim.close()
    await settle(20)
    return seen, treadmill


def test_bad_data_is_logged_once_and_breaks_its_record(caplog: pytest.LogCaptureFixture) -> None:
    """Five broken packets: one line above debug, and the record they broke is not published."""
    caplog.set_level(logging.DEBUG, logger=CLIENT_LOGGER)
    seen, _ = asyncio.run(_bad_packets(5))
    above_debug = [
        r for r in caplog.records if r.name == CLIENT_LOGGER and r.levelno > logging.DEBUG
    ]
    assert [r.getMessage() for r in above_debug if "dropped" in r.getMessage()] == [
        "Simulated treadmill: dropped treadmill data it cannot use (more of the kind are "
        "logged at debug): treadmill data: no flags"
    ]
    # The record's first half (speed 5) went with the broken packet; only the next one counts.
    assert all(data.speed != 5.0 for data in seen)
