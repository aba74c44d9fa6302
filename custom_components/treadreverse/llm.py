"""LLM tools of treadreverse: its Assist intents, offered to LLM conversation agents."""

from __future__ import annotations

from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import LLM_API_ASSIST, IntentTool, LLMContext, Tool, ToolAnnotations

from .const import DOMAIN
from .intent import (
    INTENT_PAUSE,
    INTENT_RESUME,
    INTENT_START,
    INTENT_STATUS,
    INTENT_STOP,
    TreadReverseIntentHandler,
    entries_for,
)

# What each tool does to the belt, stated for MCP clients (mcp_server forwards these as its
# hints, and a client may ask before a destructive tool). Every tool acts on the home's own
# treadmill, never on an open world.
# Start and resume set a belt moving under a person: the least reversible thing here, so
# destructive; a second call is not a no-op (it confirms a waiting start, or starts anew after
# a stop). Pause and stop only bring the belt to rest and take nothing away (the session is
# recorded, a programme can be started again): additive and idempotent, so no client is
# prompted to hold a stop back. The status only reads.
_MOVES = ToolAnnotations(open_world=False)
_RESTS = ToolAnnotations(destructive=False, idempotent=True, open_world=False)
ANNOTATIONS = {
    INTENT_START: _MOVES,
    INTENT_RESUME: _MOVES,
    INTENT_PAUSE: _RESTS,
    INTENT_STOP: _RESTS,
    INTENT_STATUS: ToolAnnotations(
        read_only=True, destructive=False, idempotent=True, open_world=False
    ),
}


@callback
def async_get_tools(hass: HomeAssistant, llm_context: LLMContext, api_id: str) -> LLMTools | None:
    """Return a tool per intent while a treadmill the assistant may see is loaded."""
    if api_id != LLM_API_ASSIST or not entries_for(hass, llm_context.assistant):
        return None
    tools: list[Tool] = [
        IntentTool(
            f"{DOMAIN}__{handler.intent_type}",
            handler,
            integration=DOMAIN,
            # An intent added without annotations is taken to be the least safe kind.
            annotations=ANNOTATIONS.get(handler.intent_type, ToolAnnotations()),
        )
        for handler in intent.async_get(hass)
        if isinstance(handler, TreadReverseIntentHandler)
    ]
    return LLMTools(tools=tools) if tools else None
