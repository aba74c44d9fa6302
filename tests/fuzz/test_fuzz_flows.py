"""The config, options and reconfigure flows with hostile input, through Home Assistant's managers.

The only outcomes: a form with errors, Home Assistant's schema refusal (InvalidData), an
abort, or an entry whose data and options keep every check; a refused step changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN

from .budget import examples
from .strategies import garbage, numbers
from .surfaces import errors_logged
from .tally import Refused, outcome

VALID_OPTIONS: dict[str, Any] = {
    "speakers": ["media_player.living_room"],
    "tts_engine": "tts.test_speech",
    "language": "en",
    "cue_lead_time": 8,
    "turn_mode": "pause",
    "turn_speed": 2.0,
    "turn_duration": 6,
    "max_backward_speed": 3.0,
    "start_countdown": 15,
    "summary_interval": 5,
    "remote_control": True,
}
names = st.sampled_from(["Treadmill", "Garage"]) | st.text(max_size=120) | garbage
speeds = st.floats(0, 30) | numbers | garbage


@st.composite
def hostile(draw: st.DrawFn, valid: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Draw a valid input with some fields replaced, maybe dropped, maybe one unknown added."""
    data = dict(valid)
    for name in draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=3)):
        if draw(st.integers(0, 5)) == 0:
            data.pop(name, None)
        else:
            data[name] = draw(fields[name])
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.text(max_size=8))] = draw(garbage)
    return data


SIMULATED = {"name": "Sim", "min_speed": 0.5, "max_speed": 12.0, "max_incline": 12.0}
SIMULATED_FIELDS = {
    "name": names,
    "min_speed": speeds,
    "max_speed": speeds,
    "max_incline": speeds,
}
OPTION_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "speakers": st.lists(st.sampled_from(["media_player.living_room", "light.x", "nope"]))
    | garbage,
    "tts_engine": st.sampled_from(["tts.test_speech", "tts.none"]) | garbage,
    "language": st.sampled_from(["en", "de", "xx"]) | garbage,
    "cue_lead_time": numbers | garbage,
    "turn_mode": st.sampled_from(["pause", "slow", "stop"]) | garbage,
    "turn_speed": speeds,
    "turn_duration": numbers,
    "max_backward_speed": speeds,
    "start_countdown": numbers,
    "summary_interval": numbers,
    "remote_control": st.booleans() | garbage,
}


async def _step(call: Any) -> dict[str, Any]:
    """Run a flow step; raise Refused for a form with errors or a schema refusal."""
    try:
        result = await call
    except InvalidData as err:
        raise Refused from err
    if result["type"] is FlowResultType.FORM:
        assert result["errors"], result
        raise Refused
    return dict(result)


def _finite_numbers(data: dict[str, Any]) -> None:
    """Every number an entry keeps is finite."""
    for value in data.values():
        if isinstance(value, float):
            assert math.isfinite(value), data


@pytest.mark.parametrize("kind", ["simulated", "manual"])
@examples(ci=40)
@given(data=st.data())
async def test_config_flow_refuses_or_creates_a_valid_entry(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, kind: str, data: st.DataObject
) -> None:
    """A simulated or manual treadmill set up with hostile names and ranges."""
    fields = SIMULATED_FIELDS if kind == "simulated" else {"name": names}
    valid = SIMULATED if kind == "simulated" else {"name": "Manual"}
    user_input = data.draw(hostile(valid, fields), label="input")
    errors_logged(caplog)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    with outcome(f"flow: config {kind}"):
        try:
            created = await _step(
                hass.config_entries.flow.async_configure(result["flow_id"], user_input)
            )
        except Refused:
            hass.config_entries.flow.async_abort(result["flow_id"])
            assert not hass.config_entries.async_entries(DOMAIN)
            raise
        assert created["type"] is FlowResultType.CREATE_ENTRY
        entry = created["result"]
        assert entry.title.strip()
        _finite_numbers(entry.data)
        if kind == "simulated":
            assert entry.data["min_speed"] < entry.data["max_speed"]
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not errors_logged(caplog)


@examples(ci=40)
@given(data=st.data())
async def test_options_flow_refuses_or_saves_valid_options(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    """Hostile options: a refusal keeps the options; saved options keep every check."""
    entry = loaded_simulated
    user_input = data.draw(hostile(VALID_OPTIONS, OPTION_FIELDS), label="input")
    before = dict(entry.options)
    errors_logged(caplog)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with outcome("flow: options"):
        try:
            await _step(hass.config_entries.options.async_configure(result["flow_id"], user_input))
        except Refused:
            hass.config_entries.options.async_abort(result["flow_id"])
            assert dict(entry.options) == before
            raise
        await hass.async_block_till_done()
        options = dict(entry.options)
        _finite_numbers(options)
        assert options["turn_speed"] <= options["max_backward_speed"]
        assert entry.state is ConfigEntryState.LOADED
        hass.config_entries.async_update_entry(entry, options=before)
        await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert not errors_logged(caplog)


@examples(ci=40)
@given(data=st.data())
async def test_reconfigure_refuses_or_keeps_valid_ranges(
    hass: HomeAssistant,
    loaded_simulated: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    """A simulated treadmill renamed and given new ranges, hostile ones among them."""
    entry = loaded_simulated
    user_input = data.draw(hostile(SIMULATED, SIMULATED_FIELDS), label="input")
    before = (dict(entry.data), entry.title)
    errors_logged(caplog)
    result = await entry.start_reconfigure_flow(hass)
    with outcome("flow: reconfigure"):
        try:
            done = await _step(
                hass.config_entries.flow.async_configure(result["flow_id"], user_input)
            )
        except Refused:
            hass.config_entries.flow.async_abort(result["flow_id"])
            assert (dict(entry.data), entry.title) == before
            raise
        assert done["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        _finite_numbers(dict(entry.data))
        assert entry.title.strip()
        assert entry.data["min_speed"] < entry.data["max_speed"]
        hass.config_entries.async_update_entry(entry, data=before[0], title=before[1])
        await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert not errors_logged(caplog)
