"""Cue files: loading one language with English behind it, and rendering phrases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
import json
from pathlib import Path
import re
from typing import Any

from .plans import plan
from .spoken import PLURAL_RULES, Quantity, SpokenFormat, Term, Value, unit_keys

CUE_DIR = Path(__file__).parent
FALLBACK_LANGUAGE = "en"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "nl")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Keys that name things (interval labels, built-in programmes) rather than sentences.
TERM_PREFIXES: tuple[str, ...] = ("label.", "programme.")


class CueFileError(ValueError):
    """A cue file is missing, unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class Phrase:
    """A sentence to speak and the language of the voice that should speak it."""

    text: str
    language: str


@dataclass(frozen=True, slots=True)
class LanguagePack:
    """The cue texts and number format of one language."""

    language: str
    cues: Mapping[str, str]
    spoken: SpokenFormat

    def knows(self, key: str, values: Mapping[str, Value]) -> bool:
        """Return whether this pack has the key and every term its placeholders refer to."""
        template = self.cues.get(key)
        if template is None:
            return False
        terms = (values.get(name) for name in placeholders(template))
        return all(self.has_term(term) for term in terms if isinstance(term, Term))

    def has_term(self, term: Term) -> bool:
        """Return whether this pack can say a term: its own text or the term's default."""
        return term.key in self.cues or term.default is not None

    def say(self, value: Value) -> str:
        """Turn one value into words of this language."""
        if isinstance(value, Term):
            text = self.cues.get(value.key, value.default)
            if text is None:
                raise KeyError(value.key)
            return text
        if isinstance(value, Quantity):
            return self.spoken.quantity(value)
        if isinstance(value, str):
            return value.strip()
        return self.spoken.number(value)

    def fill(self, template: str, values: Mapping[str, Value]) -> str:
        """Put the spoken values into a template's placeholders."""
        return PLACEHOLDER.sub(lambda match: self.say(values[match.group(1)]), template)


class CueBook:
    """The cue texts of one language, with English for whatever it lacks."""

    def __init__(self, primary: LanguagePack, fallback: LanguagePack) -> None:
        """Keep the chosen language and the English fallback."""
        self._packs = (primary,) if primary is fallback else (primary, fallback)

    @property
    def language(self) -> str:
        """Return the chosen language."""
        return self._packs[0].language

    def all_keys(self) -> frozenset[str]:
        """Return every key this book can render, in some language."""
        return frozenset(key for pack in self._packs for key in pack.cues)

    def fixed_phrases(self) -> list[Phrase]:
        """Return every sentence without placeholders, to pre-generate its speech."""
        keys = sorted(key for key in self.all_keys() if not key.startswith(TERM_PREFIXES))
        templates = (self.template(key) for key in keys)
        return [phrase for phrase in templates if phrase and not placeholders(phrase.text)]

    def say(self, value: Value) -> str:
        """Say one value (a number, quantity or term) in the chosen language."""
        if isinstance(value, Term):
            pack = next((p for p in self._packs if value.key in p.cues), self._packs[0])
            return pack.say(value)
        return self._packs[0].say(value)

    def template(self, key: str) -> Phrase | None:
        """Return a key's raw template and its language, or None when no pack has it."""
        for pack in self._packs:
            if key in pack.cues:
                return Phrase(pack.cues[key], pack.language)
        return None

    def render(self, key: str, **values: Value) -> Phrase:
        """Render one key; raise KeyError for an unknown key or a missing placeholder value."""
        for pack in self._packs:
            if pack.knows(key, values):
                missing = placeholders(pack.cues[key]) - values.keys()
                if missing:
                    raise KeyError(f"{key}: no value for {sorted(missing)}")
                return Phrase(pack.fill(pack.cues[key], values), pack.language)
        raise KeyError(key)

    def render_first(self, keys: Iterable[str], values: Mapping[str, Value]) -> Phrase | None:
        """Render the first key whose placeholders all have values; None when none fits."""
        for key in keys:
            for pack in self._packs:
                if pack.knows(key, values):
                    if placeholders(pack.cues[key]) <= values.keys():
                        return Phrase(pack.fill(pack.cues[key], values), pack.language)
                    break
        return None

    def render_event(
        self, kind: str, data: Mapping[str, Any] | None = None, at: datetime | None = None
    ) -> Phrase | None:
        """Render what to say for an EventType or CueType and its data; None: say nothing."""
        chosen = plan(kind, data or {}, at)
        if chosen is None:
            return None
        return self.render_first(chosen.keys, chosen.values)


def placeholders(template: str) -> frozenset[str]:
    """Return the placeholder names in a template."""
    return frozenset(PLACEHOLDER.findall(template))


def normalise_language(language: str) -> str:
    """Map "de-DE", "de_CH" or "DE" to a supported language, English otherwise."""
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE


def load_cues(language: str, directory: Path | None = None) -> CueBook:
    """Load a language's cue book with English behind it (blocking file reads)."""
    folder = CUE_DIR if directory is None else directory
    fallback = read_pack(folder / f"{FALLBACK_LANGUAGE}.json")
    chosen = normalise_language(language)
    if chosen == FALLBACK_LANGUAGE:
        return CueBook(fallback, fallback)
    return CueBook(read_pack(folder / f"{chosen}.json"), fallback)


def read_pack(path: Path) -> LanguagePack:
    """Read and check one cue file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CueFileError(f"{path.name}: {err}") from err
    if not isinstance(raw, dict):
        raise CueFileError(f"{path.name}: not a JSON object")
    return LanguagePack(
        language=_text(raw, "language", path),
        cues=_strings(raw.get("cues"), f"{path.name}: cues"),
        spoken=_spoken(raw.get("format"), path),
    )


def _spoken(raw: Any, path: Path) -> SpokenFormat:
    """Read the `format` section of a cue file."""
    if not isinstance(raw, dict):
        raise CueFileError(f"{path.name}: format is not an object")
    units = _strings(raw.get("units"), f"{path.name}: format.units")
    missing = set(unit_keys()) - units.keys()
    if missing:
        raise CueFileError(f"{path.name}: format.units lacks {sorted(missing)}")
    rule = _text(raw, "plural_rule", path)
    if rule not in PLURAL_RULES:
        raise CueFileError(f"{path.name}: unknown plural_rule {rule!r}")
    return SpokenFormat(
        decimal=_text(raw, "decimal", path),
        minus=_text(raw, "minus", path),
        plural_rule=rule,
        list_separator=_text(raw, "list_separator", path),
        list_last=_text(raw, "list_last", path),
        units=units,
    )


def _text(raw: dict[str, Any], name: str, path: Path) -> str:
    """Return a string field of a JSON object."""
    value = raw.get(name)
    if not isinstance(value, str):
        raise CueFileError(f"{path.name}: {name} is not a string")
    return value


def _strings(raw: Any, where: str) -> dict[str, str]:
    """Return a JSON object whose values are all strings."""
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise CueFileError(f"{where} is not an object of strings")
    return {str(key): value for key, value in raw.items()}
