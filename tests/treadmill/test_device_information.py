"""The Device Information Service (0x180A), read once when the treadmill first connects."""

from __future__ import annotations

from bleak.exc import BleakError
import pytest

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.clock import ManualClock
from custom_components.treadreverse.treadmill.ftms import DeviceInformation
from custom_components.treadreverse.treadmill.simulator import (
    DEVICE_INFORMATION,
    SimulatedFtmsPeripheral,
)

from .conftest import Factory


async def test_connect_reads_the_device_information(simulated: Factory) -> None:
    """The simulator names itself; the client reads all four strings."""
    treadmill, _ = await simulated()
    assert treadmill.device_information == DEVICE_INFORMATION
    assert DEVICE_INFORMATION.manufacturer == "TreadReverse"


async def test_without_the_service_every_string_is_unknown(simulated: Factory) -> None:
    """A machine without 0x180A connects as before and names nothing."""
    treadmill, _ = await simulated(device_information=None)
    assert treadmill.connected
    assert treadmill.device_information == DeviceInformation()


async def test_missing_and_unreadable_strings_are_unknown(
    simulated: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A string the machine lacks, or refuses to read, is None; the rest is read."""
    partial = DeviceInformation(manufacturer="Kingsmith", serial_number="KS123", firmware="2.1")
    real_read = SimulatedFtmsPeripheral.read

    def refuse_serial(self: SimulatedFtmsPeripheral, uuid: str) -> bytes:
        if uuid == ftms.SERIAL_NUMBER:
            raise BleakError("read not permitted")
        return real_read(self, uuid)

    monkeypatch.setattr(SimulatedFtmsPeripheral, "read", refuse_serial)
    treadmill, _ = await simulated(device_information=partial)
    assert treadmill.connected
    assert treadmill.device_information == DeviceInformation(
        manufacturer="Kingsmith", firmware="2.1"
    )


async def test_read_once_not_again_on_reconnect(
    simulated: Factory, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The strings name the machine: a reconnection does not read them again."""
    treadmill, _ = await simulated()
    sim = treadmill.simulator
    reads: list[str] = []
    real_read = sim.read

    def counting_read(uuid: str) -> bytes:
        reads.append(uuid)
        return real_read(uuid)

    monkeypatch.setattr(sim, "read", counting_read)
    sim.drop_link()
    await clock.advance(4)
    assert treadmill.connected
    assert reads  # capabilities are read again ...
    assert not set(reads) & set(ftms.DEVICE_INFORMATION_FIELDS)  # ... the device's name is not
    assert treadmill.device_information == DEVICE_INFORMATION


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Kingsmith", "Kingsmith"),
        (b"KS-R1\x00\x00\x00\x00", "KS-R1"),  # NUL padded
        (b"  1.2.3 \r\n", "1.2.3"),
        (b"\x00\x00", None),
        (b"", None),
        (b"Caf\xc3\xa9", "Café"),
        (b"bad \xff byte", "bad \ufffd byte"),
        (b"x" * 100, "x" * ftms.MAX_INFORMATION_LENGTH),
    ],
)
def test_decode_information_string(data: bytes, text: str | None) -> None:
    """UTF-8, trimmed, cut at the first NUL and at 64 characters; empty is unknown."""
    assert ftms.decode_information_string(data) == text
