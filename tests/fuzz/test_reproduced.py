"""The crashes issue 11 names, reproduced: each is now a translated refusal naming the place."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.programme.schema import ErrorKind, Programme, ProgrammeError

PERSON_ID = "a-person"
STATUS = "sensor.simulated_treadmill_programme_status"
SPEED = "number.simulated_treadmill_target_speed"


def _segment(**fields: Any) -> dict[str, Any]:
    """Return a valid backward segment with `fields` replaced."""
    return {"direction": "backward", "duration": 30, "speed": 2.0, **fields}


# Any enum field given a list or an object: a raw TypeError ("cannot use 'dict' as a set
# element") before issue 11.
ENUM_CASES = [
    ("direction", {}),
    ("posture", []),
    ("handrails", {"a": 1}),
    ("intensity", [1]),
]


@pytest.mark.parametrize(("field", "value"), ENUM_CASES)
def test_an_enum_field_given_a_container_is_a_programme_error(field: str, value: Any) -> None:
    """The schema names the field and its kind instead of raising a TypeError."""
    definition = {"name": "x", "segments": [_segment(), _segment(**{field: value})]}
    with pytest.raises(ProgrammeError) as err:
        Programme.from_dict(definition)
    assert err.value.path == f"segments[1].{field}"
    assert err.value.kind is ErrorKind.NOT_A_CHOICE


@pytest.fixture
async def person(hass: HomeAssistant) -> MockUser:
    """Register PERSON_ID as an administrator."""
    user = MockUser(id=PERSON_ID, name="Person")
    user.add_to_hass(hass)
    admins = await hass.auth.async_get_group(GROUP_ID_ADMIN)
    assert admins is not None
    user.groups = [admins]
    return user


async def _call(hass: HomeAssistant, action: str, data: dict[str, Any]) -> None:
    """Call an action as a person at the dashboard."""
    await hass.services.async_call(
        DOMAIN, action, data, blocking=True, context=Context(user_id=PERSON_ID)
    )


@pytest.mark.parametrize(("field", "value"), ENUM_CASES)
async def test_start_programme_with_a_container_enum_is_refused(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    person: MockUser,
    field: str,
    value: Any,
) -> None:
    """Through the action: a translated refusal naming the path, nothing started."""
    definition = {"name": "x", "segments": [_segment(**{field: value})]}
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "start_programme",
            {"config_entry_id": loaded_simulated.entry_id, "definition": definition},
        )
    assert err.value.translation_key == "programme_not_a_choice"
    assert err.value.translation_placeholders["path"] == f"definition.segments[0].{field}"
    assert hass.states.get(STATUS).state == "idle"


@pytest.mark.parametrize("action", ["set_speed", "set_incline"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "nan", "inf"])
async def test_set_speed_and_incline_refuse_non_finite_numbers(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    person: MockUser,
    action: str,
    value: Any,
) -> None:
    """A NaN was a raw ValueError, an infinity an OverflowError; now refused, the belt still."""
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    field = "speed" if action == "set_speed" else "incline"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, action, {"config_entry_id": loaded_simulated.entry_id, field: value})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key
    assert simulator.state == "stopped"


# Found while fuzzing (issue 11): each escaped the schema as a raw error before.
SEGMENT = {"direction": "forward", "duration": 30, "speed": 2.0}


def _nested(depth: int) -> dict[str, Any]:
    """Return `depth` repeat blocks, one inside the other, around one segment."""
    block: dict[str, Any] = {"repeat": 1, "segments": [SEGMENT]}
    for _ in range(depth - 1):
        block = {"repeat": 1, "segments": [block]}
    return block


def test_deep_nesting_is_refused_without_recursing() -> None:
    """3,000 nested repeats were a RecursionError; now refused at the first block too deep."""
    with pytest.raises(ProgrammeError) as err:
        Programme.from_dict({"name": "x", "segments": [_nested(3000)]})
    assert err.value.kind is ErrorKind.TOO_DEEP
    assert err.value.path == "segments[0]" + ".segments[0]" * 5
    Programme.from_dict({"name": "x", "segments": [_nested(5)]})  # the deepest allowed


@pytest.mark.parametrize("depth", [6, 20, 150])
def test_deep_nesting_in_tuples_is_refused_too(depth: int) -> None:
    """Found by review: repeat blocks nested in tuples are refused as too deep.

    A template's literal gives tuples, which skipped the depth check (6-97 deep accepted,
    deeper a raw RecursionError).
    """
    block: dict[str, Any] = {"repeat": 1, "segments": (SEGMENT,)}
    for _ in range(depth - 1):
        block = {"repeat": 1, "segments": (block,)}
    with pytest.raises(ProgrammeError) as err:
        Programme.from_dict({"name": "x", "segments": (block,)})
    assert err.value.kind is ErrorKind.TOO_DEEP


def test_a_huge_integer_is_out_of_range() -> None:
    """An integer too large for a float was an OverflowError."""
    with pytest.raises(ProgrammeError) as err:
        Programme.from_dict({"name": "x", "segments": [{**SEGMENT, "speed": 10**400}]})
    assert err.value.kind is ErrorKind.OUT_OF_RANGE
    assert err.value.path == "segments[0].speed"
    assert len(err.value.placeholders["value"]) <= 40


def test_a_huge_list_is_refused_before_it_is_walked() -> None:
    """200,000 segments were validated one by one (seconds on the event loop) before refused."""
    with pytest.raises(ProgrammeError) as err:
        Programme.from_dict({"name": "x", "segments": [SEGMENT] * 200_000})
    assert err.value.kind is ErrorKind.TOO_MANY_SEGMENTS
    assert err.value.placeholders == {"count": "200000", "max": "500"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_speed", "nan"), ("max_speed", "nan"), ("name", " "), ("name", "x" * 101)],
)
async def test_simulated_flow_refuses_nan_and_bad_names(
    hass: HomeAssistant, field: str, value: Any
) -> None:
    """Home Assistant's number selector lets NaN through; the step refuses it, no entry made."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "simulated"}
    )
    data = {"name": "Sim", "min_speed": 0.5, "max_speed": 12.0, "max_incline": 12.0}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**data, field: value}
    )
    assert result["type"] == "form"
    assert result["errors"] == {field: "not_a_number" if field != "name" else "invalid_name"}
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize(
    ("action", "field"),
    [("set_speed", "speed"), ("set_incline", "incline"), ("start_programme", "speed_scale")],
)
async def test_an_integer_too_large_for_a_float_is_a_schema_refusal(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    person: MockUser,
    action: str,
    field: str,
) -> None:
    """Found by the fuzz: probatio's compiled Coerce(float) let an OverflowError escape.

    Only once the schema has run a few dozen times (probatio then compiles a faster path).
    """
    schema = hass.services.async_services_for_domain(DOMAIN)[action].schema
    assert schema is not None
    for _ in range(100):  # what a day of ordinary calls does
        schema({"config_entry_id": loaded_simulated.entry_id, field: 1.0})
    with pytest.raises(vol.Invalid):
        await _call(hass, action, {"config_entry_id": loaded_simulated.entry_id, field: 10**400})
    assert hass.states.get(STATUS).state == "idle"


@pytest.mark.parametrize("action", ["delete_programme", "start_programme"])
async def test_a_programme_key_longer_than_a_name_is_a_schema_refusal(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, person: MockUser, action: str
) -> None:
    """A key of a megabyte was slugified and looked up; now refused by length at the edge."""
    data = {"programme": "x" * 1_000_000}
    if action == "start_programme":
        data["config_entry_id"] = loaded_simulated.entry_id
    with pytest.raises(vol.Invalid):
        await _call(hass, action, data)
    assert hass.states.get(STATUS).state == "idle"


def test_a_field_named_with_the_internal_separator_keeps_its_kind() -> None:
    """Found by scripts/fuzz: a key of the unit separator split the reason, losing the kind."""
    with pytest.raises(ProgrammeError) as err:
        Programme.from_dict({"\x1f": None})
    assert err.value.kind is ErrorKind.UNKNOWN_FIELD
    assert err.value.placeholders == {"field": "\x1f"}
