"""The LLM tools' annotations tell the truth about what each tool does to the belt."""

from __future__ import annotations

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.const import DOMAIN, MAX_STORED_SESSIONS

STATUS = "sensor.simulated_treadmill_programme_status"
START = f"{DOMAIN}__TreadReverseStart"
RESUME = f"{DOMAIN}__TreadReverseResume"
PAUSE = f"{DOMAIN}__TreadReversePause"
STOP = f"{DOMAIN}__TreadReverseStop"
STATUS_TOOL = f"{DOMAIN}__TreadReverseStatus"


@pytest.fixture
async def api(hass: HomeAssistant, loaded_simulated: MockConfigEntry) -> llm.APIInstance:
    """Return the Assist API as an LLM conversation agent sees it, with the treadmill loaded."""
    for domain in ("homeassistant", "intent", "llm"):
        assert await async_setup_component(hass, domain, {})
    await hass.async_block_till_done()
    context = llm.LLMContext(
        platform="test", context=Context(), language="en", assistant="conversation", device_id=None
    )
    return await llm.async_get_api(hass, llm.LLM_API_ASSIST, context)


def annotations(api: llm.APIInstance) -> dict[str, llm.ToolAnnotations]:
    """Return the annotations of treadreverse's tools by name."""
    return {tool.name: tool.annotations for tool in api.tools if tool.name.startswith(DOMAIN)}


async def test_tools_that_move_the_belt_are_destructive(api: llm.APIInstance) -> None:
    """Start and resume set a belt moving under a person: neither read-only nor harmless.

    MCP clients (through mcp_server) ask before a destructive tool; a belt that starts
    under someone is the least reversible thing this integration does.
    """
    tools = annotations(api)
    for name in (START, RESUME):
        assert not tools[name].read_only, name
        assert tools[name].destructive, name
        # A second start or resume is not a no-op: it may confirm a waiting start or
        # begin a new programme after a stop.
        assert not tools[name].idempotent, name


async def test_tools_that_bring_the_belt_to_rest_and_the_status_read(
    api: llm.APIInstance,
) -> None:
    """Pause and stop only bring the belt to rest; the status only reads."""
    tools = annotations(api)
    for name in (PAUSE, STOP):
        assert not tools[name].read_only, name
        assert not tools[name].destructive, name
        assert tools[name].idempotent, name
    assert tools[STATUS_TOOL] == llm.ToolAnnotations(
        read_only=True, destructive=False, idempotent=True, open_world=False
    )
    # Every tool acts on the home's own treadmill, never on an open world.
    assert not any(annotation.open_world for annotation in tools.values())
    # Every tool is annotated on purpose: no new tool falls back to the defaults unseen.
    assert set(tools) == {START, RESUME, PAUSE, STOP, STATUS_TOOL}


async def test_stop_and_pause_are_idempotent(
    hass: HomeAssistant, api: llm.APIInstance, loaded_simulated: MockConfigEntry
) -> None:
    """A second stop or pause changes nothing the first did not (what idempotent claims)."""
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    sessions = loaded_simulated.runtime_data.coordinator.store.sessions
    await api.async_call_tool(llm.ToolInput(START, {"programme": "first_steps"}))
    assert hass.states.get(STATUS).state == "countdown"
    for name, state in ((PAUSE, "paused"), (STOP, "idle")):
        first = await api.async_call_tool(llm.ToolInput(name, {}))
        assert first.data["response_type"] == "action_done"
        assert hass.states.get(STATUS).state == state
        before = (simulator.state, await sessions.async_newest(MAX_STORED_SESSIONS))
        await api.async_call_tool(llm.ToolInput(name, {}))
        assert hass.states.get(STATUS).state == state
        after = (simulator.state, await sessions.async_newest(MAX_STORED_SESSIONS))
        assert after == before
