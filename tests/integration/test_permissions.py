"""Who may move the belt (product.md): real users, real policies, every surface."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.const import GROUP_ID_ADMIN, GROUP_ID_READ_ONLY
from homeassistant.auth.models import Group, User
from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.button import BUTTONS
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.number import NUMBERS
from custom_components.treadreverse.services import CONTROLLED_BY, ENTRY_ACTIONS
from custom_components.treadreverse.storage import PROGRAMMES_KEY
from custom_components.treadreverse.switch import SWITCHES

from .conftest import advance
from .speakers import RecordingPlayer

STATUS = "sensor.simulated_treadmill_programme_status"
SWITCH = "switch.simulated_treadmill_backward_intervals"
TARGET_SPEED = "number.simulated_treadmill_target_speed"
TARGET_INCLINE = "number.simulated_treadmill_target_incline"
SKIP = "button.simulated_treadmill_skip_interval"
STOP_BUTTON = "button.simulated_treadmill_stop"
ANNOUNCEMENTS = "switch.simulated_treadmill_announcements"
MINE = {
    "name": "My intervals",
    "segments": [
        {"direction": "forward", "duration": 30, "speed": 3.0},
        {"direction": "backward", "duration": 30, "speed": 2.0},
    ],
}

# Each guarded action, its data, and the entity whose control it needs (product.md).
GUARDED: dict[str, tuple[dict[str, Any], str | None]] = {
    "start_programme": ({"programme": "first_steps", "wait_for_person": False}, SWITCH),
    "resume": ({}, SWITCH),
    "set_speed": ({"speed": 4.0}, TARGET_SPEED),
    "set_incline": ({"incline": 2.0}, TARGET_INCLINE),
    "skip_interval": ({}, SKIP),
}
# Programme actions need control of the treadreverse domain (no treadmill named).
LIBRARY: dict[str, dict[str, Any]] = {
    "save_programme": {"definition": MINE},
    "delete_programme": {"programme": "my_intervals"},
}


@pytest.fixture(autouse=True)
async def owner(hass: HomeAssistant) -> User:
    """Create the owner first: Home Assistant makes its first user the owner, who may do all."""
    user = await hass.auth.async_create_user("Owner", group_ids=[GROUP_ID_ADMIN])
    assert user.is_owner
    return user


async def create_user(
    hass: HomeAssistant, name: str, policy: dict[str, Any] | None = None, group: str | None = None
) -> User:
    """Create a real user in a system group, or in one group with this policy (as in the UI)."""
    user = await hass.auth.async_create_user(name, group_ids=[group] if group else None)
    if policy is not None:
        user.groups = [Group(name=f"{name} group", policy=policy)]
    assert not user.is_owner
    return user


@pytest.fixture
async def admin(hass: HomeAssistant, owner: User) -> Context:
    """Return the context of an administrator (not the owner) at the dashboard."""
    user = await create_user(hass, "Admin", group=GROUP_ID_ADMIN)
    assert user.is_admin
    return Context(user_id=user.id)


@pytest.fixture
async def guest(hass: HomeAssistant, owner: User) -> Context:
    """Return a regular user who may read everything and control only the lights."""
    policy = {"entities": {"all": {"read": True}, "domains": {"light": True}}}
    return Context(user_id=(await create_user(hass, "Guest", policy)).id)


@pytest.fixture
async def read_only(hass: HomeAssistant, owner: User) -> Context:
    """Return a user of Home Assistant's read-only group."""
    user = await create_user(hass, "Reader", group=GROUP_ID_READ_ONLY)
    return Context(user_id=user.id)


@pytest.fixture
async def voice(hass: HomeAssistant, loaded_simulated: MockConfigEntry) -> MockConfigEntry:
    """Set up the intent and LLM integrations around a loaded treadmill."""
    for domain in ("homeassistant", "intent", "llm"):
        assert await async_setup_component(hass, domain, {})
    await hass.async_block_till_done()
    return loaded_simulated


async def call(hass: HomeAssistant, action: str, data: dict[str, Any], context: Context) -> Any:
    """Call a treadreverse action with this context and wait for it."""
    return await hass.services.async_call(DOMAIN, action, data, blocking=True, context=context)


async def running(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry, admin: Context
) -> None:
    """Let an administrator start first_steps and walk until it runs."""
    data = {"config_entry_id": entry.entry_id, "programme": "first_steps"}
    await call(hass, "start_programme", {**data, "wait_for_person": False}, admin)
    await advance(hass, freezer, 15)
    assert hass.states.get(STATUS).state == "running"


async def observed(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[Any, ...]:
    """Return what a refused call must leave as it was: programme, belt, library, sessions."""
    coordinator = entry.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    return (
        hass.states.get(STATUS).state,
        hass.states.get("sensor.simulated_treadmill_current_interval").state,
        simulator.state,
        simulator.target_speed,
        simulator.target_incline,
        dict(hass.data[PROGRAMMES_KEY].programmes),
        await coordinator.store.sessions.async_count(),
    )


@pytest.mark.parametrize("action", [*GUARDED, *LIBRARY])
async def test_a_user_without_control_is_refused_and_nothing_changes(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    admin: Context,
    guest: Context,
    action: str,
) -> None:
    """Every action that moves the belt or changes what it will do raises Unauthorized."""
    await call(hass, "save_programme", {"definition": MINE}, admin)
    await running(hass, freezer, loaded_simulated, admin)
    before = await observed(hass, loaded_simulated)
    if action in LIBRARY:
        data, entity_id = LIBRARY[action], None
    else:
        extra, entity_id = GUARDED[action]
        data = {"config_entry_id": loaded_simulated.entry_id, **extra}
    with pytest.raises(Unauthorized) as err:
        await call(hass, action, data, guest)
    assert err.value.user_id == guest.user_id
    assert err.value.permission == POLICY_CONTROL
    assert err.value.entity_id == entity_id
    await advance(hass, freezer, 1)
    assert await observed(hass, loaded_simulated) == before


@pytest.mark.parametrize("action", list(GUARDED))
async def test_control_of_the_named_entity_is_what_counts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    admin: Context,
    action: str,
) -> None:
    """A user allowed to control only the entity an action names may call that action alone."""
    extra, entity_id = GUARDED[action]
    assert entity_id is not None
    policy = {"entities": {"all": {"read": True}, "entity_ids": {entity_id: True}}}
    user = Context(user_id=(await create_user(hass, "Partly trusted", policy)).id)
    if action != "start_programme":
        await running(hass, freezer, loaded_simulated, admin)
    if action == "resume":
        await call(hass, "pause", {"config_entry_id": loaded_simulated.entry_id}, user)
    await call(hass, action, {"config_entry_id": loaded_simulated.entry_id, **extra}, user)
    others = [other for other in GUARDED if GUARDED[other][1] != entity_id]
    for other in others:
        other_extra, _ = GUARDED[other]
        with pytest.raises(Unauthorized):
            await call(
                hass, other, {"config_entry_id": loaded_simulated.entry_id, **other_extra}, user
            )
    await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id}, user)


async def test_administrators_and_automations_pass(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    admin: Context,
) -> None:
    """Admins and calls without a user (automations, scripts) may call every action."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    automation = Context(parent_id="automation-run")
    for context in (admin, automation):
        await call(hass, "save_programme", {"definition": MINE, "overwrite": True}, context)
        data = {**entry_id, "programme": "my_intervals", "wait_for_person": False}
        await call(hass, "start_programme", data, context)
        if hass.states.get(STATUS).state == "waiting":  # an automation's start waits (rule 9)
            await call(hass, "resume", entry_id, admin)
        await advance(hass, freezer, 15)
        assert hass.states.get(STATUS).state == "running"
        await call(hass, "set_incline", {**entry_id, "incline": 1.0}, context)
        await advance(hass, freezer, 4)
        await call(hass, "set_speed", {**entry_id, "speed": 3.5}, context)
        await call(hass, "skip_interval", entry_id, context)
        await call(hass, "pause", entry_id, context)
        await call(hass, "resume", entry_id, context)
        await call(hass, "stop", entry_id, context)
        assert hass.states.get(STATUS).state == "idle"
        await call(hass, "delete_programme", {"programme": "my_intervals"}, context)
        assert "my_intervals" not in hass.data[PROGRAMMES_KEY].programmes


@pytest.mark.parametrize("who", ["guest", "read_only"])
async def test_pause_and_stop_are_accepted_from_everyone(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    admin: Context,
    guest: Context,
    read_only: Context,
    who: str,
) -> None:
    """Whoever the user, the pause and stop actions act (rule 7)."""
    user = {"guest": guest, "read_only": read_only}[who]
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    await running(hass, freezer, loaded_simulated, admin)
    await call(hass, "pause", entry_id, user)
    assert hass.states.get(STATUS).state == "paused"
    await call(hass, "stop", entry_id, user)
    assert hass.states.get(STATUS).state == "idle"
    assert loaded_simulated.runtime_data.coordinator.treadmill.simulator.state == "stopped"


async def test_read_only_user_stops_through_the_action_and_voice(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    voice: MockConfigEntry,
    admin: Context,
    read_only: Context,
) -> None:
    """Home Assistant refuses a read-only user every entity service; stop still reaches the belt."""
    entry_id = {"config_entry_id": voice.entry_id}
    await running(hass, freezer, voice, admin)
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "button", "press", {"entity_id": STOP_BUTTON}, blocking=True, context=read_only
        )
    assert hass.states.get(STATUS).state == "running"
    await call(hass, "stop", entry_id, read_only)
    assert hass.states.get(STATUS).state == "idle"
    await running(hass, freezer, voice, admin)
    response = await intent.async_handle(hass, "test", "TreadReverseStop", {}, context=read_only)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get(STATUS).state == "idle"


@pytest.mark.parametrize(
    ("service", "entity_id", "data"),
    [
        ("switch.turn_on", SWITCH, {}),
        ("number.set_value", TARGET_SPEED, {"value": 4.0}),
        ("button.press", SKIP, {}),
    ],
)
async def test_entity_services_check_the_entity(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    admin: Context,
    guest: Context,
    service: str,
    entity_id: str,
    data: dict[str, Any],
) -> None:
    """The entities' own services are refused by Home Assistant to a user without control."""
    await running(hass, freezer, loaded_simulated, admin)
    before = await observed(hass, loaded_simulated)
    domain, name = service.split(".")
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            domain, name, {"entity_id": entity_id, **data}, blocking=True, context=guest
        )
    assert await observed(hass, loaded_simulated) == before


async def test_voice_and_llm_tools_check_the_speaker(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    voice: MockConfigEntry,
    admin: Context,
    guest: Context,
) -> None:
    """A voice start or resume by a user without control is refused; stop and pause are not."""
    response = await intent.async_handle(hass, "test", "TreadReverseStart", {}, context=guest)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.error_code is intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    assert response.speech["plain"]["speech"] == "You are not allowed to control this treadmill."
    assert hass.states.get(STATUS).state == "idle"
    api = await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test", context=guest, language="en", assistant="conversation", device_id=None
        ),
    )
    result = await api.async_call_tool(
        llm.ToolInput(f"{DOMAIN}__TreadReverseStart", {"programme": "first_steps"})
    )
    assert result.data["response_type"] == "error"
    assert hass.states.get(STATUS).state == "idle"
    await running(hass, freezer, voice, admin)
    await intent.async_handle(hass, "test", "TreadReversePause", {}, context=guest)
    assert hass.states.get(STATUS).state == "paused"
    response = await intent.async_handle(hass, "test", "TreadReverseResume", {}, context=guest)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert hass.states.get(STATUS).state == "paused"
    result = await api.async_call_tool(llm.ToolInput(f"{DOMAIN}__TreadReverseStop", {}))
    assert result.data["response_type"] == "action_done"
    assert hass.states.get(STATUS).state == "idle"
    # The administrator may do all of it by voice.
    response = await intent.async_handle(hass, "test", "TreadReverseStart", {}, context=admin)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    await intent.async_handle(hass, "test", "TreadReverseStop", {}, context=admin)


async def test_an_unknown_user_is_refused(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A user id Home Assistant does not know is refused, as Home Assistant's own services do."""
    data = {"config_entry_id": loaded_simulated.entry_id, "programme": "first_steps"}
    with pytest.raises(Unauthorized):
        await call(hass, "start_programme", data, Context(user_id="nobody"))
    assert hass.states.get(STATUS).state == "idle"


async def test_programme_library_needs_control_of_any_treadreverse_entity(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, guest: Context
) -> None:
    """Saving and deleting need control of the domain: of any treadreverse entity."""
    policy = {"entities": {"all": {"read": True}, "entity_ids": {SWITCH: True}}}
    trainer = Context(user_id=(await create_user(hass, "Trainer", policy)).id)
    await call(hass, "save_programme", {"definition": MINE}, trainer)
    assert "my_intervals" in hass.data[PROGRAMMES_KEY].programmes
    with pytest.raises(Unauthorized):
        await call(hass, "delete_programme", {"programme": "my_intervals"}, guest)
    await call(hass, "delete_programme", {"programme": "my_intervals"}, trainer)
    assert "my_intervals" not in hass.data[PROGRAMMES_KEY].programmes


async def test_an_automation_moves_the_belt_whoever_triggered_it(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, guest: Context
) -> None:
    """An automation runs without a user, so it passes even when a guest's event triggered it.

    Its start still waits for the person at the treadmill (rule 9): the origin decides that.
    """
    entry_id = loaded_simulated.entry_id
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Morning intervals",
                "triggers": {"trigger": "event", "event_type": "morning"},
                "actions": [
                    {
                        "action": f"{DOMAIN}.save_programme",
                        "data": {"definition": MINE, "overwrite": True},
                    },
                    {
                        "action": f"{DOMAIN}.start_programme",
                        "data": {"config_entry_id": entry_id, "programme": "my_intervals"},
                    },
                ],
            }
        },
    )
    hass.bus.async_fire("morning", context=guest)
    await hass.async_block_till_done()
    assert "my_intervals" in hass.data[PROGRAMMES_KEY].programmes
    assert hass.states.get(STATUS).state == "waiting"
    await call(hass, "stop", {"config_entry_id": entry_id}, guest)


async def test_announce_needs_control_of_the_announcements_switch(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    player: RecordingPlayer,
    guest: Context,
) -> None:
    """A guest may not talk through the treadmill's speakers; a user with the switch may."""
    data = {"config_entry_id": loaded_simulated.entry_id, "message": "Well done!"}
    with pytest.raises(Unauthorized) as err:
        await call(hass, "announce", data, guest)
    assert err.value.entity_id == ANNOUNCEMENTS
    await advance(hass, freezer, 5)
    assert "Well done!" not in player.messages
    policy = {"entities": {"all": {"read": True}, "entity_ids": {ANNOUNCEMENTS: True}}}
    coach = Context(user_id=(await create_user(hass, "Coach", policy)).id)
    await call(hass, "announce", data, coach)
    await advance(hass, freezer, 5)
    assert "Well done!" in player.messages


def test_every_guarded_action_exists(hass: HomeAssistant) -> None:
    """The permission map names only real actions and real entity keys of the treadmill."""
    keys = {d.key for d in SWITCHES} | {d.key for d in NUMBERS} | {d.key for d in BUTTONS}
    assert set(CONTROLLED_BY) <= set(ENTRY_ACTIONS)
    assert set(CONTROLLED_BY.values()) <= keys
    # What product.md leaves open to everyone: stop and pause (rule 7), and what moves nothing.
    assert set(ENTRY_ACTIONS) - set(CONTROLLED_BY) == {"stop", "pause", "test_announcement"}
