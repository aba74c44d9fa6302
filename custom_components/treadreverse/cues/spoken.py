"""Numbers and units as a person would say them, per language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import math

# Words every language file must give, as "{value} ..." templates in `format.units`.
UNIT_WORDS: tuple[str, ...] = (
    "speed",
    "incline",
    "metre",
    "kilometre",
    "hour",
    "minute",
    "second",
)
PLURAL_FORMS: tuple[str, ...] = ("one", "other")
# "n_is_1": singular only for exactly 1 (en, de, es, nl); "n_below_2": singular for 0 <= n < 2 (fr).
PLURAL_RULES: frozenset[str] = frozenset({"n_is_1", "n_below_2"})


class Unit(StrEnum):
    """What a number measures, which decides how it is spoken."""

    SPEED = "speed"  # km/h
    INCLINE = "incline"  # %
    DISTANCE = "distance"  # m
    DURATION = "duration"  # s


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit, spoken in the language of the phrase it lands in."""

    value: float
    unit: Unit


@dataclass(frozen=True, slots=True)
class Term:
    """A value that is itself a cue key (a label, a built-in name), said in the phrase's language.

    `default` is said when no language has the key (a saved programme's own name).
    """

    key: str
    default: str | None = None


type Value = str | int | float | Quantity | Term


@dataclass(frozen=True, slots=True)
class SpokenFormat:
    """How one language says numbers, units and lists."""

    decimal: str
    minus: str
    plural_rule: str
    list_separator: str
    list_last: str
    units: Mapping[str, str]

    def number(self, value: float, decimals: int = 1) -> str:
        """Say a number with at most `decimals` decimals, dropping a trailing ".0"."""
        if not math.isfinite(value):
            return str(value)
        rounded = round(value, decimals)
        text = f"{abs(rounded):.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        text = text.replace(".", self.decimal)
        if rounded < 0 and text != "0":
            return self.minus.replace("{value}", text)
        return text

    def quantity(self, quantity: Quantity) -> str:
        """Say a quantity with its unit."""
        value = quantity.value
        if not math.isfinite(value):
            return str(value)
        if quantity.unit is Unit.SPEED:
            return self._counted("speed", value, 1)
        if quantity.unit is Unit.INCLINE:
            return self._counted("incline", value, 1)
        if quantity.unit is Unit.DISTANCE:
            return self.distance(value)
        return self.duration(value)

    def distance(self, metres: float) -> str:
        """Say a distance: whole metres under 1000, otherwise kilometres with one decimal."""
        if abs(round(metres)) < 1000:
            return self._counted("metre", round(metres), 0)
        return self._counted("kilometre", metres / 1000, 1)

    def duration(self, seconds: float) -> str:
        """Say a duration in hours, minutes and seconds, leaving out the zero parts."""
        total = round(seconds)
        if total < 0:
            return self.minus.replace("{value}", self.duration(-total))
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        parts = [
            self._counted(word, count, 0)
            for word, count in (("hour", hours), ("minute", minutes), ("second", secs))
            if count
        ]
        return self.join(parts) if parts else self._counted("second", 0, 0)

    def join(self, parts: list[str]) -> str:
        """Join parts as a spoken list: "a, b and c" in the language's own way."""
        if len(parts) < 2:
            return "".join(parts)
        return self.list_separator.join(parts[:-1]) + self.list_last + parts[-1]

    def _counted(self, word: str, value: float, decimals: int) -> str:
        """Say a number followed by the singular or plural form of a unit word."""
        shown = round(value, decimals)
        form = "one" if self._is_singular(abs(shown)) else "other"
        return self.units[f"{word}.{form}"].replace("{value}", self.number(value, decimals))

    def _is_singular(self, shown: float) -> bool:
        """Return whether a displayed number takes the singular."""
        if self.plural_rule == "n_below_2":
            return shown < 2
        return shown == 1


def unit_keys() -> tuple[str, ...]:
    """Return every key a language file's `format.units` must have."""
    return tuple(f"{word}.{form}" for word in UNIT_WORDS for form in PLURAL_FORMS)
