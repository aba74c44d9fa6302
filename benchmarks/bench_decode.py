"""Time per Treadmill Data notification: our decoder against pyftms 0.4.15's, same bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.clock import ManualClock
from custom_components.treadreverse.treadmill.simulator import (
    SimulatedFtmsPeripheral,
    SimulatorConfig,
)

ROOT = Path(__file__).resolve().parent.parent
PYFTMS_DIR = ROOT / ".bench" / "pyftms"
PYFTMS = "pyftms==0.4.15"
REPEATS = 7


def _install_pyftms() -> None:
    """Install pyftms into a throwaway folder (git-ignored) unless it is there."""
    if (PYFTMS_DIR / "pyftms").is_dir():
        return
    # pyftms caps Python < 3.14 and pulls in bleak, which the venv has already.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(PYFTMS_DIR),
            "--ignore-requires-python",
            "--no-deps",
            PYFTMS,
        ],
        check=True,
    )


def _pyftms_decoder() -> Callable[[bytes], Any]:
    """Return pyftms' own Treadmill Data decoder (what its updater calls per notification)."""
    _install_pyftms()
    if str(PYFTMS_DIR) not in sys.path:
        sys.path.insert(0, str(PYFTMS_DIR))
    from pyftms.models.realtime_data import TreadmillData
    from pyftms.serializer import get_serializer

    return get_serializer(TreadmillData).deserialize


async def _capture(config: SimulatorConfig, seconds: int) -> list[bytes]:
    """Record the notifications of a simulated session with speed and incline changes."""
    clock = ManualClock()
    peripheral = SimulatedFtmsPeripheral(clock, config)
    packets: list[bytes] = []
    client = await peripheral.connect(lambda: None)
    await client.start_notify(ftms.TREADMILL_DATA, lambda _s, data: packets.append(bytes(data)))
    peripheral.console_start()
    for minute in range(seconds // 60):
        peripheral.console_set_speed(2.0 + (minute % 5))
        peripheral.console_set_incline(float(minute % 4))
        await clock.advance(60)
    peripheral.close()
    return packets


def _stream() -> list[bytes]:
    """Return a realistic stream: single records, then records split with More Data."""
    single = asyncio.run(_capture(SimulatorConfig(), 3000))
    split = asyncio.run(_capture(SimulatorConfig(split_records=True), 1200))
    return single + split


def _per_packet(decode: Callable[[bytes], Any], packets: list[bytes]) -> float:
    """Return the best time per packet in microseconds over a few passes."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for packet in packets:
            decode(packet)
        best = min(best, time.perf_counter_ns() - start)
    return best / len(packets) / 1000


def _check_agreement(theirs: Callable[[bytes], Any], packets: list[bytes]) -> None:
    """Make sure both decoders read the same values (a bench of wrong answers is worthless)."""
    for packet in packets[::97]:
        ours, other = ftms.decode_treadmill_data(packet), theirs(packet)
        if (ours.speed, ours.total_distance) != (other.speed_instant, other.distance_total):
            raise AssertionError(f"decoders disagree on {packet.hex()}")


def run() -> list[str]:
    """Return the `decode:` figure line."""
    packets = _stream()
    theirs = _pyftms_decoder()
    _check_agreement(theirs, packets)
    ours_us = _per_packet(ftms.decode_treadmill_data, packets)
    theirs_us = _per_packet(theirs, packets)
    return [
        f"decode: ours {ours_us:.2f} us; pyftms {theirs_us:.2f} us; ratio {theirs_us / ours_us:.1f}"
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
