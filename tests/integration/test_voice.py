"""Voice control: the Assist intents and the LLM tools built on them."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.llm import async_get_tools

from .conftest import SIMULATED_DATA, advance

STATUS = "sensor.simulated_treadmill_programme_status"
SWITCH = "switch.simulated_treadmill_backward_intervals"
TOOLS = [
    "treadreverse__TreadReverseStart",
    "treadreverse__TreadReversePause",
    "treadreverse__TreadReverseResume",
    "treadreverse__TreadReverseStop",
    "treadreverse__TreadReverseStatus",
]


@pytest.fixture
async def voice(hass: HomeAssistant, loaded_simulated: MockConfigEntry) -> MockConfigEntry:
    """Set up the intent integration (it finds intent.py) around a loaded treadmill."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()
    return loaded_simulated


@pytest.fixture
async def second(hass: HomeAssistant, voice: MockConfigEntry) -> MockConfigEntry:
    """Add a second treadmill, the garage one."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id="01GARAGETREADMILL000000000",
        title="Garage treadmill",
        data={**SIMULATED_DATA, "name": "Garage treadmill"},
        options=dict(voice.options),
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def handle(hass: HomeAssistant, intent_type: str, **slots: str) -> intent.IntentResponse:
    """Handle a treadreverse intent with plain slot values."""
    return await intent.async_handle(
        hass, "test", intent_type, {key: {"value": value} for key, value in slots.items()}
    )


def speech(response: intent.IntentResponse) -> str:
    """Return the plain speech of a response."""
    text: str = response.speech["plain"]["speech"]
    return text


def llm_context(assistant: str = "conversation") -> llm.LLMContext:
    """Return the context an LLM conversation agent passes."""
    return llm.LLMContext(
        platform="test", context=Context(), language="en", assistant=assistant, device_id=None
    )


async def test_start_pause_resume_stop(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, voice: MockConfigEntry
) -> None:
    """The intents drive a programme; a voice start still counts down first."""
    response = await handle(hass, "TreadReverseStart", programme="first steps")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert speech(response) == "Starting Backward intervals, first steps after the countdown."
    assert hass.states.get(STATUS).state == "countdown"
    assert speech(await handle(hass, "TreadReverseStatus")) == (
        "Interval 1 of 10, counting down to the start; 0 metres backward so far."
    )
    await advance(hass, freezer, 15)
    assert hass.states.get(STATUS).state == "running"
    assert speech(await handle(hass, "TreadReversePause")) == "Paused."
    assert hass.states.get(STATUS).state == "paused"
    paused = await handle(hass, "TreadReverseStatus")
    assert paused.response_type is intent.IntentResponseType.QUERY_ANSWER
    assert speech(paused) == "Interval 1 of 10, paused; 0 metres backward so far."
    assert speech(await handle(hass, "TreadReverseResume")) == "Resuming."
    # Resuming counts down again before the belt moves.
    assert hass.states.get(STATUS).state == "countdown"
    assert speech(await handle(hass, "TreadReverseStop")) == "Stopped."
    assert hass.states.get(STATUS).state == "idle"
    assert speech(await handle(hass, "TreadReverseStatus")) == "No programme is running."


async def test_status_while_walking_backward(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, voice: MockConfigEntry
) -> None:
    """The status names the interval, the direction, the time left and the backward metres."""
    coordinator = voice.runtime_data.coordinator
    coordinator.selected_programme = "first_steps"
    await handle(hass, "TreadReverseStart")
    await advance(hass, freezer, 15)
    await coordinator.async_skip()
    await advance(hass, freezer, 30)
    assert speech(await handle(hass, "TreadReverseStatus")) == (
        "Interval 2 of 10, walking backward, 12 seconds left in this interval; "
        "10 metres backward so far."
    )
    await handle(hass, "TreadReverseStop")


async def test_resume_confirms_a_waiting_start(hass: HomeAssistant, voice: MockConfigEntry) -> None:
    """A start from an automation waits for the person; resuming by voice confirms it."""
    await voice.runtime_data.coordinator.async_start_programme("first_steps", wait_for_person=True)
    assert hass.states.get(STATUS).state == "waiting"
    assert speech(await handle(hass, "TreadReverseStatus")).endswith(
        "waiting for you to confirm at the treadmill; 0 metres backward so far."
    )
    assert speech(await handle(hass, "TreadReverseResume")) == "Starting after the countdown."
    assert hass.states.get(STATUS).state == "countdown"
    await handle(hass, "TreadReverseStop")


async def test_errors_are_spoken(hass: HomeAssistant, voice: MockConfigEntry) -> None:
    """An unknown programme or a command without a programme gives an error response."""
    response = await handle(hass, "TreadReverseStart", programme="moonwalk")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.error_code is intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    assert speech(response) == 'There is no programme called "moonwalk"'
    assert hass.states.get(STATUS).state == "idle"
    response = await handle(hass, "TreadReversePause")
    assert response.response_type is intent.IntentResponseType.ERROR
    # Home Assistant drops the final full stop of a translated message.
    assert speech(response) == "No programme is running"


async def test_several_treadmills(
    hass: HomeAssistant, voice: MockConfigEntry, second: MockConfigEntry
) -> None:
    """With two treadmills the name chooses one; without it Assist asks which."""
    response = await handle(hass, "TreadReverseStart")
    assert response.error_code is intent.IntentResponseErrorCode.NO_VALID_TARGETS
    assert speech(response) == (
        "Which treadmill do you mean: Garage treadmill or Simulated treadmill?"
    )
    response = await handle(hass, "TreadReverseStatus", name="attic treadmill")
    assert speech(response) == "There is no treadmill called attic treadmill."
    await handle(hass, "TreadReverseStart", name="garage  Treadmill")
    assert second.runtime_data.coordinator.engine.status == "countdown"
    assert hass.states.get(STATUS).state == "idle"
    await handle(hass, "TreadReverseStop", name="Garage treadmill")


async def test_no_treadmill(hass: HomeAssistant, voice: MockConfigEntry) -> None:
    """Once the only treadmill is unloaded, the intents say so."""
    await hass.config_entries.async_unload(voice.entry_id)
    response = await handle(hass, "TreadReverseStatus")
    assert speech(response) == "No treadmill is set up."


async def test_llm_tools(hass: HomeAssistant, voice: MockConfigEntry) -> None:
    """The intents are LLM tools of the Assist API; calling one acts on the treadmill."""
    assert await async_setup_component(hass, "llm", {})
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context())
    tools = [tool for tool in api.tools if tool.name.startswith(f"{DOMAIN}__")]
    assert [tool.name for tool in tools] == TOOLS
    assert all(tool.integration == DOMAIN for tool in tools)
    assert tools[-1].annotations.read_only
    result = await api.async_call_tool(
        llm.ToolInput("treadreverse__TreadReverseStart", {"programme": "first_steps"})
    )
    assert result.data["response_type"] == "action_done"
    assert hass.states.get(STATUS).state == "countdown"
    await voice.runtime_data.coordinator.async_stop()


async def test_llm_tools_need_an_exposed_treadmill(
    hass: HomeAssistant, voice: MockConfigEntry
) -> None:
    """No tools for another API, or when none of the treadmill's entities is exposed."""
    assert await async_setup_component(hass, "llm", {})
    assert async_get_tools(hass, llm_context(), "other_api") is None
    for entity_id in hass.states.async_entity_ids():
        async_expose_entity(hass, "conversation", entity_id, False)
    assert async_get_tools(hass, llm_context(), llm.LLM_API_ASSIST) is None
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context())
    assert not [tool for tool in api.tools if tool.name.startswith(f"{DOMAIN}__")]
    # Assist (no assistant given: a sentence trigger or the API) still reaches it.
    assert speech(await handle(hass, "TreadReverseStatus")) == "No programme is running."
