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

# The belt moves a person: every command acts on the physical world; only status reads.
ANNOTATIONS = {
    INTENT_START: ToolAnnotations(destructive=False),
    INTENT_PAUSE: ToolAnnotations(destructive=False, idempotent=True),
    INTENT_RESUME: ToolAnnotations(destructive=False),
    INTENT_STOP: ToolAnnotations(destructive=False, idempotent=True),
    INTENT_STATUS: ToolAnnotations(read_only=True, destructive=False, open_world=False),
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
            annotations=ANNOTATIONS.get(handler.intent_type, ToolAnnotations()),
        )
        for handler in intent.async_get(hass)
        if isinstance(handler, TreadReverseIntentHandler)
    ]
    return LLMTools(tools=tools) if tools else None
