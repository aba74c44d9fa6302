"""Shared helpers of the Home Assistant glue: who may act, and layer errors as HA errors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from homeassistant.auth.models import User
from homeassistant.auth.permissions.const import CAT_ENTITIES, POLICY_CONTROL
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.script import script_stack_cv

from .const import DOMAIN
from .programme.engine import EngineBusyError
from .programme.interlock import InterlockError, Origin
from .programme.schema import ProgrammeError
from .treadmill.base import CommandError, TreadmillConnectionError, TreadmillError


def validation_error(key: str, **placeholders: Any) -> ServiceValidationError:
    """Return a translated error about bad input."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def device_error(key: str, **placeholders: Any) -> HomeAssistantError:
    """Return a translated error about the treadmill."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def programme_error(err: ProgrammeError, within: str | None = None) -> ServiceValidationError:
    """Return a programme's error translated by its kind, naming its path (within a field).

    programme/ stays free of Home Assistant: it gives a kind and its placeholders, and each
    kind has its own message (`programme_<kind>`) in every language.
    """
    path = ".".join(part for part in (within, err.path) if part) or "programme"
    if (kind := err.kind) is None:
        # A ProgrammeError raised without its kind's placeholders (the engine's manual
        # range check, the options): its English reason, rather than a message with holes.
        return validation_error("invalid_programme", field=path, reason=err.reason)
    return validation_error(f"programme_{kind.value}", path=path, **err.placeholders)


def treadmill_error(err: TreadmillError) -> HomeAssistantError:
    """Return a treadmill's error translated by its kind (a failed command: by its failure)."""
    if isinstance(err, CommandError):
        return device_error(f"command_{err.failure.value}", command=err.command)
    if isinstance(err, TreadmillConnectionError):
        return device_error("treadmill_unreachable")
    return device_error("treadmill_error")


def origin_of(context: Context | None) -> Origin:
    """Tell a person (a user, no parent) from an automation or script (product.md)."""
    if script_stack_cv.get():
        # Inside a script or automation run: a script run from the dashboard carries the
        # person's context (a user, no parent), but it may have waited for hours first.
        return Origin.AUTOMATION
    if context is not None and context.user_id is not None and context.parent_id is None:
        return Origin.PERSON
    return Origin.AUTOMATION


async def _user_to_check(hass: HomeAssistant, context: Context | None) -> User | None:
    """Return the user whose permissions decide, or None when the call needs no check.

    Calls without a user (automations, scripts started by the system) and administrators
    pass (product.md, "Who may move the belt"); a user id Home Assistant does not know is
    refused, as Home Assistant's own entity services refuse it.
    """
    if context is None or context.user_id is None:
        return None
    user = await hass.auth.async_get_user(context.user_id)
    if user is None:
        raise UnknownUser(context=context, permission=POLICY_CONTROL)
    return None if user.is_admin else user


def entity_id_of(hass: HomeAssistant, entry_id: str, key: str) -> str | None:
    """Return the entity id of a treadmill's entity by its key (its translation key)."""
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        if entity.platform == DOMAIN and entity.translation_key == key:
            return entity.entity_id
    return None


async def async_check_control(
    hass: HomeAssistant, context: Context | None, entry_id: str, key: str
) -> None:
    """Refuse a user without control of the treadmill's entity `key`; nothing is changed.

    A treadmill without that entity (the manual kind has no targets) has nothing a user
    could be granted, so only administrators and automations pass.
    """
    if (user := await _user_to_check(hass, context)) is None:
        return
    entity_id = entity_id_of(hass, entry_id, key)
    if entity_id is None or not user.permissions.check_entity(entity_id, POLICY_CONTROL):
        raise Unauthorized(context=context, entity_id=entity_id, permission=POLICY_CONTROL)


async def async_check_domain_control(hass: HomeAssistant, context: Context | None) -> None:
    """Refuse a user who controls none of treadreverse's entities (the programme library).

    The same test as Home Assistant's `verify_domain_control`, with its user lookup shared.
    """
    if (user := await _user_to_check(hass, context)) is None:
        return
    registry = er.async_get(hass)
    if not any(
        user.permissions.check_entity(entity.entity_id, POLICY_CONTROL)
        for entity in registry.entities.values()
        if entity.platform == DOMAIN
    ):
        raise Unauthorized(context=context, permission=POLICY_CONTROL, perm_category=CAT_ENTITIES)


async def run_command[T](command: Awaitable[T]) -> T:
    """Await a treadmill or engine command, translating its errors for the user."""
    try:
        return await command
    except InterlockError as err:
        # A refusal names its rule; nothing was sent.
        raise validation_error(f"refused_{err.refusal.value}", **err.placeholders) from err
    except ProgrammeError as err:
        raise programme_error(err) from err
    except EngineBusyError as err:
        raise validation_error("programme_running", programme="") from err
    except TreadmillError as err:
        raise treadmill_error(err) from err
