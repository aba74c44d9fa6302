"""Actions of treadreverse, registered once for all treadmills."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
import math
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv, service
import probatio as vol

from .const import DOMAIN
from .coordinator import ACTIVE_STATUSES, TreadmillCoordinator, TreadReverseConfigEntry
from .helpers import (
    async_check_control,
    async_check_domain_control,
    device_error,
    origin_of,
    programme_error,
    run_command,
    validation_error,
)
from .programme.builtins import BUILTIN_PROGRAMMES
from .programme.interlock import Origin
from .programme.schema import MAX_STRING, ErrorKind, ProgrammeError
from .programmes import parse_definition, programme_key
from .storage import PROGRAMMES_KEY

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_PROGRAMME = "programme"
ATTR_DEFINITION = "definition"
ATTR_SPEED_SCALE = "speed_scale"
ATTR_WAIT_FOR_PERSON = "wait_for_person"
ATTR_SPEED = "speed"
ATTR_INCLINE = "incline"
ATTR_LIMIT = "limit"
ATTR_OVERWRITE = "overwrite"
ATTR_MESSAGE = "message"


def _number(value: Any) -> float:
    """Coerce a number: probatio's compiled Coerce(float) lets an OverflowError escape.

    An integer too large for a float (10**400) is refused here as the schema refuses any
    other bad value; a NaN or an infinity passes, for each action to refuse by its field.
    """
    if isinstance(value, bool):
        raise vol.Invalid("expected a number")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise vol.Invalid("expected a number") from err


# A programme's key or name: text no longer than a programme's name may be.
PROGRAMME_KEY = vol.All(cv.string, vol.Length(min=1, max=MAX_STRING))
ENTRY_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
START_SCHEMA = ENTRY_SCHEMA.extend(
    {
        vol.Exclusive(ATTR_PROGRAMME, "programme"): PROGRAMME_KEY,
        vol.Exclusive(ATTR_DEFINITION, "programme"): dict,
        vol.Optional(ATTR_SPEED_SCALE, default=1.0): vol.All(_number, vol.Range(min=0.5, max=1.5)),
        vol.Optional(ATTR_WAIT_FOR_PERSON): cv.boolean,
    }
)
SPEED_SCHEMA = ENTRY_SCHEMA.extend({vol.Required(ATTR_SPEED): _number})
INCLINE_SCHEMA = ENTRY_SCHEMA.extend({vol.Required(ATTR_INCLINE): _number})
MESSAGE_SCHEMA = ENTRY_SCHEMA.extend(
    {vol.Optional(ATTR_MESSAGE): vol.All(cv.string, vol.Length(min=1, max=200))}
)
SESSIONS_SCHEMA = ENTRY_SCHEMA.extend(
    {vol.Optional(ATTR_LIMIT, default=20): vol.All(vol.Coerce(int), vol.Range(min=1, max=500))}
)
SAVE_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEFINITION): dict, vol.Optional(ATTR_OVERWRITE, default=False): cv.boolean}
)
DELETE_SCHEMA = vol.Schema({vol.Required(ATTR_PROGRAMME): PROGRAMME_KEY})

type Handler = Callable[[TreadmillCoordinator, ServiceCall], Coroutine[Any, Any, None]]


def _coordinator(call: ServiceCall) -> TreadmillCoordinator:
    """Return the treadmill the call names (the helper raises translated errors)."""
    entry: TreadReverseConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    return entry.runtime_data.coordinator


def _from_automation(call: ServiceCall) -> bool:
    """Return whether an automation or script made the call (no person pressed anything)."""
    return origin_of(call.context) is Origin.AUTOMATION


async def _start(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Start a programme by key/name or inline definition."""
    if ATTR_DEFINITION in call.data:
        programme: Any = parse_definition(call.data[ATTR_DEFINITION])
    elif ATTR_PROGRAMME in call.data:
        programme = call.data[ATTR_PROGRAMME]
    else:
        programme = coordinator.selected_programme
    await coordinator.async_start_programme(
        programme,
        speed_scale=call.data[ATTR_SPEED_SCALE],
        wait_for_person=call.data.get(ATTR_WAIT_FOR_PERSON, _from_automation(call)),
        origin=origin_of(call.context),
    )


async def _pause(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Pause the programme."""
    await coordinator.async_pause(origin_of(call.context))


async def _resume(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Resume the programme."""
    await coordinator.async_resume(origin_of(call.context))


async def _stop(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Stop the belt and the programme."""
    await coordinator.async_stop(origin_of(call.context))


async def _skip(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Skip to the next interval (never past a turn)."""
    await coordinator.async_skip()


def finite(field: str, value: float) -> float:
    """Return a finite number; refuse NaN and infinities, which no range check catches."""
    if not math.isfinite(value):
        raise programme_error(
            ProgrammeError(
                field, f"{value} is not a number", ErrorKind.NOT_A_NUMBER, {"value": value}
            )
        )
    return value


async def _set_speed(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Set the belt speed (held to the backward cap)."""
    speed = finite(ATTR_SPEED, call.data[ATTR_SPEED])
    await run_command(coordinator.engine.set_speed(speed, origin_of(call.context)))


async def _set_incline(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Set the incline."""
    incline = finite(ATTR_INCLINE, call.data[ATTR_INCLINE])
    await run_command(coordinator.engine.set_incline(incline, origin_of(call.context)))


async def _test_announcement(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Speak a test message on every configured speaker."""
    announcer = coordinator.config_entry.runtime_data.announcer
    if not announcer.speakers and not announcer.notify_targets:
        raise validation_error("no_speakers")
    failed = await announcer.async_test(call.data.get(ATTR_MESSAGE))
    if announcer.speakers and len(failed) == len(announcer.speakers):
        raise device_error("announcement_failed", speakers=", ".join(failed))


ANNOUNCE_SCHEMA = ENTRY_SCHEMA.extend(
    {vol.Required(ATTR_MESSAGE): vol.All(cv.string, vol.Length(min=1, max=200))}
)


async def _announce(coordinator: TreadmillCoordinator, call: ServiceCall) -> None:
    """Say a message as coaching talk: muted by the switch, never in a turn's lead-in or turn."""
    announcer = coordinator.config_entry.runtime_data.announcer
    if not announcer.speakers:
        raise validation_error("announce_no_speakers")
    announcer.announce(call.data[ATTR_MESSAGE])


ENTRY_ACTIONS: dict[str, tuple[vol.Schema, Handler]] = {
    "start_programme": (START_SCHEMA, _start),
    "pause": (ENTRY_SCHEMA, _pause),
    "resume": (ENTRY_SCHEMA, _resume),
    "stop": (ENTRY_SCHEMA, _stop),
    "skip_interval": (ENTRY_SCHEMA, _skip),
    "set_speed": (SPEED_SCHEMA, _set_speed),
    "set_incline": (INCLINE_SCHEMA, _set_incline),
    "test_announcement": (MESSAGE_SCHEMA, _test_announcement),
    "announce": (ANNOUNCE_SCHEMA, _announce),
}


# Who may move the belt (product.md): the entity whose control an action needs. Actions not
# named here are accepted from everyone: stop and pause above all (rule 7).
CONTROLLED_BY: dict[str, str] = {
    "start_programme": "backward_intervals",
    "resume": "backward_intervals",
    "set_speed": "target_speed",
    "set_incline": "target_incline",
    "skip_interval": "skip_interval",
    "announce": "announcements",
}


def _entry_action(
    name: str, handler: Handler
) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    """Wrap a treadmill action: resolve the config entry, check the caller, then act."""

    async def action(call: ServiceCall) -> None:
        coordinator = _coordinator(call)
        if (key := CONTROLLED_BY.get(name)) is not None:
            await async_check_control(
                call.hass, call.context, coordinator.config_entry.entry_id, key
            )
        await handler(coordinator, call)

    return action


async def _get_sessions(call: ServiceCall) -> ServiceResponse:
    """Return the newest sessions first."""
    sessions = await _coordinator(call).store.sessions.async_newest(call.data[ATTR_LIMIT])
    return {"sessions": [*sessions]}


def _running_keys(hass: HomeAssistant) -> set[str]:
    """Return the keys of programmes running on any treadmill."""
    entries: list[TreadReverseConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    return {
        snapshot.programme_key
        for entry in entries
        if (snapshot := entry.runtime_data.coordinator.engine.snapshot()).status in ACTIVE_STATUSES
        and snapshot.programme_key
    }


async def _save_programme(call: ServiceCall) -> ServiceResponse:
    """Save a programme under the slug of its name."""
    await async_check_domain_control(call.hass, call.context)
    programme = parse_definition(call.data[ATTR_DEFINITION])
    key = programme_key(programme.name)
    library = call.hass.data[PROGRAMMES_KEY]
    if not key or key in BUILTIN_PROGRAMMES:
        raise validation_error("builtin_programme", programme=key or programme.name)
    if key in library.programmes and not call.data[ATTR_OVERWRITE]:
        raise validation_error("programme_exists", programme=key)
    if key in _running_keys(call.hass):
        raise validation_error("programme_in_use", programme=key)
    await library.async_put(key, programme.to_dict())
    return {"programme": key}


async def _delete_programme(call: ServiceCall) -> None:
    """Delete a saved programme (not a built-in, not the running one)."""
    await async_check_domain_control(call.hass, call.context)
    key = call.data[ATTR_PROGRAMME]
    library = call.hass.data[PROGRAMMES_KEY]
    if key in BUILTIN_PROGRAMMES:
        raise validation_error("builtin_programme", programme=key)
    if key not in library.programmes:
        key = programme_key(key)
    if key not in library.programmes:
        raise validation_error("unknown_programme", programme=call.data[ATTR_PROGRAMME])
    if key in _running_keys(call.hass):
        raise validation_error("programme_in_use", programme=key)
    await library.async_delete(key)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action."""
    for name, (schema, handler) in ENTRY_ACTIONS.items():
        hass.services.async_register(DOMAIN, name, _entry_action(name, handler), schema=schema)
    hass.services.async_register(
        DOMAIN, "get_sessions", _get_sessions, SESSIONS_SCHEMA, SupportsResponse.ONLY
    )
    hass.services.async_register(
        DOMAIN, "save_programme", _save_programme, SAVE_SCHEMA, SupportsResponse.OPTIONAL
    )
    hass.services.async_register(DOMAIN, "delete_programme", _delete_programme, DELETE_SCHEMA)
