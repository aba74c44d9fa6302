"""Safety on Home Assistant's surfaces: Stop never waits, and who asked decides (rules 7, 9)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.tts.const import DATA_COMPONENT as TTS_COMPONENT
from homeassistant.const import EntityCategory
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.treadmill import ftms

from .conftest import SIMULATED_DATA, advance
from .speakers import RecordingPlayer, RecordingTTS

STATUS = "sensor.simulated_treadmill_programme_status"
START = "button.simulated_treadmill_start"
PAUSE = "button.simulated_treadmill_pause"
STOP = "button.simulated_treadmill_stop"
INTERVALS = "switch.simulated_treadmill_backward_intervals"
STOP_WRITE = bytes([ftms.ControlOpcode.STOP_OR_PAUSE, ftms.STOP])


class GatedTTS(RecordingTTS):
    """A TTS engine whose speech is ready only when the test opens the gate (a slow engine)."""

    def __init__(self) -> None:
        """Start with the gate closed."""
        super().__init__()
        self.gate = asyncio.Event()

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> tuple[str | None, bytes | None]:
        """Wait for the gate, then return silence."""
        await self.gate.wait()
        return "mp3", b"\xff\xfb\x90\x00" * 8


async def pass_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Move time on without waiting for the actions in progress (block_till_done would)."""
    for _ in range(seconds):
        freezer.tick(1)
        async_fire_time_changed(hass)
        await settle()


async def settle() -> None:
    """Let every task that can run without time passing run (no timers fire)."""
    for _ in range(50):
        await asyncio.sleep(0)


@pytest.fixture
def person(hass_admin_user: MockUser) -> Context:
    """Return the context of a person at the dashboard: a user and no parent (product.md)."""
    return Context(user_id=hass_admin_user.id)


def press(
    hass: HomeAssistant, context: Context, domain: str, service: str, entity_id: str
) -> asyncio.Task[Any]:
    """Call an entity action, in a task the test does not wait for."""
    return asyncio.get_running_loop().create_task(
        hass.services.async_call(
            domain, service, {"entity_id": entity_id}, blocking=True, context=context
        )
    )


def stop_by(
    hass: HomeAssistant, context: Context, surface: str, entry: MockConfigEntry
) -> asyncio.Task[Any]:
    """Stop from one surface: the button, the switch or the action."""
    if surface == "button":
        return press(hass, context, "button", "press", STOP)
    if surface == "switch":
        return press(hass, context, "switch", "turn_off", INTERVALS)
    action: Awaitable[Any] = hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry.entry_id}, blocking=True, context=context
    )
    return asyncio.get_running_loop().create_task(action)  # type: ignore[arg-type]


async def finish(*tasks: asyncio.Task[Any]) -> None:
    """Wait for tasks the test started, whatever they raise."""
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.parametrize("surface", ["button", "switch", "action"])
async def test_stop_reaches_the_belt_while_a_pause_waits_for_its_reply(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    person: Context,
    surface: str,
) -> None:
    """A Stop pressed while a Pause waits for its indication (up to 5 s) goes out at once."""
    coordinator = loaded_simulated.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {"config_entry_id": loaded_simulated.entry_id, "programme": "first_steps"},
        blocking=True,
        context=person,
    )
    await advance(hass, freezer, 15)
    assert simulator.belt_running
    # The machine carries the pause out but its indication never comes: the pause waits.
    simulator.lose_indication(ftms.ControlOpcode.STOP_OR_PAUSE)
    pausing = press(hass, person, "button", "press", PAUSE)
    await settle()
    assert not pausing.done(), pausing.result() if pausing.done() else None
    stops = coordinator.engine.interlock.stops
    stopping = stop_by(hass, person, surface, loaded_simulated)
    try:
        await settle()
        # No time has passed: the stop reached the engine and the machine all the same.
        assert coordinator.engine.interlock.stops == stops + 1
        assert STOP_WRITE in simulator.writes
        assert stopping.done()
        assert hass.states.get(STATUS).state == "idle"
    finally:
        await pass_time(hass, freezer, 6)  # the lost indication times out
        await finish(pausing, stopping)


@pytest.fixture
async def slow_speech(hass: HomeAssistant, tmp_path: Path) -> tuple[MockConfigEntry, GatedTTS]:
    """Set up a simulated treadmill whose TTS engine is slow to prepare speech."""
    # A cache of its own: speech another test generated would be ready at once.
    with patch("homeassistant.components.tts.DEFAULT_CACHE_DIR", str(tmp_path)):
        assert await async_setup_component(hass, "tts", {})
    assert await async_setup_component(hass, "media_player", {})
    engine = GatedTTS()
    await hass.data[TTS_COMPONENT]._platforms["tts"].async_add_entities([engine])
    player = RecordingPlayer("Living room")
    component = hass.data["media_player"]
    await component._platforms["media_player"].async_add_entities([player])
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Simulated treadmill",
        data=SIMULATED_DATA,
        options={"speakers": ["media_player.living_room"], "tts_engine": "tts.test_speech"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, engine


# How the start was asked, and the surface the stop comes from.
STARTS_AND_STOPS = {
    "button": (("button", "press", START), "button"),
    "switch": (("switch", "turn_on", INTERVALS), "switch"),
    "action": (("button", "press", START), "action"),
}


@pytest.mark.parametrize("case", STARTS_AND_STOPS)
async def test_stop_reaches_the_engine_while_a_start_prepares_speech(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    slow_speech: tuple[MockConfigEntry, GatedTTS],
    person: Context,
    case: str,
) -> None:
    """A Stop (or backward_intervals off) during a start's speech preparation wins at once."""
    entry, engine = slow_speech
    start, surface = STARTS_AND_STOPS[case]
    coordinator = entry.runtime_data.coordinator
    simulator = coordinator.treadmill.simulator
    starting = press(hass, person, *start)
    await settle()
    assert not starting.done()  # the first cues are being generated
    stops = coordinator.engine.interlock.stops
    stopping = stop_by(hass, person, surface, entry)
    try:
        await settle()
        assert coordinator.engine.interlock.stops == stops + 1
        assert stopping.done()
    finally:
        engine.gate.set()
        await settle()
        await finish(starting, stopping)
    await advance(hass, freezer, 15)
    # The start saw the stop: nothing was started.
    assert hass.states.get(STATUS).state == "idle"
    assert bytes([ftms.ControlOpcode.START_OR_RESUME]) not in simulator.writes


async def test_announcements_switch_is_a_setting(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, loaded_simulated: MockConfigEntry
) -> None:
    """The announcements switch mutes coaching: a setting, not a control of the belt."""
    entry = entity_registry.async_get("switch.simulated_treadmill_announcements")
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG
    intervals = entity_registry.async_get(INTERVALS)
    assert intervals is not None
    assert intervals.entity_category is None


# What automations and scripts do with the treadmill (the action of each).
AUTOMATION_ACTIONS = {
    "switch_on": {"action": "switch.turn_on", "target": {"entity_id": INTERVALS}},
    "press_start": {"action": "button.press", "target": {"entity_id": START}},
}


async def setup_automation(hass: HomeAssistant, action: dict[str, Any]) -> None:
    """Set up a real automation that runs `action` when the event `go_walk` fires."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "go_walk",
                "alias": "Go walk",
                "triggers": [{"trigger": "event", "event_type": "go_walk"}],
                "actions": [action],
            }
        },
    )
    await hass.async_block_till_done()


async def setup_script(hass: HomeAssistant, action: dict[str, Any]) -> None:
    """Set up a real script `script.go_walk` that runs `action`."""
    assert await async_setup_component(
        hass, "script", {"script": {"go_walk": {"sequence": [action]}}}
    )
    await hass.async_block_till_done()


@pytest.mark.parametrize("action", AUTOMATION_ACTIONS)
async def test_an_automation_start_waits_for_the_person(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, person: Context, action: str
) -> None:
    """An automation turning backward_intervals on or pressing start waits (rule 9)."""
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    await setup_automation(hass, AUTOMATION_ACTIONS[action])
    # Even when the person's own action (here: an event they fired) triggered it.
    hass.bus.async_fire("go_walk", context=person)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "waiting"
    assert not simulator.belt_running
    await hass.services.async_call("button", "press", {"entity_id": START}, context=person)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "countdown"  # the person confirmed
    await hass.services.async_call(
        "button", "press", {"entity_id": STOP}, blocking=True, context=person
    )


@pytest.mark.parametrize("action", AUTOMATION_ACTIONS)
async def test_a_script_start_waits_for_the_person(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, person: Context, action: str
) -> None:
    """A script turning backward_intervals on or pressing start waits, whoever ran it."""
    await setup_script(hass, AUTOMATION_ACTIONS[action])
    # Run from the dashboard by the person: the script may have waited for hours first.
    await hass.services.async_call("script", "go_walk", blocking=True, context=person)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "waiting"
    await hass.services.async_call(
        "button", "press", {"entity_id": STOP}, blocking=True, context=person
    )


async def test_an_automation_resume_waits_for_the_person(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_simulated: MockConfigEntry,
    person: Context,
) -> None:
    """The resume action from an automation waits for the person (rule 9)."""
    entry_id = {"config_entry_id": loaded_simulated.entry_id}
    simulator = loaded_simulated.runtime_data.coordinator.treadmill.simulator
    await hass.services.async_call(
        DOMAIN, "start_programme", {**entry_id, "programme": "first_steps"}, context=person
    )
    await advance(hass, freezer, 15)
    await hass.services.async_call(
        "button", "press", {"entity_id": PAUSE}, blocking=True, context=person
    )
    await advance(hass, freezer, 2)
    assert hass.states.get(STATUS).state == "paused"
    await setup_automation(hass, {"action": f"{DOMAIN}.resume", "data": entry_id})
    writes = len(simulator.writes)
    hass.bus.async_fire("go_walk", context=person)
    await advance(hass, freezer, 20)
    assert hass.states.get(STATUS).state == "waiting"
    assert len(simulator.writes) == writes  # nothing moved
    await hass.services.async_call(
        "button", "press", {"entity_id": STOP}, blocking=True, context=person
    )
