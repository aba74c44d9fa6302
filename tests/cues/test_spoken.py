"""Numbers and units read naturally in each language."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.treadreverse.cues import (
    SUPPORTED_LANGUAGES,
    CueBook,
    Quantity,
    SpokenFormat,
    Unit,
    load_cues,
)

BOOKS: dict[str, CueBook] = {language: load_cues(language) for language in SUPPORTED_LANGUAGES}


def say(language: str, value: float, unit: Unit) -> str:
    """Say one quantity in a language."""
    return BOOKS[language].render("segment_cue", text="").language and spoken(language).quantity(
        Quantity(value, unit)
    )


def spoken(language: str) -> SpokenFormat:
    """Return a language's number format."""
    return BOOKS[language].render_first(["segment_cue"], {"text": "x"}) and pack_format(language)


def pack_format(language: str) -> SpokenFormat:
    """Return the format of a book's own language."""
    return BOOKS[language].pack.spoken
