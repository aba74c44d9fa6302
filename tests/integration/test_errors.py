"""Programme and treadmill errors: one translated message per kind, in every language."""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
from string import Formatter
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.helpers import programme_error, treadmill_error
from custom_components.treadreverse.programme.schema import (
    PLACEHOLDERS,
    ErrorKind,
    ProgrammeError,
)
from custom_components.treadreverse.storage import PROGRAMMES_KEY
from custom_components.treadreverse.treadmill.base import (
    CommandError,
    CommandFailure,
    TreadmillConnectionError,
    TreadmillError,
)

from .conftest import advance

PACKAGE = Path(__file__).parents[2] / "custom_components" / DOMAIN
LANGUAGES = ("en", "de", "fr", "es", "nl")
STATUS = "sensor.simulated_treadmill_programme_status"

# Every message the kinds need, with the placeholders it takes.
EXPECTED: dict[str, frozenset[str]] = {
    **{f"programme_{kind}": PLACEHOLDERS[kind] | {"path"} for kind in ErrorKind},
    **{f"command_{failure}": frozenset({"command"}) for failure in CommandFailure},
    "treadmill_unreachable": frozenset(),
    "treadmill_error": frozenset(),
}


def exceptions(language: str) -> dict[str, str]:
    """Return the exception messages of one translation file."""
    data = json.loads((PACKAGE / "translations" / f"{language}.json").read_text("utf-8"))
    return {key: value["message"] for key, value in data["exceptions"].items()}


def fields(text: str) -> set[str]:
    """Return the placeholders a message uses."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_has_its_message_in_every_language(language: str) -> None:
    """Each programme and treadmill error kind has a message with exactly its placeholders."""
    messages = exceptions(language)
    missing = sorted(set(EXPECTED) - set(messages))
    assert not missing, f"{language}: no message for {missing}"
    wrong = {
        key: sorted(fields(messages[key]))
        for key, wanted in EXPECTED.items()
        if fields(messages[key]) != wanted
    }
    assert not wrong, f"{language}: placeholders differ from the code's: {wrong}"


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_messages_are_translated(language: str) -> None:
    """No language carries the English message of a kind (a real translation, not a copy)."""
    english, messages = exceptions("en"), exceptions(language)
    copied = sorted(key for key in EXPECTED if messages[key] == english[key])
    assert not copied, f"{language} copies English for {copied}"


def test_no_message_passes_an_english_reason() -> None:
    """The old `{field}: {reason}` message is left only as the fallback for kinds without data."""
    for language in LANGUAGES:
        messages = exceptions(language)
        assert "command_failed" not in messages
        assert "error" not in fields(messages["treadmill_error"])


def _raise_sites() -> Iterator[tuple[str, int, str, frozenset[str] | None]]:
    """Yield every ProgrammeError or _invalid built in programme/ with its kind and placeholders.

    The placeholders are None where they are forwarded from another error (not literal).
    """
    for path in sorted((PACKAGE / "programme").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "_invalid":
                kind_node: ast.expr | None = node.args[0]
                names = {kw.arg for kw in node.keywords if kw.arg not in {None, "path"}}
                forwarded = any(kw.arg is None for kw in node.keywords)
                given = None if forwarded else frozenset(str(name) for name in names)
            elif node.func.id == "ProgrammeError":
                kind_node = _argument(node, 2, "key")
                given = _literal_keys(_argument(node, 3, "placeholders"))
            else:
                continue
            if (kind := _kind(kind_node)) is not None:
                yield path.name, node.lineno, kind, given


def _argument(node: ast.Call, index: int, name: str) -> ast.expr | None:
    """Return a call's argument by position or keyword."""
    if len(node.args) > index:
        return node.args[index]
    return next((kw.value for kw in node.keywords if kw.arg == name), None)


def _literal_keys(node: ast.expr | None) -> frozenset[str] | None:
    """Return the keys of a literal placeholders dict (none given: empty; forwarded: None)."""
    if node is None:
        return frozenset()
    if isinstance(node, ast.Dict):
        return frozenset(str(key.value) for key in node.keys if isinstance(key, ast.Constant))
    return None


def _kind(node: ast.expr | None) -> str | None:
    """Return the kind a call names literally (ErrorKind.X or its string), else None."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ErrorKind"
    ):
        return ErrorKind[node.attr].value
    if isinstance(node, ast.Constant) and node.value in set(ErrorKind):
        return str(node.value)
    return None


def test_every_raise_passes_the_placeholders_of_its_kind() -> None:
    """Scanning programme/: each site gives exactly the placeholders its kind's message uses."""
    sites = list(_raise_sites())
    wrong = [
        (file, line, kind, sorted(given))
        for file, line, kind, given in sites
        if given is not None and given != PLACEHOLDERS[ErrorKind(kind)]
    ]
    assert not wrong, f"placeholders differ from their kind's: {wrong}"
    # Every kind is raised somewhere: no message is dead, no kind is raised unscanned.
    assert {kind for _, _, kind, _ in sites} == set(ErrorKind)


def test_an_error_without_its_placeholders_falls_back() -> None:
    """A kind raised without its placeholders keeps its English reason, never a broken text."""
    err = ProgrammeError("speed", "30 km/h is outside ...", "outside_machine_speed")
    assert err.kind is None
    fallback = programme_error(err)
    assert fallback.translation_key == "invalid_programme"
    assert fallback.translation_placeholders == {
        "field": "speed",
        "reason": "30 km/h is outside ...",
    }
    complete = ProgrammeError(
        "speed", "...", ErrorKind.OUTSIDE_MACHINE_SPEED, {"value": 30, "min": 1, "max": 12}
    )
    translated = programme_error(complete, within="definition")
    assert translated.translation_key == "programme_outside_machine_speed"
    assert translated.translation_placeholders == {
        "path": "definition.speed",
        "value": "30",
        "min": "1",
        "max": "12",
    }


@pytest.mark.parametrize(
    ("error", "key", "placeholders"),
    [
        (
            CommandError("set_speed", CommandFailure.TIMEOUT),
            "command_timeout",
            {"command": "set_speed"},
        ),
        (
            CommandError("start", CommandFailure.CONTROL_NOT_PERMITTED),
            "command_control_not_permitted",
            {"command": "start"},
        ),
        (TreadmillConnectionError("Simulated: cannot connect: x"), "treadmill_unreachable", {}),
        (TreadmillError("odd"), "treadmill_error", {}),
    ],
)
def test_treadmill_errors_by_kind(
    error: TreadmillError, key: str, placeholders: dict[str, str]
) -> None:
    """A treadmill error is translated by its kind; no English detail reaches the message."""
    translated = treadmill_error(error)
    assert (translated.translation_key, translated.translation_placeholders) == (key, placeholders)


def definition(**third: Any) -> dict[str, Any]:
    """Return an inline programme whose third segment has these fields."""
    return {
        "name": "Bad",
        "segments": [
            {"direction": "forward", "duration": 30, "speed": 3.0},
            {"direction": "forward", "duration": 30, "speed": 3.5},
            {"direction": "forward", "duration": 30, "speed": 3.0, **third},
        ],
    }


async def test_a_bad_definition_names_its_path_in_every_language(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """start_programme with a bad posture: the kind's key, the path and the value, translated."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "start_programme",
            {
                "config_entry_id": loaded_simulated.entry_id,
                "definition": definition(posture="sideways"),
            },
            blocking=True,
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "programme_not_a_choice"
    assert err.value.translation_placeholders == {
        "path": "definition.segments[2].posture",
        "value": "'sideways'",
        "allowed": "upright, half_squat",
    }
    assert str(err.value) == (
        "definition.segments[2].posture: 'sideways' is not one of upright, half_squat"
    )
    assert hass.states.get(STATUS).state == "idle"
    german = await async_get_translations(hass, "de", "exceptions", [DOMAIN])
    text = german[f"component.{DOMAIN}.exceptions.programme_not_a_choice.message"]
    assert text.format(**err.value.translation_placeholders) == (
        "definition.segments[2].posture: 'sideways' ist keiner der Werte upright, half_squat."
    )


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        (
            {"definition": definition(speed=30)},
            "programme_out_of_range",
            {
                "path": "definition.segments[2].speed",
                "value": "30",
                "min": "0.5",
                "max": "25",
                "unit": "km/h",
            },
        ),
        (
            {"definition": definition(direction="backward", speed=5.0)},
            # The schema allows 8 km/h backward; this treadmill's cap (option) is 4 km/h.
            "programme_above_backward_cap",
            {"path": "segments[2].speed", "value": "5.0", "cap": "4.0"},
        ),
        (
            {"definition": definition(distance=100)},
            "programme_duration_or_distance",
            {"path": "definition.segments[2]"},
        ),
        (
            {"definition": definition(direction="backward", speed=3.5), "speed_scale": 1.5},
            "programme_above_backward_cap",
            {"path": "segments[2].speed", "value": "5.25", "cap": "4.0"},
        ),
    ],
)
async def test_schema_and_compiler_errors_by_kind(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Schema and compiler refusals reach the action as their kind, with structured data."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "start_programme",
            {"config_entry_id": loaded_simulated.entry_id, **data},
            blocking=True,
        )
    assert (err.value.translation_key, err.value.translation_placeholders) == (key, placeholders)
    assert hass.states.get(STATUS).state == "idle"


async def test_a_rejected_command_is_translated_by_its_failure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """A command the treadmill rejects raises the failure's own translated error."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {**entry_id, "programme": "first_steps", "wait_for_person": False},
        blocking=True,
    )
    await advance(hass, freezer, 14)
    loaded_simulated.runtime_data.coordinator.treadmill.simulator.reject_opcode(0x02)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "set_speed", {**entry_id, "speed": 3.0}, blocking=True
        )
    assert err.value.translation_key.startswith("command_")
    assert err.value.translation_key.removeprefix("command_") in set(CommandFailure)
    assert err.value.translation_placeholders == {"command": "set_speed"}
    assert "{" not in str(err.value)


async def test_a_saved_programme_that_no_longer_validates_is_refused_translated(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A stored programme the schema now refuses (a hand-edited store) names the programme."""
    await hass.services.async_call(
        DOMAIN, "save_programme", {"definition": definition()}, blocking=True
    )
    library = hass.data[PROGRAMMES_KEY]
    library.programmes["bad"]["segments"][2]["speed"] = 30
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "start_programme",
            {"config_entry_id": loaded_simulated.entry_id, "programme": "bad"},
            blocking=True,
        )
    assert err.value.translation_key == "programme_out_of_range"
    assert err.value.translation_placeholders["path"] == "bad.segments[2].speed"
    assert hass.states.get(STATUS).state == "idle"
