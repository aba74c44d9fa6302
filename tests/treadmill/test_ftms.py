"""Tests of the FTMS codec: byte vectors, round trips and fuzzing."""

from __future__ import annotations

import contextlib

from hypothesis import given, strategies as st
import pytest

from custom_components.treadreverse.treadmill import ftms
from custom_components.treadreverse.treadmill.base import DataField
from custom_components.treadreverse.treadmill.ftms import (
    ControlOpcode,
    ControlRequest,
    ControlResponse,
    FitnessMachineFeature,
    FtmsDecodeError,
    FtmsEncodeError,
    MachineFeature,
    MachineStatus,
    MachineStatusCode,
    ResultCode,
    SupportedRange,
    TargetFeature,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
)

# ---------------------------------------------------------------- Treadmill Data vectors


def test_speed_only() -> None:
    # Flags 0x0000: only the instantaneous speed (u16, 0.01 km/h): 0x015E = 350 -> 3.50.
    assert ftms.decode_treadmill_data(bytes.fromhex("00005e01")) == TreadmillData(speed=3.5)


def test_citysports_linker_capture() -> None:
    # Shape of a real capture from a CITYSPORTS-Linker walking pad, documented in
    # hughesjs/FitnessMachine protocol/README.md: flags 0x2484 = distance (bit 2),
    # energy (7), elapsed (10) and the vendor step count (13); per-hour and per-minute
    # energy are "not available" (0xFFFF, 0xFF).
    data = bytes.fromhex("8424 5e01 e80300 0c00 ffff ff 3c00 d20400")
    assert ftms.decode_treadmill_data(data) == TreadmillData(
        speed=3.5, total_distance=1000, total_energy=12, elapsed_time=60, step_count=1234
    )


def test_every_field() -> None:
    # Every flag bit 1..13 set, bit 0 clear (speed present), laid out per FTMS 1.0 4.9.1.
    parts = [
        "fe3f",  # flags
        "f401",  # speed 5.00
        "e001",  # average speed 4.80
        "a08601",  # distance 100000 m (u24)
        "1900 0f00",  # inclination 2.5 %, ramp angle 1.5 deg
        "6400 0a00",  # elevation gain +10.0 m, -1.0 m
        "0c 0b",  # pace 1.2 and average pace 1.1 km/min
        "2c01 5e01 06",  # energy 300 kcal, 350 kcal/h, 6 kcal/min
        "78",  # heart rate 120
        "2d",  # MET 4.5
        "100e",  # elapsed 3600 s
        "2c01",  # remaining 300 s
        "9cff c800",  # force -100 N, power 200 W
        "40420f",  # steps 1000000 (u24)
    ]
    data = bytes.fromhex(" ".join(parts))
    assert ftms.decode_treadmill_data(data) == TreadmillData(
        speed=5.0,
        average_speed=4.8,
        total_distance=100000,
        inclination=2.5,
        ramp_angle=1.5,
        positive_elevation_gain=10.0,
        negative_elevation_gain=1.0,
        instantaneous_pace=1.2,
        average_pace=1.1,
        total_energy=300,
        energy_per_hour=350,
        energy_per_minute=6,
        heart_rate=120,
        metabolic_equivalent=4.5,
        elapsed_time=3600,
        remaining_time=300,
        force_on_belt=-100,
        power_output=200,
        step_count=1000000,
    )


def test_negative_inclination_and_unavailable() -> None:
    # Inclination -3.0 % (s16 0xFFE2) and ramp angle "not available" (0x7FFF).
    data = bytes.fromhex("0800 0000 e2ff ff7f")
    assert ftms.decode_treadmill_data(data) == TreadmillData(speed=0.0, inclination=-3.0)


def test_more_data_record_has_no_speed() -> None:
    # Bit 0 set: "More Data", the instantaneous speed is absent from this packet.
    data = bytes.fromhex("0504 102700 3000")
    assert ftms.decode_treadmill_data(data) == TreadmillData(
        more_data=True, total_distance=10000, elapsed_time=48
    )


def test_trailing_vendor_bytes_are_ignored() -> None:
    assert ftms.decode_treadmill_data(bytes.fromhex("00005e01aabb")).speed == 3.5


@pytest.mark.parametrize("hexdata", ["", "00", "0000", "00005e", "04005e01e803"])
def test_short_treadmill_data(hexdata: str) -> None:
    with pytest.raises(FtmsDecodeError):
        ftms.decode_treadmill_data(bytes.fromhex(hexdata))


def test_encode_treadmill_data_vector() -> None:
    record = TreadmillData(speed=3.5, total_distance=1000, total_energy=12, step_count=1234)
    assert ftms.encode_treadmill_data(record).hex() == "84205e01e803000c00ffffffd20400"


def test_encode_out_of_range() -> None:
    with pytest.raises(FtmsEncodeError):
        ftms.encode_treadmill_data(TreadmillData(speed=700.0))


_records = st.builds(
    TreadmillData,
    more_data=st.booleans(),
    speed=st.integers(0, 0xFFFF).map(lambda v: v / 100),
    average_speed=st.none() | st.integers(0, 0xFFFF).map(lambda v: v / 100),
    total_distance=st.none() | st.integers(0, 0xFFFFFF),
    inclination=st.none() | st.integers(-0x8000, 0x7FFE).map(lambda v: v / 10),
    ramp_angle=st.none() | st.integers(-0x8000, 0x7FFE).map(lambda v: v / 10),
    positive_elevation_gain=st.none() | st.integers(0, 0xFFFF).map(lambda v: v / 10),
    negative_elevation_gain=st.none() | st.integers(0, 0xFFFF).map(lambda v: v / 10),
    instantaneous_pace=st.none() | st.integers(0, 0xFF).map(lambda v: v / 10),
    total_energy=st.none() | st.integers(0, 0xFFFE),
    heart_rate=st.none() | st.integers(0, 0xFF),
    elapsed_time=st.none() | st.integers(0, 0xFFFF),
    step_count=st.none() | st.integers(0, 0xFFFFFF),
)


def _normalise(record: TreadmillData) -> TreadmillData:
    """Expect what a group-wise encoding brings back (a half-set group comes back half)."""
    speed = None if record.more_data else record.speed
    elevation = record.positive_elevation_gain, record.negative_elevation_gain
    if elevation != (None, None):
        elevation = tuple(v if v is not None else 0.0 for v in elevation)  # type: ignore[assignment]
    return TreadmillData(
        more_data=record.more_data,
        speed=speed,
        average_speed=record.average_speed,
        total_distance=record.total_distance,
        inclination=record.inclination,
        ramp_angle=record.ramp_angle,
        positive_elevation_gain=elevation[0],
        negative_elevation_gain=elevation[1],
        instantaneous_pace=record.instantaneous_pace,
        total_energy=record.total_energy,
        heart_rate=record.heart_rate,
        elapsed_time=record.elapsed_time,
        step_count=record.step_count,
    )


@given(_records)
def test_treadmill_data_round_trip(record: TreadmillData) -> None:
    decoded = ftms.decode_treadmill_data(ftms.encode_treadmill_data(record))
    assert decoded == _normalise(record)


@given(st.binary(max_size=64))
def test_fuzz_treadmill_data(data: bytes) -> None:
    with contextlib.suppress(FtmsDecodeError):
        ftms.decode_treadmill_data(data)


# ---------------------------------------------------------------- Feature and ranges


def test_feature_vector() -> None:
    # Machine: distance, inclination, step count, energy, HR, elapsed (bits 2,3,6,9,10,12)
    # = 0x0000164C; target: speed and inclination (bits 0, 1) = 0x00000003.
    feature = ftms.decode_feature(bytes.fromhex("4c160000 03000000"))
    assert feature == FitnessMachineFeature(0x164C, 0x03)
    assert feature.has(MachineFeature.INCLINATION)
    assert not feature.has(MachineFeature.ELEVATION_GAIN)
    assert feature.can_target(TargetFeature.SPEED)
    assert not feature.can_target(TargetFeature.DISTANCE)
    assert feature.data_fields() == {
        DataField.SPEED,
        DataField.DISTANCE,
        DataField.INCLINE,
        DataField.STEPS,
        DataField.ENERGY,
        DataField.HEART_RATE,
        DataField.ELAPSED,
    }
    assert ftms.encode_feature(feature).hex() == "4c16000003000000"


def test_speed_range_vector() -> None:
    # 0.50 .. 12.00 km/h in steps of 0.10: 0x0032, 0x04B0, 0x000A.
    value = ftms.decode_speed_range(bytes.fromhex("3200b0040a00"))
    assert value == SupportedRange(0.5, 12.0, 0.1)
    assert ftms.encode_speed_range(value).hex() == "3200b0040a00"


def test_inclination_range_vector() -> None:
    # -3.0 .. 15.0 % in steps of 0.5: 0xFFE2, 0x0096, 0x0005.
    value = ftms.decode_inclination_range(bytes.fromhex("e2ff96000500"))
    assert value == SupportedRange(-3.0, 15.0, 0.5)
    assert ftms.encode_inclination_range(value).hex() == "e2ff96000500"


@pytest.mark.parametrize(
    "decoder",
    [ftms.decode_feature, ftms.decode_speed_range, ftms.decode_inclination_range],
)
def test_short_fixed_values(decoder: object) -> None:
    with pytest.raises(FtmsDecodeError):
        decoder(b"\x01\x02")  # type: ignore[operator]


# ---------------------------------------------------------------- Training Status


def test_training_status_vectors() -> None:
    assert ftms.decode_training_status(bytes.fromhex("0001")) == TrainingStatus(
        TrainingStatusCode.IDLE
    )
    assert ftms.decode_training_status(bytes.fromhex("010d") + b"Quick") == TrainingStatus(
        TrainingStatusCode.MANUAL_MODE, "Quick"
    )
    assert ftms.decode_training_status(bytes.fromhex("0042")) == TrainingStatus(0x42)
    # Bad UTF-8 in the string never fails (vendors send latin-1).
    assert ftms.decode_training_status(bytes.fromhex("0101ff")).text == "\ufffd"
    with pytest.raises(FtmsDecodeError):
        ftms.decode_training_status(b"\x00")


@pytest.mark.parametrize(
    "value",
    [TrainingStatus(TrainingStatusCode.COOL_DOWN), TrainingStatus(TrainingStatusCode.IDLE, "x")],
)
def test_training_status_round_trip(value: TrainingStatus) -> None:
    assert ftms.decode_training_status(ftms.encode_training_status(value)) == value


# ---------------------------------------------------------------- Machine Status

STATUS_VECTORS = [
    ("01", MachineStatus(MachineStatusCode.RESET)),
    ("0201", MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, 1)),
    ("0202", MachineStatus(MachineStatusCode.STOPPED_OR_PAUSED, 2)),
    ("03", MachineStatus(MachineStatusCode.STOPPED_BY_SAFETY_KEY)),
    ("04", MachineStatus(MachineStatusCode.STARTED_OR_RESUMED)),
    ("052c01", MachineStatus(MachineStatusCode.TARGET_SPEED_CHANGED, 3.0)),
    ("06ecff", MachineStatus(MachineStatusCode.TARGET_INCLINE_CHANGED, -2.0)),
    ("0ae803", MachineStatus(MachineStatusCode.TARGET_EXPENDED_ENERGY_CHANGED, 1000)),
    ("0b1027", MachineStatus(MachineStatusCode.TARGET_STEPS_CHANGED, 10000)),
    ("0da08601", MachineStatus(MachineStatusCode.TARGET_DISTANCE_CHANGED, 100000)),
    ("0e0807", MachineStatus(MachineStatusCode.TARGET_TIME_CHANGED, 1800)),
    ("ff", MachineStatus(MachineStatusCode.CONTROL_PERMISSION_LOST)),
    ("14", MachineStatus(0x14)),  # spin down status: not a treadmill's, kept as a bare code
]


@pytest.mark.parametrize(("hexdata", "status"), STATUS_VECTORS)
def test_machine_status_vectors(hexdata: str, status: MachineStatus) -> None:
    assert ftms.decode_machine_status(bytes.fromhex(hexdata)) == status
    assert ftms.encode_machine_status(status).hex() == hexdata


@pytest.mark.parametrize("hexdata", ["", "02", "052c", "0da086"])
def test_short_machine_status(hexdata: str) -> None:
    with pytest.raises(FtmsDecodeError):
        ftms.decode_machine_status(bytes.fromhex(hexdata))


@given(st.binary(max_size=8))
def test_fuzz_machine_status(data: bytes) -> None:
    with contextlib.suppress(FtmsDecodeError):
        ftms.decode_machine_status(data)


# ---------------------------------------------------------------- Control Point

REQUEST_VECTORS = [
    (ftms.request_control(), "00", ControlRequest(ControlOpcode.REQUEST_CONTROL)),
    (ftms.reset(), "01", ControlRequest(ControlOpcode.RESET)),
    (ftms.set_target_speed(3.5), "025e01", ControlRequest(ControlOpcode.SET_TARGET_SPEED, 3.5)),
    (
        ftms.set_target_inclination(-1.5),
        "03f1ff",
        ControlRequest(ControlOpcode.SET_TARGET_INCLINATION, -1.5),
    ),
    (ftms.start_or_resume(), "07", ControlRequest(ControlOpcode.START_OR_RESUME)),
    (ftms.stop(), "0801", ControlRequest(ControlOpcode.STOP_OR_PAUSE, 1)),
    (ftms.pause(), "0802", ControlRequest(ControlOpcode.STOP_OR_PAUSE, 2)),
    (
        ftms.set_target_distance(5000),
        "0c881300",
        ControlRequest(ControlOpcode.SET_TARGET_DISTANCE, 5000),
    ),
    (ftms.set_target_time(1800), "0d0807", ControlRequest(ControlOpcode.SET_TARGET_TIME, 1800)),
]


@pytest.mark.parametrize(("encoded", "hexdata", "request_"), REQUEST_VECTORS)
def test_request_vectors(encoded: bytes, hexdata: str, request_: ControlRequest) -> None:
    assert encoded.hex() == hexdata
    assert ftms.decode_request(encoded) == request_


def test_bad_requests() -> None:
    with pytest.raises(FtmsEncodeError):
        ftms.set_target_speed(-1.0)
    with pytest.raises(FtmsEncodeError):
        ftms.encode_request(ControlRequest(ControlOpcode.SET_TARGET_SPEED))
    with pytest.raises(FtmsEncodeError):
        ftms.encode_request(ControlRequest(ControlOpcode.RESPONSE))
    for hexdata in ("", "11", "025e", "0c8813"):
        with pytest.raises(FtmsDecodeError):
            ftms.decode_request(bytes.fromhex(hexdata))


@pytest.mark.parametrize(
    ("hexdata", "response"),
    [
        ("800001", ControlResponse(0x00, ResultCode.SUCCESS)),
        ("800202", ControlResponse(0x02, ResultCode.NOT_SUPPORTED)),
        ("800303", ControlResponse(0x03, ResultCode.INVALID_PARAMETER)),
        ("800704", ControlResponse(0x07, ResultCode.OPERATION_FAILED)),
        ("800805", ControlResponse(0x08, ResultCode.CONTROL_NOT_PERMITTED)),
        ("800d09aa", ControlResponse(0x0D, 0x09, b"\xaa")),
    ],
)
def test_response_vectors(hexdata: str, response: ControlResponse) -> None:
    assert ftms.decode_response(bytes.fromhex(hexdata)) == response
    assert ftms.encode_response(response).hex() == hexdata
    assert response.ok is (response.result == ResultCode.SUCCESS)


@pytest.mark.parametrize("hexdata", ["", "8000", "010001"])
def test_bad_responses(hexdata: str) -> None:
    with pytest.raises(FtmsDecodeError):
        ftms.decode_response(bytes.fromhex(hexdata))


@given(st.binary(max_size=8))
def test_fuzz_control_point(data: bytes) -> None:
    for decoder in (ftms.decode_response, ftms.decode_request, ftms.decode_training_status):
        with contextlib.suppress(FtmsDecodeError):
            decoder(data)


@given(st.binary(max_size=8))
def test_fuzz_fixed_values(data: bytes) -> None:
    for decoder in (ftms.decode_feature, ftms.decode_speed_range, ftms.decode_inclination_range):
        with contextlib.suppress(FtmsDecodeError):
            decoder(data)


def test_uuid16() -> None:
    assert ftms.TREADMILL_DATA == "00002acd-0000-1000-8000-00805f9b34fb"
