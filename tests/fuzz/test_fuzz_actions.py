"""Every treadreverse action and the entities' services, with hostile data, through Home Assistant.

The only outcomes: success, Home Assistant's schema refusal, Unauthorized, or an error with a
translation key; nothing logged at error level; a refusal changes no state, no stored
programme, no option and not the belt.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.storage import PROGRAMMES_KEY
from tests.integration.conftest import advance

from .budget import examples
from .strategies import definitions, garbage, numbers, valid_definitions
from .surfaces import STATUS, callers, errors_logged, observed, refused_or_done, reset
from .tally import Refused, outcome

ENTRY_ID = "01SIMULATEDTREADMILL00000"
entry_ids = st.one_of(*[st.just(ENTRY_ID)] * 6, st.just("01UNKNOWN"), garbage)
texts = st.text(max_size=220) | garbage
flags = st.booleans() | garbage

# Each action's fields, hostile values mixed with good ones.
ACTIONS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "start_programme": {
        "programme": st.sampled_from(["first_steps", "First steps", "nope"]) | garbage,
        "definition": definitions,
        "speed_scale": numbers,
        "wait_for_person": flags,
    },
    "save_programme": {"definition": definitions, "overwrite": flags},
    "delete_programme": {"programme": texts},
    "set_speed": {"speed": numbers},
    "set_incline": {"incline": numbers},
    "skip_interval": {},
    "pause": {},
    "resume": {},
    "stop": {},
    "announce": {"message": texts},
    "test_announcement": {"message": texts},
    "get_sessions": {"limit": numbers | garbage},
}
# Good data, drawn half the time: the belt moves, programmes are saved, and the refusals
# that follow meet a treadmill with something to lose.
GOOD: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "start_programme": {
        "programme": st.just("first_steps"),
        "wait_for_person": st.booleans(),
    },
    "save_programme": {"definition": valid_definitions},
    "delete_programme": {"programme": st.just("first_steps")},
    "set_speed": {"speed": st.floats(0.5, 12)},
    "set_incline": {"incline": st.floats(0, 12)},
    "announce": {"message": st.text(min_size=1, max_size=50).filter(str.strip)},
    "test_announcement": {},
    "get_sessions": {"limit": st.integers(1, 500)},
}
NO_ENTRY = {"save_programme", "delete_programme"}
RESPONSE = {"get_sessions": True, "save_programme": True}


@st.composite
def action_data(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """Draw an action's data: some fields, maybe an unknown one, maybe no entry id."""
    if name in GOOD and draw(st.booleans()):
        good = {field: draw(strategy) for field, strategy in GOOD[name].items()}
        return good if name in NO_ENTRY else {"config_entry_id": ENTRY_ID, **good}
    fields = ACTIONS[name]
    data: dict[str, Any] = {}
    if name not in NO_ENTRY and draw(st.integers(0, 9)):
        data["config_entry_id"] = draw(entry_ids)
    for field in draw(st.lists(st.sampled_from(sorted(fields)), unique=True)) if fields else []:
        data[field] = draw(fields[field])
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.text(max_size=8))] = draw(garbage)
    return data


ENTITY_CALLS: dict[str, tuple[str, str, dict[str, st.SearchStrategy[Any]]]] = {
    "number.set_value speed": (
        "number",
        "set_value",
        {"entity_id": st.just("number.simulated_treadmill_target_speed"), "value": numbers},
    ),
    "number.set_value incline": (
        "number",
        "set_value",
        {"entity_id": st.just("number.simulated_treadmill_target_incline"), "value": numbers},
    ),
    "select.select_option": (
        "select",
        "select_option",
        {
            "entity_id": st.just("select.simulated_treadmill_programme"),
            "option": st.sampled_from(["first_steps", "First steps"]) | texts,
        },
    ),
    "switch.turn_on": (
        "switch",
        "turn_on",
        {
            "entity_id": st.sampled_from(
                [
                    "switch.simulated_treadmill_backward_intervals",
                    "switch.simulated_treadmill_announcements",
                ]
            )
        },
    ),
    "switch.turn_off": (
        "switch",
        "turn_off",
        {
            "entity_id": st.sampled_from(
                [
                    "switch.simulated_treadmill_backward_intervals",
                    "switch.simulated_treadmill_announcements",
                ]
            )
        },
    ),
}


async def _refused(call: Any) -> bool:
    """Return whether the call was refused (an allowed refusal); a crash escapes."""
    try:
        await refused_or_done(call)
    except Refused:
        return True
    return False


async def _one_call(
    hass: HomeAssistant,
    *,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    target: str,
    call: tuple[str, str, dict[str, Any]],
    context: Context,
    undo: bool = True,
) -> None:
    """Make one call and hold it to the outcomes; undo it when it was accepted (if asked)."""
    domain, service, data = call
    programmes = dict(hass.data[PROGRAMMES_KEY].programmes)
    before = await observed(hass, entry)
    errors_logged(caplog)
    response = domain == DOMAIN and RESPONSE.get(service, False)
    with outcome(target):
        refused = await _refused(
            hass.services.async_call(
                domain, service, data, blocking=True, context=context, return_response=response
            )
        )
        await hass.async_block_till_done()
        assert not errors_logged(caplog), f"{target} {data!r} logged an error"
        if refused:
            assert await observed(hass, entry) == before, f"{target} {data!r} changed state"
            raise Refused
    if undo and not refused:
        await reset(hass, entry, programmes)


@pytest.mark.parametrize("name", sorted(ACTIONS))
@examples(ci=40)
@given(data=st.data(), caller=st.sampled_from(["person", "guest", "automation", "unknown user"]))
async def test_actions_refuse_or_succeed(
    hass: HomeAssistant,
    *,
    loaded_simulated: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    name: str,
    data: st.DataObject,
    caller: str,
) -> None:
    """Every action, hostile data, every kind of caller."""
    contexts = await _callers(hass)
    values = data.draw(action_data(name), label="data")
    await _one_call(
        hass,
        entry=loaded_simulated,
        caplog=caplog,
        target=f"action: {name}",
        call=(DOMAIN, name, values),
        context=contexts[caller],
    )


@pytest.mark.parametrize("target", sorted(ENTITY_CALLS))
@examples(ci=40)
@given(
    data=st.data(),
    caller=st.sampled_from(["person", "guest", "automation"]),
)
async def test_entity_services_refuse_or_succeed(
    hass: HomeAssistant,
    *,
    loaded_simulated: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    target: str,
    data: st.DataObject,
    caller: str,
) -> None:
    """The number, select and switch services with hostile values."""
    contexts = await _callers(hass)
    domain, service, fields = ENTITY_CALLS[target]
    values = {name: data.draw(strategy, label=name) for name, strategy in fields.items()}
    await _one_call(
        hass,
        entry=loaded_simulated,
        caplog=caplog,
        target=f"entity: {target}",
        call=(domain, service, values),
        context=contexts[caller],
    )


_CALLERS: dict[int, dict[str, Context]] = {}


async def _callers(hass: HomeAssistant) -> dict[str, Context]:
    """Create the callers once per Home Assistant instance (a test's examples share it)."""
    if id(hass) not in _CALLERS:
        _CALLERS.clear()
        _CALLERS[id(hass)] = await callers(hass)
    return _CALLERS[id(hass)]


async def _running(hass: HomeAssistant, freezer: FrozenDateTimeFactory, person: Context) -> None:
    """Let the person start first_steps and walk until it runs, unless it runs already."""
    if hass.states.get(STATUS).state == "running":
        return
    data = {"config_entry_id": ENTRY_ID}
    await hass.services.async_call(DOMAIN, "stop", data, blocking=True, context=Context())
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {**data, "programme": "first_steps", "wait_for_person": False},
        blocking=True,
        context=person,
    )
    await advance(hass, freezer, 15)
    assert hass.states.get(STATUS).state == "running"


@pytest.mark.parametrize("name", sorted(ACTIONS))
@examples(ci=20)
@given(data=st.data(), caller=st.sampled_from(["person", "guest", "automation", "unknown user"]))
async def test_refusals_leave_a_running_programme_alone(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    name: str,
    data: st.DataObject,
    caller: str,
) -> None:
    """The same calls while the belt moves: a refusal changes nothing, the belt included."""
    contexts = await _callers(hass)
    await _running(hass, freezer, contexts["person"])
    values = data.draw(action_data(name), label="data")
    await _one_call(
        hass,
        entry=loaded_simulated,
        caplog=caplog,
        target=f"running: {name}",
        call=(DOMAIN, name, values),
        context=contexts[caller],
        undo=False,
    )
