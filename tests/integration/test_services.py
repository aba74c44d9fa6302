"""Every action of treadreverse, including its errors, through real service calls."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.treadreverse.const import DOMAIN

from .conftest import advance

STATUS = "sensor.simulated_treadmill_programme_status"
MINE = {
    "name": "My intervals",
    "segments": [
        {"direction": "forward", "duration": 30, "speed": 3.0},
        {"direction": "backward", "duration": 30, "speed": 2.0},
    ],
}


PERSON_ID = "a-person"  # a user id and no parent: a person (product.md, "Who asked")


@pytest.fixture(autouse=True)
async def person(hass: HomeAssistant) -> MockUser:
    """Register PERSON_ID as an administrator: an unknown user id is refused (test_permissions)."""
    user = MockUser(id=PERSON_ID, name="Person")
    user.add_to_hass(hass)  # loads the auth store, so its groups exist
    admins = await hass.auth.async_get_group(GROUP_ID_ADMIN)
    assert admins is not None
    user.groups = [admins]
    return user


async def call(hass: HomeAssistant, action: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Call a treadreverse action as a person at the dashboard, and wait for it."""
    kwargs.setdefault("context", Context(user_id=PERSON_ID))
    return await hass.services.async_call(DOMAIN, action, data, blocking=True, **kwargs)


async def test_programme_controls(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Start, pause, resume, skip and stop act on the programme and the belt."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    await call(
        hass, "start_programme", {**entry_id, "programme": "first_steps", "wait_for_person": False}
    )
    await advance(hass, freezer, 15)
    assert hass.states.get(STATUS).state == "running"
    await call(hass, "pause", entry_id)
    assert hass.states.get(STATUS).state == "paused"
    assert hass.states.get("sensor.simulated_treadmill_interval_ends").state == "unknown"
    await call(hass, "resume", entry_id)
    await advance(hass, freezer, 12)
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get("sensor.simulated_treadmill_current_interval").state == "1/10 Warm-up"
    await call(hass, "skip_interval", entry_id)
    # The next segment is backward: skipping goes into the turn, never past it, and the
    # turn is still announced cue_lead_time ahead.
    assert hass.states.get(STATUS).state == "running"
    await advance(hass, freezer, 6)
    assert hass.states.get(STATUS).state == "turning"
    await call(hass, "stop", entry_id)
    # A stop by the person ends the programme: back to idle, the session recorded as stopped.
    assert hass.states.get(STATUS).state == "idle"
    assert simulator.state == "stopped"
    [session] = await loaded_simulated.runtime_data.coordinator.store.sessions.async_newest(1)
    assert session["outcome"] == "stopped"


@pytest.mark.parametrize("action", ["pause", "resume", "skip_interval"])
async def test_commands_without_programme_are_refused(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, action: str
) -> None:
    """Pause, resume and skip need a running programme."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, action, {"config_entry_id": loaded_simulated.entry_id})
    assert err.value.translation_key == "not_active"


async def test_start_twice_is_refused(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A second start while one runs is refused and changes nothing."""
    data = {"config_entry_id": loaded_simulated.entry_id, "programme": "first_steps"}
    await call(hass, "start_programme", data)
    assert hass.states.get(STATUS).state == "countdown"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_programme", {**data, "programme": "backward_jog"})
    assert err.value.translation_key == "programme_running"
    await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})


async def test_wait_for_person_defaults(
    hass: HomeAssistant, hass_admin_user: Any, loaded_simulated: MockConfigEntry
) -> None:
    """A person's call starts the countdown; an automation's call waits for the person."""
    data = {"config_entry_id": loaded_simulated.entry_id, "programme": "first_steps"}
    await call(hass, "start_programme", data, context=Context(user_id=hass_admin_user.id))
    assert hass.states.get(STATUS).state == "countdown"
    await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})
    await call(hass, "start_programme", data, context=Context(parent_id="automation-run"))
    assert hass.states.get(STATUS).state == "waiting"
    await call(hass, "resume", {"config_entry_id": loaded_simulated.entry_id})
    assert hass.states.get(STATUS).state == "countdown"
    await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})


@pytest.mark.parametrize(
    ("data", "key", "field"),
    [
        ({"programme": "no_such_thing"}, "unknown_programme", None),
        (
            {
                "definition": {
                    "name": "Bad",
                    "segments": [{"direction": "backward", "duration": 30, "speed": 9.0}],
                }
            },
            "programme_above_backward_cap",
            "definition.segments[0].speed",
        ),
        (
            {
                "definition": {
                    "name": "Fast",
                    "segments": [{"direction": "backward", "duration": 30, "speed": 3.5}],
                },
                "speed_scale": 1.5,
            },
            "programme_above_backward_cap",
            "segments[0].speed",
        ),
    ],
)
async def test_bad_programmes_are_refused(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    data: dict[str, Any],
    key: str,
    field: str | None,
) -> None:
    """Unknown and unsafe programmes are refused, naming the field; nothing starts."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_programme", {"config_entry_id": loaded_simulated.entry_id, **data})
    assert err.value.translation_key == key
    if field:
        assert err.value.translation_placeholders["path"] == field
    assert hass.states.get(STATUS).state == "idle"


async def test_set_speed_keeps_the_backward_cap(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Above the cap while backward is refused, from the action and from the number."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    definition = {
        "name": "Back",
        "segments": [{"direction": "backward", "duration": 60, "speed": 2.0}],
    }
    await call(
        hass, "start_programme", {**entry_id, "definition": definition, "wait_for_person": False}
    )
    await advance(hass, freezer, 14)
    assert hass.states.get("sensor.simulated_treadmill_direction").state == "backward"
    with pytest.raises(ServiceValidationError):
        await call(hass, "set_speed", {**entry_id, "speed": 6.0})
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.simulated_treadmill_target_speed", "value": 6.0},
            blocking=True,
        )
    await call(hass, "set_speed", {**entry_id, "speed": 2.5})
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "set_incline", {**entry_id, "incline": 1.0})
    assert refused.value.translation_key == "refused_raise_too_soon"  # rule 4
    assert refused.value.translation_placeholders == {"wait_s": "3.0"}
    await advance(hass, freezer, 3)
    await call(hass, "set_incline", {**entry_id, "incline": 1.0})
    await advance(hass, freezer, 1)
    assert float(hass.states.get("number.simulated_treadmill_target_speed").state) == 2.5
    await call(hass, "stop", entry_id)


async def test_stop_that_cannot_reach_the_belt_raises(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A stop that fails is reported as a device error telling the person what to do."""
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    await call(
        hass,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "programme": "first_steps",
            "wait_for_person": False,
        },
    )
    simulator.reject_opcode(0x08)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})
    assert err.value.translation_key == "stop_unreachable"


async def test_save_and_delete_programmes(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """Saved programmes are keyed by name, shared, guarded and listed by the select."""
    response = await call(hass, "save_programme", {"definition": MINE}, return_response=True)
    assert response == {"programme": "my_intervals"}
    select = hass.states.get("select.simulated_treadmill_programme")
    assert "my_intervals" in select.attributes["options"]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "save_programme", {"definition": MINE})
    assert err.value.translation_key == "programme_exists"
    await call(hass, "save_programme", {"definition": MINE, "overwrite": True})
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "save_programme", {"definition": {**MINE, "name": "First steps"}})
    assert err.value.translation_key == "builtin_programme"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_programme", {"programme": "first_steps"})
    assert err.value.translation_key == "builtin_programme"
    await call(
        hass,
        "start_programme",
        {"config_entry_id": loaded_simulated.entry_id, "programme": "My intervals"},
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_programme", {"programme": "My intervals"})
    assert err.value.translation_key == "programme_in_use"
    await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})
    await call(hass, "delete_programme", {"programme": "My intervals"})
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_programme", {"programme": "my_intervals"})
    assert err.value.translation_key == "unknown_programme"
    select = hass.states.get("select.simulated_treadmill_programme")
    assert "my_intervals" not in select.attributes["options"]


async def test_select_and_switch_start_the_selected_programme(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """The select chooses; the backward_intervals switch starts and stops it."""
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.simulated_treadmill_programme", "option": "knee_extension"},
        blocking=True,
    )
    switch = "switch.simulated_treadmill_backward_intervals"
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert hass.states.get(switch).state == "on"
    snapshot = loaded_simulated.runtime_data.coordinator.engine.snapshot()
    assert snapshot.programme_key == "knee_extension"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert hass.states.get(switch).state == "off"


async def test_buttons(
    hass: HomeAssistant,
    hass_admin_user: Any,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
) -> None:
    """The dashboard's buttons start, pause, resume and stop, pressed by a person."""

    async def press(key: str) -> None:
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": f"button.simulated_treadmill_{key}"},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )

    await press("start")
    assert hass.states.get(STATUS).state == "countdown"
    await advance(hass, freezer, 12)
    await press("pause")
    assert hass.states.get(STATUS).state == "paused"
    await press("start")
    assert hass.states.get(STATUS).state == "countdown"
    await press("stop")
    # Stopped during the countdown: the belt never started again, the programme is over.
    assert hass.states.get(STATUS).state == "idle"


async def test_get_sessions_limit(hass: HomeAssistant, loaded_simulated: MockConfigEntry) -> None:
    """get_sessions returns the newest sessions first, up to the limit."""
    store = loaded_simulated.runtime_data.coordinator.store
    await store.sessions.async_append(
        {"id": str(number), "outcome": "completed"} for number in range(5)
    )
    response = await call(
        hass,
        "get_sessions",
        {"config_entry_id": loaded_simulated.entry_id, "limit": 2},
        return_response=True,
    )
    assert [s["id"] for s in response["sessions"]] == ["4", "3"]


async def test_actions_refuse_unknown_entries(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A config entry id that is not ours is refused with Home Assistant's own error."""
    with pytest.raises(ServiceValidationError):
        await call(hass, "stop", {"config_entry_id": "nope"})


async def test_target_speed_refuses_above_the_backward_cap(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """The number keeps the machine's range; above the cap while backward it is refused."""
    number = "number.simulated_treadmill_target_speed"
    assert hass.states.get(number).attributes["max"] == 12.0
    definition = {
        "name": "Back",
        "segments": [{"direction": "backward", "duration": 60, "speed": 2.0}],
    }
    await call(
        hass,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "definition": definition,
            "wait_for_person": False,
        },
    )
    await advance(hass, freezer, 14)
    # A fixed range: following the cap would rewrite the entity registry at every turn.
    assert hass.states.get(number).attributes["max"] == 12.0
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 6.0}, blocking=True
        )
    assert refused.value.translation_key == "refused_above_backward_cap"
    assert hass.states.get(number).state == "2.0"


async def test_refused_command_is_a_device_error(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """A speed the machine refuses surfaces as a translated device error."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "set_speed", {**entry_id, "speed": 3.0})
    # At rest a raise never reaches the machine: it might start on a target speed.
    assert refused.value.translation_key == "refused_belt_at_rest"
    await call(hass, "start_programme", {**entry_id, "programme": "first_steps"})
    await advance(hass, freezer, 14)
    simulator.reject_opcode(0x02)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "set_speed", {**entry_id, "speed": 3.0})
    assert err.value.translation_key == "command_operation_failed"
    assert err.value.translation_placeholders == {"command": "set_speed"}


async def test_voice_switch_confirms_a_waiting_start(
    hass: HomeAssistant, hass_admin_user: Any, loaded_simulated: MockConfigEntry
) -> None:
    """'Turn on backward intervals' while a scheduled programme waits confirms the person."""
    await call(
        hass,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "programme": "first_steps",
            "wait_for_person": True,
        },
    )
    assert hass.states.get(STATUS).state == "waiting"
    switch = {"entity_id": "switch.simulated_treadmill_backward_intervals"}
    # An automation turning the switch on confirms nothing (rule 9): only the person does.
    await hass.services.async_call(
        "switch", "turn_on", switch, blocking=True, context=Context(parent_id="automation")
    )
    assert hass.states.get(STATUS).state == "waiting"
    await hass.services.async_call(
        "switch", "turn_on", switch, blocking=True, context=Context(user_id=hass_admin_user.id)
    )
    assert hass.states.get(STATUS).state == "countdown"
    await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})


async def test_stop_while_a_start_is_prepared_wins(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A stop pressed while the start's cues are generated cancels the start (rule 7)."""
    release = asyncio.Event()

    async def slow_prepare(*_args: Any, **_kwargs: Any) -> None:
        await release.wait()

    data = {
        "config_entry_id": loaded_simulated.entry_id,
        "programme": "first_steps",
        "wait_for_person": False,
    }
    with patch("custom_components.treadreverse.announcer.Announcer.async_prepare", slow_prepare):
        starting = hass.async_create_task(call(hass, "start_programme", data))
        await asyncio.sleep(0)
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "start_programme", data)
        assert err.value.translation_key == "programme_running"
        await call(hass, "stop", {"config_entry_id": loaded_simulated.entry_id})
        release.set()
        await starting
    assert hass.states.get(STATUS).state == "idle"
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    assert bytes([0x07]) not in simulator.writes


async def test_a_link_lost_while_a_start_is_prepared_cancels_the_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Rule 6: a lost link drops the start being prepared, even once the link is back.

    Found by scripts/soak (seed 500, session 321): the link dropped while the start's
    cues were generated, came back during the countdown, and the belt started.
    """
    release = asyncio.Event()

    async def slow_prepare(*_args: Any, **_kwargs: Any) -> None:
        await release.wait()

    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    data = {
        "config_entry_id": loaded_simulated.entry_id,
        "programme": "first_steps",
        "wait_for_person": False,
    }
    with patch("custom_components.treadreverse.announcer.Announcer.async_prepare", slow_prepare):
        # In the background: block_till_done (advance) must not wait for the held start.
        starting = hass.async_create_background_task(call(hass, "start_programme", data), "start")
        await asyncio.sleep(0)
        simulator.drop_link()
        await advance(hass, freezer, 70)  # reconnected meanwhile
        assert hass.states.get("binary_sensor.simulated_treadmill_connected").state == "on"
        release.set()
        with pytest.raises(HomeAssistantError) as err:
            await starting
    assert err.value.translation_key == "command_disconnected"
    assert hass.states.get(STATUS).state == "idle"
    await advance(hass, freezer, 30)
    assert bytes([0x07]) not in simulator.writes
    assert not simulator.belt_running


async def test_an_automation_resume_waits_for_the_person(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """Rule 9: a resume from an automation waits, as its start does; the person confirms."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    await call(hass, "start_programme", {**entry_id, "programme": "first_steps"})
    await advance(hass, freezer, 15)
    await call(hass, "pause", entry_id, context=Context(parent_id="automation-run"))
    assert hass.states.get(STATUS).state == "paused"  # pause is accepted from everyone
    writes = len(simulator.writes)
    await call(hass, "resume", entry_id, context=Context(parent_id="automation-run"))
    assert hass.states.get(STATUS).state == "waiting"
    await advance(hass, freezer, 30)
    assert len(simulator.writes) == writes  # nothing moved
    assert not simulator.belt_running
    await call(hass, "resume", entry_id)  # the person at the dashboard
    assert hass.states.get(STATUS).state == "countdown"
    await call(hass, "stop", entry_id)


async def test_a_speed_outside_the_machine_is_refused_by_its_kind(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_simulated: MockConfigEntry
) -> None:
    """The engine's range check names the value and the machine's range, translated."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    definition = {"name": "Fwd", "segments": [{"direction": "forward", "duration": 60, "speed": 2}]}
    await call(
        hass, "start_programme", {**entry_id, "definition": definition, "wait_for_person": False}
    )
    await advance(hass, freezer, 14)
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "set_speed", {**entry_id, "speed": 30.0})
    assert refused.value.translation_key == "programme_outside_machine_speed"
    assert refused.value.translation_placeholders == {
        "path": "speed",
        "value": "30.0",
        "min": "0.5",
        "max": "12.0",
    }
