"""FTMS (Fitness Machine Service 0x1826) codec for treadmills: pure functions and models.

Field layouts follow the Bluetooth SIG FTMS 1.0 specification. Decoding is strict about
length (a short packet raises FtmsDecodeError) and lenient about trailing bytes, which
some vendors append. Treadmill Data layouts are computed once per flags value and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cache
import struct

from .base import DataField, TreadmillError


class FtmsDecodeError(TreadmillError):
    """Bytes that are not a valid FTMS value."""


class FtmsEncodeError(TreadmillError, ValueError):
    """A value that cannot be encoded in its FTMS field."""


def uuid16(short: int) -> str:
    """Return the full Bluetooth base UUID of a 16-bit UUID."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


FTMS_SERVICE = uuid16(0x1826)
TRAINING_STATUS = uuid16(0x2AD3)
SUPPORTED_SPEED_RANGE = uuid16(0x2AD4)
SUPPORTED_INCLINATION_RANGE = uuid16(0x2AD5)
FITNESS_MACHINE_FEATURE = uuid16(0x2ACC)
TREADMILL_DATA = uuid16(0x2ACD)
CONTROL_POINT = uuid16(0x2AD9)
MACHINE_STATUS = uuid16(0x2ADA)

_U16 = struct.Struct("<H")
_S16 = struct.Struct("<h")
_RANGE_SPEED = struct.Struct("<HHH")
_RANGE_INCLINE = struct.Struct("<hhH")
_FEATURE = struct.Struct("<II")


# ---------------------------------------------------------------- Treadmill Data


@dataclass(frozen=True, slots=True)
class TreadmillData:
    """One Treadmill Data record (0x2ACD); None where the field is absent or unavailable."""

    more_data: bool = False
    speed: float | None = None  # km/h
    average_speed: float | None = None  # km/h
    total_distance: int | None = None  # m
    inclination: float | None = None  # %
    ramp_angle: float | None = None  # degrees
    positive_elevation_gain: float | None = None  # m
    negative_elevation_gain: float | None = None  # m
    instantaneous_pace: float | None = None  # km/min
    average_pace: float | None = None  # km/min
    total_energy: int | None = None  # kcal
    energy_per_hour: int | None = None  # kcal/h
    energy_per_minute: int | None = None  # kcal/min
    heart_rate: int | None = None  # bpm
    metabolic_equivalent: float | None = None
    elapsed_time: int | None = None  # s
    remaining_time: int | None = None  # s
    force_on_belt: int | None = None  # N
    power_output: int | None = None  # W
    step_count: int | None = None  # vendor extension (KingSmith, FitShow): flag bit 13


_FIELD_NAMES = tuple(f.name for f in fields(TreadmillData))
_INDEX = {name: index for index, name in enumerate(_FIELD_NAMES)}

# (flag bit, [(field, struct code, divisor, "not available" raw value)]) in wire order.
# Code "T" is a u24, read as a u16 plus a u8. Bit 0 is inverted: speed is present when CLEAR.
type _Spec = tuple[str, str, int, int | None]
_GROUPS: tuple[tuple[int, tuple[_Spec, ...]], ...] = (
    (0, (("speed", "H", 100, None),)),
    (1, (("average_speed", "H", 100, None),)),
    (2, (("total_distance", "T", 1, None),)),
    (3, (("inclination", "h", 10, 0x7FFF), ("ramp_angle", "h", 10, 0x7FFF))),
    (4, (("positive_elevation_gain", "H", 10, None), ("negative_elevation_gain", "H", 10, None))),
    (5, (("instantaneous_pace", "B", 10, None),)),
    (6, (("average_pace", "B", 10, None),)),
    (
        7,
        (
            ("total_energy", "H", 1, 0xFFFF),
            ("energy_per_hour", "H", 1, 0xFFFF),
            ("energy_per_minute", "B", 1, 0xFF),
        ),
    ),
    (8, (("heart_rate", "B", 1, None),)),
    (9, (("metabolic_equivalent", "B", 10, None),)),
    (10, (("elapsed_time", "H", 1, None),)),
    (11, (("remaining_time", "H", 1, None),)),
    (12, (("force_on_belt", "h", 1, None), ("power_output", "h", 1, None))),
    (13, (("step_count", "T", 1, None),)),
)
_FLAG_MORE_DATA = 0x0001


@dataclass(frozen=True, slots=True)
class _Layout:
    """How to read the fields of a Treadmill Data record with one flags value."""

    unpack_from: struct.Struct
    size: int  # bytes needed, flags included
    scaled: tuple[tuple[int, int, int, int | None], ...]  # (field, raw index, divisor, n/a)
    u24: tuple[tuple[int, int], ...]  # (field, raw index of the low u16)


def _group_present(bit: int, flags: int) -> bool:
    """Return whether a field group is in a record with these flags."""
    present = bool(flags & (1 << bit))
    return not present if bit == 0 else present


@cache
def _layout(flags: int) -> _Layout:
    """Compute (once per flags value) the struct and field map of a record."""
    codes: list[str] = []
    scaled: list[tuple[int, int, int, int | None]] = []
    u24: list[tuple[int, int]] = []
    for bit, specs in _GROUPS:
        if not _group_present(bit, flags):
            continue
        for name, code, divisor, absent in specs:
            if code == "T":
                u24.append((_INDEX[name], len(codes)))
                codes.extend(("H", "B"))
            else:
                scaled.append((_INDEX[name], len(codes), divisor, absent))
                codes.append(code)
    compiled = struct.Struct("<" + "".join(codes))
    return _Layout(compiled, compiled.size + 2, tuple(scaled), tuple(u24))


def decode_treadmill_data(data: bytes | bytearray) -> TreadmillData:
    """Decode one Treadmill Data notification."""
    if len(data) < 2:
        raise FtmsDecodeError("treadmill data: no flags")
    flags = data[0] | (data[1] << 8)
    layout = _layout(flags)
    if len(data) < layout.size:
        raise FtmsDecodeError(f"treadmill data: {len(data)} bytes, flags need {layout.size}")
    raw = layout.unpack_from.unpack_from(data, 2)
    values: list[object] = [None] * len(_FIELD_NAMES)
    values[0] = bool(flags & _FLAG_MORE_DATA)
    for target, index, divisor, absent in layout.scaled:
        value = raw[index]
        if value == absent:
            continue
        values[target] = value if divisor == 1 else value / divisor
    for target, index in layout.u24:
        values[target] = raw[index] | (raw[index + 1] << 16)
    return TreadmillData(*values)  # type: ignore[arg-type]


def _raw(value: float | None, divisor: int, absent: int | None, code: str) -> int:
    """Return the wire integer of a field value, checking its range."""
    if value is None:
        if absent is None:
            return 0
        return absent
    raw = round(value * divisor)
    low, high = {"H": (0, 0xFFFF), "h": (-0x8000, 0x7FFF), "B": (0, 0xFF), "T": (0, 0xFFFFFF)}[code]
    if not low <= raw <= high:
        raise FtmsEncodeError(f"{value} does not fit in its field")
    return raw


def encode_treadmill_data(record: TreadmillData) -> bytes:
    """Encode a Treadmill Data record; a group is sent when any of its fields is set."""
    flags = _FLAG_MORE_DATA if record.more_data else 0
    codes: list[str] = []
    values: list[int] = []
    for bit, specs in _GROUPS:
        if bit == 0:
            present = not record.more_data
        else:
            present = any(getattr(record, name) is not None for name, *_ in specs)
            flags |= (1 << bit) if present else 0
        if not present:
            continue
        for name, code, divisor, absent in specs:
            raw = _raw(getattr(record, name), divisor, absent, code)
            if code == "T":
                codes.extend(("H", "B"))
                values.extend((raw & 0xFFFF, raw >> 16))
            else:
                codes.append(code)
                values.append(raw)
    return struct.pack("<H" + "".join(codes), flags, *values)


# ---------------------------------------------------------------- Feature and ranges


class MachineFeature(IntEnum):
    """Bits of the Fitness Machine Features mask."""

    AVERAGE_SPEED = 0
    CADENCE = 1
    TOTAL_DISTANCE = 2
    INCLINATION = 3
    ELEVATION_GAIN = 4
    PACE = 5
    STEP_COUNT = 6
    RESISTANCE_LEVEL = 7
    STRIDE_COUNT = 8
    EXPENDED_ENERGY = 9
    HEART_RATE = 10
    METABOLIC_EQUIVALENT = 11
    ELAPSED_TIME = 12
    REMAINING_TIME = 13
    POWER = 14
    FORCE_ON_BELT = 15
    USER_DATA_RETENTION = 16


class TargetFeature(IntEnum):
    """Bits of the Target Setting Features mask."""

    SPEED = 0
    INCLINATION = 1
    RESISTANCE = 2
    POWER = 3
    HEART_RATE = 4
    EXPENDED_ENERGY = 5
    STEP_NUMBER = 6
    STRIDE_NUMBER = 7
    DISTANCE = 8
    TRAINING_TIME = 9


_FIELD_FEATURES = {
    MachineFeature.INCLINATION: DataField.INCLINE,
    MachineFeature.TOTAL_DISTANCE: DataField.DISTANCE,
    MachineFeature.ELAPSED_TIME: DataField.ELAPSED,
    MachineFeature.EXPENDED_ENERGY: DataField.ENERGY,
    MachineFeature.HEART_RATE: DataField.HEART_RATE,
    MachineFeature.STEP_COUNT: DataField.STEPS,
    MachineFeature.ELEVATION_GAIN: DataField.ELEVATION_GAIN,
}


@dataclass(frozen=True, slots=True)
class FitnessMachineFeature:
    """The Fitness Machine Feature value (0x2ACC): two bit masks."""

    machine: int = 0
    target: int = 0

    def has(self, feature: MachineFeature) -> bool:
        """Return whether the machine reports a feature."""
        return bool(self.machine & (1 << feature))

    def can_target(self, feature: TargetFeature) -> bool:
        """Return whether the machine accepts a target setting."""
        return bool(self.target & (1 << feature))

    def data_fields(self) -> frozenset[DataField]:
        """Return the LiveData fields this machine reports (speed always)."""
        found = {field for bit, field in _FIELD_FEATURES.items() if self.has(bit)}
        return frozenset({DataField.SPEED, *found})


def decode_feature(data: bytes | bytearray) -> FitnessMachineFeature:
    """Decode the Fitness Machine Feature characteristic."""
    if len(data) < _FEATURE.size:
        raise FtmsDecodeError(f"feature: {len(data)} bytes, need 8")
    machine, target = _FEATURE.unpack_from(data)
    return FitnessMachineFeature(machine, target)


def encode_feature(feature: FitnessMachineFeature) -> bytes:
    """Encode the Fitness Machine Feature characteristic."""
    return _FEATURE.pack(feature.machine, feature.target)


@dataclass(frozen=True, slots=True)
class SupportedRange:
    """A Supported Speed (km/h) or Inclination (%) Range."""

    minimum: float
    maximum: float
    step: float


def decode_speed_range(data: bytes | bytearray) -> SupportedRange:
    """Decode Supported Speed Range (0x2AD4): three u16 in 0.01 km/h."""
    if len(data) < _RANGE_SPEED.size:
        raise FtmsDecodeError(f"speed range: {len(data)} bytes, need 6")
    low, high, step = _RANGE_SPEED.unpack_from(data)
    return SupportedRange(low / 100, high / 100, step / 100)


def encode_speed_range(value: SupportedRange) -> bytes:
    """Encode Supported Speed Range."""
    raws = (_raw(v, 100, None, "H") for v in (value.minimum, value.maximum, value.step))
    return _RANGE_SPEED.pack(*raws)


def decode_inclination_range(data: bytes | bytearray) -> SupportedRange:
    """Decode Supported Inclination Range (0x2AD5): s16, s16, u16 in 0.1 %."""
    if len(data) < _RANGE_INCLINE.size:
        raise FtmsDecodeError(f"inclination range: {len(data)} bytes, need 6")
    low, high, step = _RANGE_INCLINE.unpack_from(data)
    return SupportedRange(low / 10, high / 10, step / 10)


def encode_inclination_range(value: SupportedRange) -> bytes:
    """Encode Supported Inclination Range."""
    return _RANGE_INCLINE.pack(
        _raw(value.minimum, 10, None, "h"),
        _raw(value.maximum, 10, None, "h"),
        _raw(value.step, 10, None, "H"),
    )


# ---------------------------------------------------------------- Training Status


class TrainingStatusCode(IntEnum):
    """Training Status codes (0x2AD3)."""

    OTHER = 0x00
    IDLE = 0x01
    WARMING_UP = 0x02
    LOW_INTENSITY_INTERVAL = 0x03
    HIGH_INTENSITY_INTERVAL = 0x04
    RECOVERY_INTERVAL = 0x05
    ISOMETRIC = 0x06
    HEART_RATE_CONTROL = 0x07
    FITNESS_TEST = 0x08
    SPEED_TOO_LOW = 0x09
    SPEED_TOO_HIGH = 0x0A
    COOL_DOWN = 0x0B
    WATT_CONTROL = 0x0C
    MANUAL_MODE = 0x0D
    PRE_WORKOUT = 0x0E
    POST_WORKOUT = 0x0F


@dataclass(frozen=True, slots=True)
class TrainingStatus:
    """A Training Status value: a code (int when unknown) and an optional string."""

    status: TrainingStatusCode | int
    text: str | None = None


def decode_training_status(data: bytes | bytearray) -> TrainingStatus:
    """Decode Training Status: flags u8 (bit 0: string present), status u8, string."""
    if len(data) < 2:
        raise FtmsDecodeError(f"training status: {len(data)} bytes, need 2")
    code = data[1]
    status = TrainingStatusCode(code) if code <= TrainingStatusCode.POST_WORKOUT else code
    text = None
    if data[0] & 0x01:
        # Vendors send latin-1 as often as UTF-8: never fail on the text.
        text = bytes(data[2:]).decode("utf-8", errors="replace")
    return TrainingStatus(status, text)


def encode_training_status(value: TrainingStatus) -> bytes:
    """Encode Training Status."""
    if value.text is None:
        return bytes((0, int(value.status)))
    return bytes((1, int(value.status))) + value.text.encode()


# ---------------------------------------------------------------- Machine Status


class MachineStatusCode(IntEnum):
    """Fitness Machine Status op codes (0x2ADA) that a treadmill sends."""

    RESET = 0x01
    STOPPED_OR_PAUSED = 0x02
    STOPPED_BY_SAFETY_KEY = 0x03
    STARTED_OR_RESUMED = 0x04
    TARGET_SPEED_CHANGED = 0x05
    TARGET_INCLINE_CHANGED = 0x06
    TARGET_EXPENDED_ENERGY_CHANGED = 0x0A
    TARGET_STEPS_CHANGED = 0x0B
    TARGET_DISTANCE_CHANGED = 0x0D
    TARGET_TIME_CHANGED = 0x0E
    CONTROL_PERMISSION_LOST = 0xFF


STOP = 1  # Stop or Pause parameter (control point 0x08 and status 0x02)
PAUSE = 2

# Parameter layout of the status codes that carry one: (struct code, divisor).
_STATUS_PARAMS: dict[int, tuple[str, int]] = {
    MachineStatusCode.STOPPED_OR_PAUSED: ("B", 1),
    MachineStatusCode.TARGET_SPEED_CHANGED: ("H", 100),
    MachineStatusCode.TARGET_INCLINE_CHANGED: ("h", 10),
    MachineStatusCode.TARGET_EXPENDED_ENERGY_CHANGED: ("H", 1),
    MachineStatusCode.TARGET_STEPS_CHANGED: ("H", 1),
    MachineStatusCode.TARGET_DISTANCE_CHANGED: ("T", 1),
    MachineStatusCode.TARGET_TIME_CHANGED: ("H", 1),
}
_CODE_SIZES = {"B": 1, "H": 2, "h": 2, "T": 3}


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """One Fitness Machine Status notification; value in km/h, %, m, s as relevant."""

    code: int
    value: float | None = None


def _unpack(code: str, data: bytes | bytearray, offset: int) -> int:
    """Read one little-endian integer of a struct code (T = u24)."""
    if code == "T":
        return int.from_bytes(data[offset : offset + 3], "little")
    value: int = struct.unpack_from("<" + code, data, offset)[0]
    return value


def decode_machine_status(data: bytes | bytearray) -> MachineStatus:
    """Decode a Fitness Machine Status notification; unknown codes keep no value."""
    if not data:
        raise FtmsDecodeError("machine status: empty")
    code = data[0]
    param = _STATUS_PARAMS.get(code)
    if param is None:
        return MachineStatus(code)
    fmt, divisor = param
    if len(data) < 1 + _CODE_SIZES[fmt]:
        raise FtmsDecodeError(f"machine status {code:#04x}: parameter missing")
    raw = _unpack(fmt, data, 1)
    return MachineStatus(code, raw if divisor == 1 else raw / divisor)


def encode_machine_status(status: MachineStatus) -> bytes:
    """Encode a Fitness Machine Status notification."""
    param = _STATUS_PARAMS.get(status.code)
    if param is None or status.value is None:
        return bytes((status.code,))
    fmt, divisor = param
    return bytes((status.code,)) + _pack(fmt, _raw(status.value, divisor, None, fmt))


def _pack(code: str, raw: int) -> bytes:
    """Write one little-endian integer of a struct code (T = u24)."""
    if code == "T":
        return raw.to_bytes(3, "little")
    return struct.pack("<" + code, raw)


# ---------------------------------------------------------------- Control Point


class ControlOpcode(IntEnum):
    """Fitness Machine Control Point op codes used for treadmills."""

    REQUEST_CONTROL = 0x00
    RESET = 0x01
    SET_TARGET_SPEED = 0x02
    SET_TARGET_INCLINATION = 0x03
    START_OR_RESUME = 0x07
    STOP_OR_PAUSE = 0x08
    SET_TARGET_DISTANCE = 0x0C
    SET_TARGET_TIME = 0x0D
    RESPONSE = 0x80


class ResultCode(IntEnum):
    """Control Point result codes."""

    SUCCESS = 0x01
    NOT_SUPPORTED = 0x02
    INVALID_PARAMETER = 0x03
    OPERATION_FAILED = 0x04
    CONTROL_NOT_PERMITTED = 0x05


# Parameter of each request: (struct code, multiplier), None for no parameter.
_REQUEST_PARAMS: dict[int, tuple[str, int] | None] = {
    ControlOpcode.REQUEST_CONTROL: None,
    ControlOpcode.RESET: None,
    ControlOpcode.SET_TARGET_SPEED: ("H", 100),
    ControlOpcode.SET_TARGET_INCLINATION: ("h", 10),
    ControlOpcode.START_OR_RESUME: None,
    ControlOpcode.STOP_OR_PAUSE: ("B", 1),
    ControlOpcode.SET_TARGET_DISTANCE: ("T", 1),
    ControlOpcode.SET_TARGET_TIME: ("H", 1),
}


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """A Control Point request: op code and parameter in its natural unit."""

    opcode: ControlOpcode
    value: float | None = None


def encode_request(request: ControlRequest) -> bytes:
    """Encode a Control Point request; raise FtmsEncodeError on a bad parameter."""
    param = _REQUEST_PARAMS.get(request.opcode)
    if param is None:
        if request.opcode not in _REQUEST_PARAMS:
            raise FtmsEncodeError(f"op code {request.opcode:#04x} is not a treadmill request")
        return bytes((request.opcode,))
    if request.value is None:
        raise FtmsEncodeError(f"op code {request.opcode:#04x} needs a parameter")
    fmt, multiplier = param
    return bytes((request.opcode,)) + _pack(fmt, _raw(request.value, multiplier, None, fmt))


def decode_request(data: bytes | bytearray) -> ControlRequest:
    """Decode a Control Point request (what a treadmill receives)."""
    if not data:
        raise FtmsDecodeError("control point request: empty")
    if data[0] not in _REQUEST_PARAMS:
        raise FtmsDecodeError(f"control point request: unknown op code {data[0]:#04x}")
    opcode = ControlOpcode(data[0])
    param = _REQUEST_PARAMS[opcode]
    if param is None:
        return ControlRequest(opcode)
    fmt, divisor = param
    if len(data) < 1 + _CODE_SIZES[fmt]:
        raise FtmsDecodeError(f"control point request {opcode:#04x}: parameter missing")
    raw = _unpack(fmt, data, 1)
    return ControlRequest(opcode, raw if divisor == 1 else raw / divisor)


def request_control() -> bytes:
    """Encode Request Control (0x00)."""
    return encode_request(ControlRequest(ControlOpcode.REQUEST_CONTROL))


def reset() -> bytes:
    """Encode Reset (0x01)."""
    return encode_request(ControlRequest(ControlOpcode.RESET))


def set_target_speed(speed: float) -> bytes:
    """Encode Set Target Speed (0x02) in km/h."""
    return encode_request(ControlRequest(ControlOpcode.SET_TARGET_SPEED, speed))


def set_target_inclination(incline: float) -> bytes:
    """Encode Set Target Inclination (0x03) in %."""
    return encode_request(ControlRequest(ControlOpcode.SET_TARGET_INCLINATION, incline))


def start_or_resume() -> bytes:
    """Encode Start or Resume (0x07)."""
    return encode_request(ControlRequest(ControlOpcode.START_OR_RESUME))


def stop() -> bytes:
    """Encode Stop (0x08, parameter 1)."""
    return encode_request(ControlRequest(ControlOpcode.STOP_OR_PAUSE, STOP))


def pause() -> bytes:
    """Encode Pause (0x08, parameter 2)."""
    return encode_request(ControlRequest(ControlOpcode.STOP_OR_PAUSE, PAUSE))


def set_target_distance(metres: int) -> bytes:
    """Encode Set Targeted Distance (0x0C) in m."""
    return encode_request(ControlRequest(ControlOpcode.SET_TARGET_DISTANCE, metres))


def set_target_time(seconds: int) -> bytes:
    """Encode Set Targeted Training Time (0x0D) in s."""
    return encode_request(ControlRequest(ControlOpcode.SET_TARGET_TIME, seconds))


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """A Control Point indication: the request op code and its result."""

    opcode: int
    result: ResultCode | int
    parameter: bytes = b""

    @property
    def ok(self) -> bool:
        """Return whether the request succeeded."""
        return self.result == ResultCode.SUCCESS


def decode_response(data: bytes | bytearray) -> ControlResponse:
    """Decode a Control Point indication `[0x80, op code, result, parameter...]`."""
    if len(data) < 3 or data[0] != ControlOpcode.RESPONSE:
        raise FtmsDecodeError(f"control point response: bad bytes {bytes(data).hex()}")
    result = data[2]
    known = ResultCode.SUCCESS <= result <= ResultCode.CONTROL_NOT_PERMITTED
    return ControlResponse(data[1], ResultCode(result) if known else result, bytes(data[3:]))


def encode_response(response: ControlResponse) -> bytes:
    """Encode a Control Point indication."""
    return bytes((ControlOpcode.RESPONSE, response.opcode, response.result)) + response.parameter


# ---------------------------------------------------------------- Device Information (0x180A)

DEVICE_INFORMATION = uuid16(0x180A)
MANUFACTURER_NAME = uuid16(0x2A29)
MODEL_NUMBER = uuid16(0x2A24)
SERIAL_NUMBER = uuid16(0x2A25)
FIRMWARE_REVISION = uuid16(0x2A26)
MAX_INFORMATION_LENGTH = 64  # characters kept of a string; the spec sets no limit


@dataclass(frozen=True, slots=True)
class DeviceInformation:
    """What the Device Information Service says; None where the machine has no such string."""

    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware: str | None = None


# Which characteristic fills which field of DeviceInformation.
DEVICE_INFORMATION_FIELDS = {
    MANUFACTURER_NAME: "manufacturer",
    MODEL_NUMBER: "model",
    SERIAL_NUMBER: "serial_number",
    FIRMWARE_REVISION: "firmware",
}


def decode_information_string(data: bytes | bytearray) -> str | None:
    """Decode a DIS UTF-8 string; None for an empty one (vendors pad with NULs or spaces)."""
    text = bytes(data).split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    return text[:MAX_INFORMATION_LENGTH] or None


def encode_information_string(text: str) -> bytes:
    """Encode a DIS UTF-8 string."""
    return text.encode("utf-8")
