"""Spoken cue texts in every supported language, and how engine events become sentences.

Nothing in this package imports Home Assistant: the announcer loads a book with
`load_cues` (blocking: run it in the executor) and asks it what to say.
"""

from __future__ import annotations

from .book import (
    CUE_DIR,
    FALLBACK_LANGUAGE,
    SUPPORTED_LANGUAGES,
    CueBook,
    CueFileError,
    LanguagePack,
    Phrase,
    load_cues,
    normalise_language,
    placeholders,
)
from .plans import TEST_ANNOUNCEMENT, Plan, plan
from .repeats import RepeatFilter
from .spoken import Quantity, SpokenFormat, Term, Unit, Value

__all__ = [
    "CUE_DIR",
    "FALLBACK_LANGUAGE",
    "SUPPORTED_LANGUAGES",
    "TEST_ANNOUNCEMENT",
    "CueBook",
    "CueFileError",
    "LanguagePack",
    "Phrase",
    "Plan",
    "Quantity",
    "RepeatFilter",
    "SpokenFormat",
    "Term",
    "Unit",
    "Value",
    "load_cues",
    "normalise_language",
    "placeholders",
    "plan",
]
