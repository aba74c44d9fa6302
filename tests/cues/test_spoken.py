"""Numbers and units read naturally in each language."""

from __future__ import annotations

import math

from hypothesis import given, strategies as st
import pytest

from custom_components.treadreverse.cues import (
    SUPPORTED_LANGUAGES,
    CueBook,
    Quantity,
    Term,
    Unit,
    load_cues,
)

BOOKS: dict[str, CueBook] = {language: load_cues(language) for language in SUPPORTED_LANGUAGES}


def say(language: str, value: float, unit: Unit) -> str:
    """Say one quantity in a language."""
    return BOOKS[language].say(Quantity(value, unit))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "2.5 kilometres per hour"),
        ("de", "2,5 Kilometer pro Stunde"),
        ("fr", "2,5 kilomètres à l'heure"),
        ("es", "2,5 kilómetros por hora"),
        ("nl", "2,5 kilometer per uur"),
    ],
)
def test_speed_uses_the_decimal_separator(language: str, expected: str) -> None:
    assert say(language, 2.5, Unit.SPEED) == expected


@pytest.mark.parametrize(
    ("language", "one", "whole"),
    [
        ("en", "1 kilometre per hour", "3 kilometres per hour"),
        ("de", "1 Kilometer pro Stunde", "3 Kilometer pro Stunde"),
        ("fr", "1 kilomètre à l'heure", "3 kilomètres à l'heure"),
        ("es", "1 kilómetro por hora", "3 kilómetros por hora"),
        ("nl", "1 kilometer per uur", "3 kilometer per uur"),
    ],
)
def test_speed_drops_a_trailing_zero(language: str, one: str, whole: str) -> None:
    assert say(language, 1.0, Unit.SPEED) == one
    assert say(language, 3.0, Unit.SPEED) == whole
    assert say(language, 3.04, Unit.SPEED) == whole


@pytest.mark.parametrize(
    ("language", "three", "negative"),
    [
        ("en", "3 percent", "minus 1.5 percent"),
        ("de", "3 Prozent", "minus 1,5 Prozent"),
        ("fr", "3 pour cent", "moins 1,5 pour cent"),
        ("es", "3 por ciento", "menos 1,5 por ciento"),
        ("nl", "3 procent", "min 1,5 procent"),
    ],
)
def test_incline(language: str, three: str, negative: str) -> None:
    assert say(language, 3, Unit.INCLINE) == three
    assert say(language, -1.5, Unit.INCLINE) == negative
    assert say(language, -0.01, Unit.INCLINE) == three.replace("3", "0")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "1 metre",
                "350 metres",
                "999 metres",
                "1 kilometre",
                "1.5 kilometres",
                "2 kilometres",
            ],
        ),
        (
            "de",
            ["1 Meter", "350 Meter", "999 Meter", "1 Kilometer", "1,5 Kilometer", "2 Kilometer"],
        ),
        (
            "fr",
            ["1 mètre", "350 mètres", "999 mètres", "1 kilomètre", "1,5 kilomètre", "2 kilomètres"],
        ),
        (
            "es",
            [
                "1 metro",
                "350 metros",
                "999 metros",
                "1 kilómetro",
                "1,5 kilómetros",
                "2 kilómetros",
            ],
        ),
        (
            "nl",
            ["1 meter", "350 meter", "999 meter", "1 kilometer", "1,5 kilometer", "2 kilometer"],
        ),
    ],
)
def test_distance_in_metres_then_kilometres(language: str, expected: list[str]) -> None:
    metres = (1, 350, 999.4, 999.6, 1530, 2000)
    assert [say(language, value, Unit.DISTANCE) for value in metres] == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "1 second",
                "45 seconds",
                "1 minute 30 seconds",
                "1 hour",
                "2 hours 2 minutes 5 seconds",
            ],
        ),
        (
            "de",
            [
                "1 Sekunde",
                "45 Sekunden",
                "1 Minute und 30 Sekunden",
                "1 Stunde",
                "2 Stunden, 2 Minuten und 5 Sekunden",
            ],
        ),
        (
            "fr",
            [
                "1 seconde",
                "45 secondes",
                "1 minute et 30 secondes",
                "1 heure",
                "2 heures, 2 minutes et 5 secondes",
            ],
        ),
        (
            "es",
            [
                "1 segundo",
                "45 segundos",
                "1 minuto y 30 segundos",
                "1 hora",
                "2 horas, 2 minutos y 5 segundos",
            ],
        ),
        (
            "nl",
            [
                "1 seconde",
                "45 seconden",
                "1 minuut en 30 seconden",
                "1 uur",
                "2 uur, 2 minuten en 5 seconden",
            ],
        ),
    ],
)
def test_duration_singular_and_plural(language: str, expected: list[str]) -> None:
    assert [say(language, seconds, Unit.DURATION) for seconds in (1, 45, 90, 3600, 7325)] == (
        expected
    )


def test_zero_and_negative_durations() -> None:
    assert say("en", 0, Unit.DURATION) == "0 seconds"
    assert say("fr", 0, Unit.DURATION) == "0 seconde"
    assert say("en", -5, Unit.DURATION) == "minus 5 seconds"
    assert say("en", 0.4, Unit.DURATION) == "0 seconds"


def test_french_singular_below_two() -> None:
    assert say("fr", 1.5, Unit.SPEED) == "1,5 kilomètre à l'heure"
    assert say("fr", 2, Unit.SPEED) == "2 kilomètres à l'heure"
    assert say("en", 1.5, Unit.SPEED) == "1.5 kilometres per hour"


def test_plain_numbers_and_labels() -> None:
    assert BOOKS["de"].say(2.25) == "2,2"
    assert BOOKS["de"].say(7) == "7"
    assert BOOKS["de"].say(" text ") == "text"
    assert BOOKS["de"].say(Term("label.backward")) == "Rückwärtsgehen"
    with pytest.raises(KeyError):
        BOOKS["de"].say(Term("label.nowhere"))


def test_non_finite_numbers_do_not_raise() -> None:
    assert say("en", math.inf, Unit.SPEED) == "inf"
    assert BOOKS["en"].say(math.nan) == "nan"


@given(
    value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    unit=st.sampled_from(Unit),
    language=st.sampled_from(SUPPORTED_LANGUAGES),
)
def test_any_finite_quantity_is_said(value: float, unit: Unit, language: str) -> None:
    text = say(language, value, unit)
    assert text
    assert "{" not in text
    assert ".0 " not in text
    if language != "en":
        assert "." not in text
