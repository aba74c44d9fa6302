"""What the fuzz targets through Home Assistant share: callers, outcomes and the observed state."""

from __future__ import annotations

from collections.abc import Awaitable
import logging
from typing import Any

from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.auth.models import Group
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.storage import PROGRAMMES_KEY

from .tally import Refused

STATUS = "sensor.simulated_treadmill_programme_status"


async def callers(hass: HomeAssistant) -> dict[str, Context]:
    """Return the callers a fuzz example may use: owner, guest, automation, unknown user."""
    owner = await hass.auth.async_create_user("Owner", group_ids=[GROUP_ID_ADMIN])
    guest = await hass.auth.async_create_user("Guest")
    policy = {"entities": {"all": {"read": True}, "domains": {"light": True}}}
    guest.groups = [Group(name="Guest group", policy=policy)]
    return {
        "person": Context(user_id=owner.id),
        "guest": Context(user_id=guest.id),
        "automation": Context(),
        "unknown user": Context(user_id="no-such-user"),
    }


async def observed(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[Any, ...]:
    """Return what a refusal must leave as it was: states, belt, library, sessions."""
    coordinator = entry.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    states = {
        state.entity_id: (state.state, dict(state.attributes))
        for state in hass.states.async_all()
        if state.entity_id.split(".")[1].startswith("simulated_treadmill")
        # The connection's signal and the clock-driven sensors are not the call's doing.
        and "signal" not in state.entity_id
    }
    return (
        states,
        simulator.state,
        simulator.target_speed,
        simulator.target_incline,
        dict(hass.data[PROGRAMMES_KEY].programmes),
        await coordinator.store.sessions.async_count(),
        dict(entry.options),
        dict(entry.data),
    )


async def refused_or_done(call: Awaitable[Any]) -> Any:
    """Await a call; raise Refused for an allowed refusal, let anything else escape (a crash).

    Allowed: Home Assistant's own schema refusal (vol.Invalid: the websocket answers
    invalid_format), Unauthorized, and a HomeAssistantError (ServiceValidationError
    included) that carries a translation key.
    """
    try:
        return await call
    except (vol.Invalid, Unauthorized) as err:
        raise Refused from err
    except HomeAssistantError as err:
        error = err
    assert error.translation_key, f"untranslated {type(error).__name__}: {error}"
    raise Refused from error


def _fake_audio(record: logging.LogRecord) -> bool:
    """Return whether Home Assistant's TTS failed to tag the test engine's fake MP3 bytes.

    tests/integration/speakers.py answers with a few MP3 frame headers, not audio; mutagen
    sometimes cannot tag them. Nothing of treadreverse's: a real engine returns real audio.
    """
    return record.name == "homeassistant.components.tts" and record.getMessage().startswith(
        "ID3 tag error"
    )


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the records at error level or above, then forget every record."""
    bad = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and not _fake_audio(r)
    ]
    caplog.clear()
    return bad


async def reset(hass: HomeAssistant, entry: MockConfigEntry, programmes: dict[str, Any]) -> None:
    """Undo an accepted call: stop the belt, drop programmes it saved."""
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True, context=Context()
    )
    library = hass.data[PROGRAMMES_KEY]
    for key in set(library.programmes) - set(programmes):
        await library.async_delete(key)
    await hass.async_block_till_done()
