"""Voice control of treadreverse: Assist intents to start, pause, resume, stop and ask."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, override

from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import entity_registry as er, intent
from homeassistant.util import dt as dt_util
import probatio as vol

from .const import DOMAIN
from .coordinator import ACTIVE_STATUSES, TreadmillCoordinator, TreadReverseConfigEntry
from .helpers import async_check_control
from .programme.builtins import BUILTIN_PROGRAMMES
from .programme.engine import EngineSnapshot
from .programme.events import ProgrammeStatus
from .programmes import programme_key

INTENT_START = "TreadReverseStart"
INTENT_PAUSE = "TreadReversePause"
INTENT_RESUME = "TreadReverseResume"
INTENT_STOP = "TreadReverseStop"
INTENT_STATUS = "TreadReverseStatus"

SLOT_NAME = "name"
SLOT_PROGRAMME = "programme"

NAME_SLOT = {
    vol.Optional(
        SLOT_NAME, description="Name of the treadmill; needed only when there are several"
    ): intent.non_empty_string
}

START_SLOTS = {
    **NAME_SLOT,
    vol.Optional(
        SLOT_PROGRAMME,
        description="Built-in programme key or saved programme name; default: the selected one",
    ): intent.non_empty_string,
}

STATUS_PHRASES = {
    ProgrammeStatus.WAITING: "waiting for you to confirm at the treadmill",
    ProgrammeStatus.COUNTDOWN: "counting down to the start",
    ProgrammeStatus.PAUSED: "paused",
    ProgrammeStatus.TURNING: "turning around",
}


class TargetError(intent.IntentHandleError):
    """No single treadmill matches what was said."""


def entries_for(hass: HomeAssistant, assistant: str | None) -> list[TreadReverseConfigEntry]:
    """Return the loaded treadmills, only those with an entity exposed to the assistant."""
    entries: list[TreadReverseConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if assistant is None:
        return entries
    registry = er.async_get(hass)
    return [
        entry
        for entry in entries
        if any(
            async_should_expose(hass, assistant, entity.entity_id)
            for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        )
    ]


def _normalise(name: str) -> str:
    """Return a name as spoken names are compared (case and spacing ignored)."""
    return " ".join(name.casefold().split())


def find_coordinator(
    hass: HomeAssistant, assistant: str | None, name: str | None
) -> TreadmillCoordinator:
    """Return the only treadmill, or the one called name; otherwise say what is missing."""
    entries = entries_for(hass, assistant)
    if name is not None:
        entries = [entry for entry in entries if _normalise(entry.title) == _normalise(name)]
        if not entries:
            raise TargetError(f"There is no treadmill called {name}.")
    if not entries:
        raise TargetError("No treadmill is set up.")
    if len(entries) > 1:
        titles = " or ".join(sorted(entry.title for entry in entries))
        raise TargetError(f"Which treadmill do you mean: {titles}?")
    return entries[0].runtime_data.coordinator


def _slot(slots: dict[str, Any], name: str) -> str | None:
    """Return a slot's value, or None when it was not given."""
    value: str | None = slots.get(name, {}).get("value")
    return value


class TreadReverseIntentHandler(intent.IntentHandler):
    """Find the treadmill, act on it, and answer; errors become error responses."""

    slot_schema: dict[Any, Any] | None = NAME_SLOT
    # The entity whose control the intent needs, as its action does (product.md, "Who may
    # move the belt"); None: accepted from everyone (stop, pause, questions).
    controlled_by: str | None = None

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent on the treadmill the person means."""
        slots = self.async_validate_slots(intent_obj.slots)
        response = intent_obj.create_response()
        try:
            coordinator = find_coordinator(
                intent_obj.hass, intent_obj.assistant, _slot(slots, SLOT_NAME)
            )
            if self.controlled_by is not None:
                # The same check as the actions, with the intent's user (an LLM tool's too).
                await async_check_control(
                    intent_obj.hass,
                    intent_obj.context,
                    coordinator.config_entry.entry_id,
                    self.controlled_by,
                )
            speech = await self.async_act(coordinator, slots, response)
        except TargetError as err:
            response.async_set_error(intent.IntentResponseErrorCode.NO_VALID_TARGETS, str(err))
        except Unauthorized:
            # Checked before anything was done: nothing changed.
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                "You are not allowed to control this treadmill.",
            )
        except HomeAssistantError as err:
            # The coordinator's errors are translated; their text is what the person hears.
            response.async_set_error(intent.IntentResponseErrorCode.FAILED_TO_HANDLE, str(err))
        else:
            response.async_set_speech(speech)
        return response

    async def async_act(
        self,
        coordinator: TreadmillCoordinator,
        slots: dict[str, Any],
        response: intent.IntentResponse,
    ) -> str:
        """Act on the treadmill and return what to say."""
        raise NotImplementedError


class StartIntentHandler(TreadReverseIntentHandler):
    """Start a programme, by key or saved name, or the selected one."""

    intent_type = INTENT_START
    description = "Starts a backward-walking programme on the treadmill after a spoken countdown"
    slot_schema = START_SLOTS
    controlled_by = "backward_intervals"

    @override
    async def async_act(
        self,
        coordinator: TreadmillCoordinator,
        slots: dict[str, Any],
        response: intent.IntentResponse,
    ) -> str:
        """Start the programme; the engine still runs its countdown before the belt moves."""
        programme = _slot(slots, SLOT_PROGRAMME)
        if programme is None:
            programme = coordinator.selected_programme
        elif programme_key(programme) in BUILTIN_PROGRAMMES:
            # Speech gives "first steps"; built-ins are looked up by key only.
            programme = programme_key(programme)
        # The person is talking to Assist, so they are at home and chose to start now: no
        # confirmation at the treadmill (as a dashboard press). The countdown still runs.
        await coordinator.async_start_programme(programme, wait_for_person=False)
        name = coordinator.engine.snapshot().programme_name or programme
        return f"Starting {name} after the countdown."


async def _pause(coordinator: TreadmillCoordinator) -> str:
    """Pause."""
    await coordinator.async_pause()
    return "Paused."


async def _resume(coordinator: TreadmillCoordinator) -> str:
    """Resume, or confirm a start that waits for the person."""
    waiting = coordinator.engine.status is ProgrammeStatus.WAITING
    await coordinator.async_resume()
    return "Starting after the countdown." if waiting else "Resuming."


async def _stop(coordinator: TreadmillCoordinator) -> str:
    """Stop (accepted at any time)."""
    await coordinator.async_stop()
    return "Stopped."


class CommandIntentHandler(TreadReverseIntentHandler):
    """An intent that runs one programme command and says what it did."""

    def __init__(
        self,
        intent_type: str,
        description: str,
        command: Callable[[TreadmillCoordinator], Awaitable[str]],
        controlled_by: str | None = None,
    ) -> None:
        """Name the intent, its command, and the entity whose control it needs."""
        self.intent_type = intent_type
        self.description = description
        self._command = command
        self.controlled_by = controlled_by

    @override
    async def async_act(
        self,
        coordinator: TreadmillCoordinator,
        slots: dict[str, Any],
        response: intent.IntentResponse,
    ) -> str:
        """Run the command."""
        return await self._command(coordinator)


class StatusIntentHandler(TreadReverseIntentHandler):
    """Say where the programme is."""

    intent_type = INTENT_STATUS
    description = "Tells the interval, direction, time left and backward distance of the programme"

    @override
    async def async_act(
        self,
        coordinator: TreadmillCoordinator,
        slots: dict[str, Any],
        response: intent.IntentResponse,
    ) -> str:
        """Describe the programme."""
        response.response_type = intent.IntentResponseType.QUERY_ANSWER
        return status_speech(coordinator.engine.snapshot())


def status_speech(snapshot: EngineSnapshot) -> str:
    """Return the spoken status, e.g. 'Interval 3 of 12, walking backward, ...'."""
    if snapshot.status not in ACTIVE_STATUSES:
        return "No programme is running."
    parts = []
    if snapshot.interval_index is not None:
        parts.append(f"Interval {snapshot.interval_index} of {snapshot.interval_count}")
    parts.append(STATUS_PHRASES.get(snapshot.status, f"walking {snapshot.direction}"))
    if snapshot.status is not ProgrammeStatus.PAUSED and snapshot.interval_ends_at is not None:
        left = max(0, round((snapshot.interval_ends_at - dt_util.utcnow()).total_seconds()))
        parts.append(f"{left} seconds left in this interval")
    text = f"{', '.join(parts)}; {round(snapshot.backward_distance_m)} metres backward so far."
    return text[0].upper() + text[1:]


def handlers() -> list[TreadReverseIntentHandler]:
    """Return one handler per treadreverse intent."""
    return [
        StartIntentHandler(),
        CommandIntentHandler(INTENT_PAUSE, "Pauses the treadmill programme and the belt", _pause),
        CommandIntentHandler(
            INTENT_RESUME,
            "Resumes a paused treadmill programme, or confirms one waiting to start",
            _resume,
            controlled_by="backward_intervals",
        ),
        CommandIntentHandler(INTENT_STOP, "Stops the treadmill belt and ends the programme", _stop),
        StatusIntentHandler(),
    ]


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the intents (called by the intent integration for this platform)."""
    for handler in handlers():
        intent.async_register(hass, handler)
