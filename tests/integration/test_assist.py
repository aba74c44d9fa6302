"""What the README promises of Assist, through Home Assistant's default conversation agent."""

from __future__ import annotations

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    intent,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.treadreverse.const import DOMAIN

from .conftest import SIMULATED_DATA

SWITCH = "switch.simulated_treadmill_backward_intervals"
STATUS = "sensor.simulated_treadmill_programme_status"


@pytest.fixture
async def assist(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, hass_admin_user: MockUser
) -> MockConfigEntry:
    """Set up Assist (the default agent and the built-in intents) around a loaded treadmill."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()
    return loaded_simulated


async def say(
    hass: HomeAssistant, text: str, device_id: str | None = None, language: str = "en"
) -> conversation.ConversationResult:
    """Say a sentence to the default agent, as the administrator in the Assist dialog would."""
    (user,) = [user for user in await hass.auth.async_get_users() if user.is_admin]
    result = await conversation.async_converse(
        hass, text, None, Context(user_id=user.id), language=language, device_id=device_id
    )
    await hass.async_block_till_done()
    return result


@pytest.mark.usefixtures("assist")
async def test_turn_on_backward_intervals_as_the_readme_says(hass: HomeAssistant) -> None:
    """Saying "turn on backward intervals" starts the selected programme; "turn off" stops it."""
    result = await say(hass, "turn on backward intervals")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, (
        result.response.speech
    )
    assert hass.states.get(SWITCH).state == "on"
    assert hass.states.get(STATUS).state in ("waiting", "countdown")

    result = await say(hass, "turn off backward intervals")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get(SWITCH).state == "off"
    assert hass.states.get(STATUS).state not in ("waiting", "countdown")


@pytest.mark.usefixtures("assist")
async def test_the_full_name_still_works(hass: HomeAssistant) -> None:
    """The name with the treadmill's in front keeps working."""
    result = await say(hass, "turn on simulated treadmill backward intervals")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get(SWITCH).state == "on"
    await say(hass, "turn off simulated treadmill backward intervals")
    assert hass.states.get(SWITCH).state == "off"


async def test_the_alias_is_set_once_and_the_user_may_remove_it(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The switch is created with its own name as an alias; a removed alias stays removed."""
    entry = entity_registry.async_get(SWITCH)
    assert entry is not None
    assert entry.aliases == [er.COMPUTED_NAME, "Backward intervals"]
    assert er.async_get_entity_aliases(hass, entry) == [
        "Simulated treadmill Backward intervals",
        "Backward intervals",
    ]
    # Only the switch: "turn on stop" and the like would clash with other integrations.
    others = er.async_entries_for_config_entry(entity_registry, loaded_simulated.entry_id)
    assert [e.entity_id for e in others if len(e.aliases) > 1] == [SWITCH]

    entity_registry.async_update_entity(SWITCH, aliases=[er.COMPUTED_NAME])
    assert await hass.config_entries.async_reload(loaded_simulated.entry_id)
    await hass.async_block_till_done()
    entry = entity_registry.async_get(SWITCH)
    assert entry is not None
    assert entry.aliases == [er.COMPUTED_NAME]


async def test_with_two_treadmills_the_sentence_names_one(
    hass: HomeAssistant, assist: MockConfigEntry
) -> None:
    """Two switches answer to the name: Assist starts neither; naming the treadmill works."""
    garage = MockConfigEntry(
        domain=DOMAIN,
        title="Garage treadmill",
        data={**SIMULATED_DATA, "name": "Garage treadmill"},
        options=dict(assist.options),
    )
    garage.add_to_hass(hass)
    assert await hass.config_entries.async_setup(garage.entry_id)
    await hass.async_block_till_done()

    result = await say(hass, "turn on backward intervals")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert result.response.speech["plain"]["speech"] == (
        "Sorry, there are multiple devices called Backward intervals"
    )
    assert hass.states.get(SWITCH).state == "off"
    assert hass.states.get("switch.garage_treadmill_backward_intervals").state == "off"

    result = await say(hass, "turn on garage treadmill backward intervals")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get("switch.garage_treadmill_backward_intervals").state == "on"
    assert hass.states.get(SWITCH).state == "off"
    await say(hass, "turn off garage treadmill backward intervals")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ([er.COMPUTED_NAME], [er.COMPUTED_NAME, "Backward intervals"]),
        ([er.COMPUTED_NAME, "Reverse walk"], [er.COMPUTED_NAME, "Reverse walk"]),
        ([], []),  # the user removed every name: Assist is not to find it
    ],
    ids=["untouched", "user_aliases", "no_aliases"],
)
async def test_an_existing_switch_gets_the_alias_once_on_upgrade(
    hass: HomeAssistant,
    simulated_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    before: list[er.AliasEntry],
    after: list[er.AliasEntry],
) -> None:
    """A switch registered by release 1.1 gets the alias unless the user changed its aliases."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=simulated_entry.entry_id,
        title=simulated_entry.title,
        data=simulated_entry.data,
        options=simulated_entry.options,
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    old = entity_registry.async_get_or_create(  # as release 1.1 registered it
        "switch",
        DOMAIN,
        f"{entry.entry_id}_backward_intervals",
        config_entry=entry,
        has_entity_name=True,
        original_name="Backward intervals",
        translation_key="backward_intervals",
        suggested_object_id="simulated_treadmill_backward_intervals",
    )
    entity_registry.async_update_entity(old.entity_id, aliases=before)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.minor_version == 2
    switch = entity_registry.async_get(old.entity_id)
    assert switch is not None
    assert switch.aliases == after


async def test_with_two_treadmills_the_satellite_area_picks_one(
    hass: HomeAssistant,
    assist: MockConfigEntry,
    area_registry: ar.AreaRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Said to a satellite in the garage, "backward intervals" means the garage treadmill."""
    garage = MockConfigEntry(
        domain=DOMAIN,
        title="Garage treadmill",
        data={**SIMULATED_DATA, "name": "Garage treadmill"},
        options=dict(assist.options),
    )
    garage.add_to_hass(hass)
    assert await hass.config_entries.async_setup(garage.entry_id)
    await hass.async_block_till_done()
    area = area_registry.async_create("Garage")
    (treadmill,) = dr.async_entries_for_config_entry(device_registry, garage.entry_id)
    device_registry.async_update_device(treadmill.id, area_id=area.id)
    satellite_entry = MockConfigEntry(domain="test")
    satellite_entry.add_to_hass(hass)
    satellite = device_registry.async_get_or_create(
        config_entry_id=satellite_entry.entry_id, identifiers={("test", "satellite")}
    )
    device_registry.async_update_device(satellite.id, area_id=area.id)

    result = await say(hass, "turn on backward intervals", device_id=satellite.id)
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get("switch.garage_treadmill_backward_intervals").state == "on"
    assert hass.states.get(SWITCH).state == "off"
    await say(hass, "turn off backward intervals", device_id=satellite.id)
    assert hass.states.get("switch.garage_treadmill_backward_intervals").state == "off"


@pytest.mark.parametrize(
    ("language", "sentences"),
    [
        ("de", ("schalte Rückwärtsintervalle ein", "schalte Rückwärtsintervalle aus")),
        ("fr", ("allume intervalles à reculons", "éteins intervalles à reculons")),
        ("es", ("enciende intervalos hacia atrás", "apaga intervalos hacia atrás")),
        ("nl", ("zet achteruit-intervallen aan", "zet achteruit-intervallen uit")),
    ],
)
@pytest.mark.usefixtures("hass_admin_user")
async def test_the_alias_speaks_home_assistants_language(
    hass: HomeAssistant,
    simulated_entry: MockConfigEntry,
    language: str,
    sentences: tuple[str, str],
) -> None:
    """The alias is the switch's name in Home Assistant's language when it is created."""
    turn_on, turn_off = sentences
    hass.config.language = language
    simulated_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulated_entry.entry_id)
    for component in ("homeassistant", "conversation", "intent"):
        assert await async_setup_component(hass, component, {})
    await hass.async_block_till_done()

    switch = er.async_get(hass).async_get_entity_id(
        "switch", DOMAIN, f"{simulated_entry.entry_id}_backward_intervals"
    )
    assert switch is not None
    result = await say(hass, turn_on, language=language)
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, (
        result.response.speech
    )
    assert hass.states.get(switch).state == "on"
    result = await say(hass, turn_off, language=language)
    assert hass.states.get(switch).state == "off"
