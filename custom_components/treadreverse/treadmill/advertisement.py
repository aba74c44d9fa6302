"""What an FTMS advertisement says about the machine, before any connection."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntFlag

from .ftms import FTMS_SERVICE


class MachineType(IntFlag):
    """The Fitness Machine Type field of FTMS service data (FTMS 1.0, section 4.1)."""

    TREADMILL = 1 << 0
    CROSS_TRAINER = 1 << 1
    STEP_CLIMBER = 1 << 2
    STAIR_CLIMBER = 1 << 3
    ROWER = 1 << 4
    INDOOR_BIKE = 1 << 5


def advertised_machine_type(service_data: Mapping[str, bytes]) -> MachineType | None:
    """Return the machine types an advertisement announces, or None when it does not say.

    The FTMS service data is a flags byte (bit 0: the machine is available) followed by
    the 16-bit little-endian Fitness Machine Type. Many treadmills send no service data.
    """
    data = service_data.get(FTMS_SERVICE)
    if data is None or len(data) < 3:
        return None
    return MachineType(int.from_bytes(data[1:3], "little") & _KNOWN)


def may_be_treadmill(service_data: Mapping[str, bytes]) -> bool:
    """Return False only for a machine whose advertisement says it is no treadmill."""
    machine = advertised_machine_type(service_data)
    return machine is None or MachineType.TREADMILL in machine


_KNOWN = sum(MachineType)
