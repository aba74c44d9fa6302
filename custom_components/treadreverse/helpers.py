"""Shared helpers of the Home Assistant glue: turning layer errors into HA errors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .programme.engine import EngineBusyError
from .programme.interlock import InterlockError, Origin
from .programme.schema import ProgrammeError
from .treadmill.base import CommandError, TreadmillError


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


def origin_of(context: Context | None) -> Origin:
    """Tell a person (a user, no parent) from an automation or script (product.md)."""
    if context is not None and context.user_id is not None and context.parent_id is None:
        return Origin.PERSON
    return Origin.AUTOMATION


async def run_command[T](command: Awaitable[T]) -> T:
    """Await a treadmill or engine command, translating its errors for the user."""
    try:
        return await command
    except InterlockError as err:
        # A refusal names its rule; nothing was sent.
        raise validation_error(f"refused_{err.refusal.value}", **err.placeholders) from err
    except ProgrammeError as err:
        raise validation_error("invalid_programme", field=err.path, reason=err.reason) from err
    except EngineBusyError as err:
        raise validation_error("programme_running", programme="") from err
    except CommandError as err:
        raise device_error("command_failed", command=err.command, reason=err.failure.value) from err
    except TreadmillError as err:
        raise device_error("treadmill_error", error=str(err)) from err
