"""What FTMS service data in an advertisement says about the machine."""

from __future__ import annotations

import pytest

from custom_components.treadreverse.treadmill.advertisement import (
    MachineType,
    advertised_machine_type,
    may_be_treadmill,
)
from custom_components.treadreverse.treadmill.ftms import FTMS_SERVICE

HEART_RATE = "0000180d-0000-1000-8000-00805f9b34fb"


@pytest.mark.parametrize(
    ("data", "machine", "treadmill"),
    [
        (b"\x01\x01\x00", MachineType.TREADMILL, True),
        (b"\x00\x01\x00", MachineType.TREADMILL, True),  # not available now: still a treadmill
        (b"\x01\x20\x00", MachineType.INDOOR_BIKE, False),
        (b"\x01\x10\x00", MachineType.ROWER, False),
        (b"\x01\x03\x00", MachineType.TREADMILL | MachineType.CROSS_TRAINER, True),
        (b"\x01\x20\x80", MachineType.INDOOR_BIKE, False),  # reserved bits are ignored
        (b"\x01\x00\x00", MachineType(0), False),  # says it is none of the known machines
        (b"\x01\x01", None, True),  # truncated: says nothing
        (b"", None, True),
    ],
)
def test_service_data(data: bytes, machine: MachineType | None, treadmill: bool) -> None:
    """The flags byte is skipped; the 16-bit little-endian machine type decides."""
    service_data = {FTMS_SERVICE: data}
    assert advertised_machine_type(service_data) == machine
    assert may_be_treadmill(service_data) is treadmill


def test_without_ftms_service_data_anything_may_be_a_treadmill() -> None:
    """Many treadmills send no service data: they are offered."""
    assert advertised_machine_type({}) is None
    assert may_be_treadmill({HEART_RATE: b"\x20\x00\x00"})
