"""The cue files: the same keys and placeholders in every language, and all of them used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.treadreverse.cues import (
    CUE_DIR,
    SUPPORTED_LANGUAGES,
    Term,
    placeholders,
    plan,
)
from custom_components.treadreverse.cues.book import TERM_PREFIXES
from custom_components.treadreverse.cues.plans import REASON_ALIASES
from custom_components.treadreverse.cues.spoken import unit_keys
from custom_components.treadreverse.programme.builtins import BUILTIN_KEYS
from custom_components.treadreverse.programme.events import CueType, EventType

from .samples import PLACEHOLDER_SAMPLES, SAMPLES

# Keys a language may lack (it is then spoken in English). Keep this empty.
ALLOWED_MISSING: dict[str, frozenset[str]] = {}
OTHER_LANGUAGES = tuple(lang for lang in SUPPORTED_LANGUAGES if lang != "en")


def read(language: str) -> dict[str, Any]:
    """Read one cue file as plain JSON."""
    data: dict[str, Any] = json.loads((CUE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return data


def test_supported_languages_have_files() -> None:
    files = {path.stem for path in Path(CUE_DIR).glob("*.json")}
    assert files == set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_header(language: str) -> None:
    data = read(language)
    assert data["version"] == 1
    assert data["language"] == language
    assert set(data["format"]["units"]) == set(unit_keys())


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_same_keys_as_english(language: str) -> None:
    english, other = read("en")["cues"], read(language)["cues"]
    assert set(english) - set(other) == ALLOWED_MISSING.get(language, frozenset())
    assert set(other) - set(english) == set()


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_same_placeholders_as_english(language: str) -> None:
    english, other = read("en")["cues"], read(language)["cues"]
    wrong = {
        key: (placeholders(english[key]), placeholders(text))
        for key, text in other.items()
        if placeholders(text) != placeholders(english[key])
    }
    assert wrong == {}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_units_have_one_value_placeholder(language: str) -> None:
    units = read(language)["format"]["units"]
    assert {key: placeholders(text) for key, text in units.items()} == {
        key: frozenset({"value"}) for key in units
    }
    assert placeholders(read(language)["format"]["minus"]) == {"value"}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_texts_are_clean(language: str) -> None:
    for key, text in read(language)["cues"].items():
        assert text == text.strip(), key
        assert "  " not in text, key
        assert text.count("{") == text.count("}") == len(placeholders(text)), key


def test_every_placeholder_has_a_sample() -> None:
    used = set().union(*(placeholders(text) for text in read("en")["cues"].values()))
    assert used == set(PLACEHOLDER_SAMPLES)


def test_every_type_has_samples() -> None:
    assert {str(kind) for kind in (*EventType, *CueType)} <= set(SAMPLES)


def chosen_key(english: dict[str, str], kind: str, data: dict[str, Any]) -> str | None:
    """Return the key the English book says for a sample, as render_first picks it."""
    chosen = plan(kind, data)
    if chosen is None:
        return None
    for key in chosen.keys:
        if key in english and placeholders(english[key]) <= chosen.values.keys():
            return key
    return None


def test_every_key_is_said_by_some_sample() -> None:
    english = read("en")["cues"]
    said = {
        chosen_key(english, kind, data) for kind, samples in SAMPLES.items() for data in samples
    }
    terms = {key for key in english if key.startswith(TERM_PREFIXES)}
    assert set(english) - terms - said == set()


def test_every_term_is_used_by_some_sample() -> None:
    english = read("en")["cues"]
    used = {
        value.key
        for kind, samples in SAMPLES.items()
        for data in samples
        if (chosen := plan(kind, data)) is not None
        for value in chosen.values.values()
        if isinstance(value, Term)
    }
    assert {key for key in english if key.startswith(TERM_PREFIXES)} == used & set(english)


def test_every_builtin_programme_has_a_title() -> None:
    english = read("en")["cues"]
    titles = {key.removeprefix("programme.") for key in english if key.startswith("programme.")}
    assert titles == set(BUILTIN_KEYS)


def test_planned_keys_are_in_the_file() -> None:
    english = read("en")["cues"]
    planned = {
        key
        for kind, samples in SAMPLES.items()
        for data in samples
        if (chosen := plan(kind, data)) is not None
        for key in chosen.keys
    }
    # An engine reason with an alias, or an unknown one, names a key no file has: the
    # alias's key or the plain sentence is said instead. So does the advisory variant of
    # a reason that reads the same whoever moves the belt.
    unknown = {
        base
        for key in planned - set(english)
        if (base := key.removesuffix(".advisory")) not in english
        and base.rsplit(".", 1)[1] not in REASON_ALIASES
    }
    assert unknown == {"programme_aborted.something_new"}
