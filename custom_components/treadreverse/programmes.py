"""Built-in and saved programmes as Home Assistant sees them: keys, lookup, saving."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import slugify

from .helpers import programme_error, validation_error
from .programme.builtins import BUILTIN_PROGRAMMES
from .programme.schema import Programme, ProgrammeError
from .storage import PROGRAMMES_KEY


def programme_keys(hass: HomeAssistant) -> list[str]:
    """Return the built-in keys, then the saved programmes' keys."""
    return [*BUILTIN_PROGRAMMES, *sorted(hass.data[PROGRAMMES_KEY].programmes)]


def programme_key(name: str) -> str:
    """Return the key a saved programme gets from its name."""
    return slugify(name)


def resolve_programme(hass: HomeAssistant, key_or_name: str) -> tuple[str, Programme]:
    """Return a built-in or saved programme by key or saved name; refuse unknown ones."""
    if key_or_name in BUILTIN_PROGRAMMES:
        return key_or_name, Programme.from_dict(BUILTIN_PROGRAMMES[key_or_name])
    saved = hass.data[PROGRAMMES_KEY].programmes
    key = key_or_name if key_or_name in saved else programme_key(key_or_name)
    if key not in saved:
        raise validation_error("unknown_programme", programme=key_or_name)
    try:
        return key, Programme.from_dict(saved[key])
    except ProgrammeError as err:  # stored before a stricter schema, or edited by hand
        raise programme_error(err, within=key) from err


def parse_definition(definition: dict[str, Any], field: str = "definition") -> Programme:
    """Validate an inline programme, naming the offending place in the error."""
    try:
        return Programme.from_dict(definition)
    except ProgrammeError as err:
        raise programme_error(err, within=field) from err
