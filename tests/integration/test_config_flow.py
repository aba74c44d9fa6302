"""Config, Bluetooth discovery, reconfigure and options flows, through the real flow managers."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.components.bluetooth import BluetoothServiceInfoBleak
from homeassistant.config_entries import (
    SOURCE_BLUETOOTH,
    SOURCE_IGNORE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_ADDRESS, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.treadreverse.clock import HomeAssistantClock
from custom_components.treadreverse.const import (
    CONF_DEVICE_INFORMATION,
    CONF_KIND,
    CONF_MAX_INCLINE,
    CONF_MAX_SPEED,
    CONF_MIN_SPEED,
    DOMAIN,
    FTMS_SERVICE_UUID,
    Kind,
)
from custom_components.treadreverse.treadmill.simulator import SimulatedFtmsPeripheral

from .bluetooth import CONNECTOR, inject_advertisement, service_info, unreachable
from .conftest import SIMULATED_DATA

DISCOVERED = "custom_components.treadreverse.config_flow.async_discovered_service_info"
SETUP_ENTRY = "custom_components.treadreverse.async_setup_entry"
UNLOAD_ENTRY = "custom_components.treadreverse.async_unload_entry"
HEART_RATE_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"

TREADMILL = service_info("AA:BB:CC:DD:EE:01", "KS-R1")
SECOND = service_info("AA:BB:CC:DD:EE:02", "Horizon T101")
CHEST_STRAP = service_info("AA:BB:CC:DD:EE:03", "Chest strap", [HEART_RATE_SERVICE])
CONFIGURED = service_info("AA:BB:CC:DD:EE:04", "Old treadmill")
# FTMS service data (FTMS 1.0, section 4.1): a flags byte (bit 0: available), then the 16-bit
# Fitness Machine Type (bit 0: treadmill, 1: cross trainer, 4: rower, 5: indoor bike).
BIKE = service_info(
    "AA:BB:CC:DD:EE:05", "Wahoo KICKR", service_data={FTMS_SERVICE_UUID: b"\x01\x20\x00"}
)
ROWER = service_info(
    "AA:BB:CC:DD:EE:06", "Concept2 PM5", service_data={FTMS_SERVICE_UUID: b"\x01\x10\x00"}
)
TYPED_TREADMILL = service_info(
    "AA:BB:CC:DD:EE:07", "WalkingPad", service_data={FTMS_SERVICE_UUID: b"\x01\x01\x00"}
)
# A machine that is a treadmill and a cross trainer at once is a treadmill too.
COMBINED = service_info(
    "AA:BB:CC:DD:EE:08", "Combo", service_data={FTMS_SERVICE_UUID: b"\x01\x03\x00"}
)

DEFAULT_OPTIONS: dict[str, Any] = {
    "speakers": [],
    "notify": [],
    "tts_engine": None,
    "language": "en",
    "cue_lead_time": 5,
    "turn_mode": "slow",
    "turn_speed": 1.0,
    "turn_duration": 5,
    "max_backward_speed": 4.0,
    "start_countdown": 10,
    "summary_interval": 0,
}
NEW_OPTIONS: dict[str, Any] = {
    "speakers": ["media_player.living_room", "media_player.kitchen"],
    "tts_engine": "tts.test_speech",
    "language": "de",
    "cue_lead_time": 8,
    "turn_mode": "pause",
    "turn_speed": 3.0,
    "turn_duration": 6,
    "max_backward_speed": 3.0,  # equal to the turn speed: allowed
    "start_countdown": 15,
    "summary_interval": 5,
    "remote_control": False,
}
PROGRAMME_STATUS = "sensor.simulated_treadmill_programme_status"


def ftms_data(info: BluetoothServiceInfoBleak) -> dict[str, Any]:
    """Return the entry data the flow stores for a Bluetooth treadmill."""
    return {CONF_KIND: Kind.FTMS, CONF_ADDRESS: info.address, CONF_NAME: info.name}


def ftms_entry(info: BluetoothServiceInfoBleak, **kwargs: Any) -> MockConfigEntry:
    """Return a config entry of a Bluetooth treadmill, keyed by its address."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=info.name,
        unique_id=info.address,
        data=ftms_data(info),
        **kwargs,
    )


def machine_data(entry: MockConfigEntry) -> dict[str, Any]:
    """Return the entry's data without what the machine said about itself at its connection."""
    return {k: v for k, v in entry.data.items() if k != CONF_DEVICE_INFORMATION}


def suggested(result: ConfigFlowResult) -> dict[str, Any]:
    """Return the form's fields with the values it suggests."""
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


def address_options(result: ConfigFlowResult) -> list[dict[str, str]]:
    """Return the treadmills the ftms form offers."""
    (selector,) = result["data_schema"].schema.values()
    return selector.config["options"]


def our_flows(hass: HomeAssistant) -> list[Any]:
    """Return the config flows of our domain in progress."""
    return [f for f in hass.config_entries.flow.async_progress() if f["handler"] == DOMAIN]


async def choose(hass: HomeAssistant, kind: Kind) -> ConfigFlowResult:
    """Start a user flow and pick a treadmill kind from the menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind.value}
    )


@pytest.fixture
def peripheral(hass: HomeAssistant) -> Generator[SimulatedFtmsPeripheral]:
    """Return a simulated FTMS treadmill to connect to; it is powered off afterwards."""
    peripheral = SimulatedFtmsPeripheral(HomeAssistantClock(hass))
    yield peripheral
    peripheral.close()


@pytest.fixture
def connector() -> Generator[MagicMock]:
    """Replace the Bluetooth connector: the treadmill is unreachable until a test plugs one in."""
    with patch(CONNECTOR, return_value=unreachable) as mock:
        yield mock


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep created or reloaded entries from really connecting (nor unloading)."""
    with patch(SETUP_ENTRY, return_value=True) as mock, patch(UNLOAD_ENTRY, return_value=True):
        yield mock


@pytest.fixture
def configured(hass: HomeAssistant) -> MockConfigEntry:
    """Return a Bluetooth treadmill that is set up already."""
    entry = ftms_entry(CONFIGURED)
    entry.add_to_hass(hass)
    return entry


async def test_user_step_offers_three_kinds(hass: HomeAssistant) -> None:
    """The first step is a menu of the three kinds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["ftms", "simulated", "manual"]


@pytest.mark.parametrize(("bad_min", "bad_max"), [(5.0, 5.0), (5.0, 4.0)])
async def test_simulated_refuses_max_below_min_then_creates_entry(
    hass: HomeAssistant, bad_min: float, bad_max: float
) -> None:
    """A maximum speed not above the minimum is refused; valid ranges create a working entry."""
    result = await choose(hass, Kind.SIMULATED)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "simulated"
    assert suggested(result)[CONF_NAME] == "Simulated treadmill"

    typed = {CONF_NAME: "Garage", CONF_MIN_SPEED: bad_min, CONF_MAX_SPEED: bad_max}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**typed, CONF_MAX_INCLINE: 8.0}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MAX_SPEED: "max_below_min"}
    assert suggested(result) == {**typed, CONF_MAX_INCLINE: 8.0}  # what was typed stays
    assert hass.config_entries.async_entries(DOMAIN) == []

    ranges = {CONF_MIN_SPEED: 0.8, CONF_MAX_SPEED: 10.0, CONF_MAX_INCLINE: 8.0}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Garage", **ranges}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["data"] == {CONF_KIND: Kind.SIMULATED, CONF_NAME: "Garage", **ranges}
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    speed = entry.runtime_data.coordinator.treadmill.capabilities.speed
    assert (speed.minimum, speed.maximum) == pytest.approx((0.8, 10.0))


async def test_manual_creates_entry_with_only_a_name(hass: HomeAssistant) -> None:
    """A treadmill without connection asks for a name and nothing else."""
    result = await choose(hass, Kind.MANUAL)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert suggested(result) == {CONF_NAME: "Treadmill"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Basement"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Basement"
    assert result["data"] == {CONF_KIND: Kind.MANUAL, CONF_NAME: "Basement"}
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    "seen", [[], [CHEST_STRAP, CONFIGURED]], ids=["nothing", "no_new_treadmill"]
)
async def test_ftms_without_new_treadmills_aborts(
    hass: HomeAssistant, configured: MockConfigEntry, seen: list[BluetoothServiceInfoBleak]
) -> None:
    """Nothing to offer when no unconfigured FTMS treadmill is in range."""
    with patch(DISCOVERED, return_value=seen) as discovered:
        result = await choose(hass, Kind.FTMS)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"
    discovered.assert_called_once_with(hass, connectable=True)


async def test_ftms_lists_new_treadmills_and_tests_the_connection(
    hass: HomeAssistant,
    configured: MockConfigEntry,
    connector: MagicMock,
    peripheral: SimulatedFtmsPeripheral,
    mock_setup_entry: AsyncMock,
) -> None:
    """Only new FTMS treadmills are listed; the entry is created once a connection worked."""
    with patch(DISCOVERED, return_value=[TREADMILL, CHEST_STRAP, CONFIGURED, SECOND]):
        result = await choose(hass, Kind.FTMS)
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "ftms"
        assert result["errors"] == {}
        assert address_options(result) == [
            {"value": TREADMILL.address, "label": f"KS-R1 ({TREADMILL.address})"},
            {"value": SECOND.address, "label": f"Horizon T101 ({SECOND.address})"},
        ]

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ADDRESS: TREADMILL.address}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "ftms"
        assert result["errors"] == {"base": "cannot_connect"}
        assert len(address_options(result)) == 2  # the list is offered again
        assert connector.call_args.args[1] == "KS-R1"
        assert hass.config_entries.async_entries(DOMAIN) == [configured]

        connector.return_value = peripheral.connect
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ADDRESS: TREADMILL.address}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "KS-R1"
    assert result["data"] == ftms_data(TREADMILL)
    assert result["result"].unique_id == TREADMILL.address
    assert peripheral.connect_attempts == 1
    assert not peripheral.connected  # the test connection is released
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_ftms_offers_an_ignored_treadmill_and_replaces_the_ignore(
    hass: HomeAssistant,
    connector: MagicMock,
    peripheral: SimulatedFtmsPeripheral,
    mock_setup_entry: AsyncMock,
) -> None:
    """A treadmill the user once ignored can still be picked by hand."""
    ftms_entry(TREADMILL, source=SOURCE_IGNORE).add_to_hass(hass)
    connector.return_value = peripheral.connect
    with patch(DISCOVERED, return_value=[TREADMILL]):
        result = await choose(hass, Kind.FTMS)
        assert [option["value"] for option in address_options(result)] == [TREADMILL.address]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ADDRESS: TREADMILL.address}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (entry,) = hass.config_entries.async_entries(DOMAIN, include_ignore=True)
    assert entry.source == SOURCE_USER
    assert entry.unique_id == TREADMILL.address


async def test_ftms_aborts_when_the_treadmill_got_configured_meanwhile(
    hass: HomeAssistant, connector: MagicMock
) -> None:
    """A treadmill set up while the list was open is not set up twice, nor connected to."""
    with patch(DISCOVERED, return_value=[TREADMILL]):
        result = await choose(hass, Kind.FTMS)
        ftms_entry(TREADMILL).add_to_hass(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ADDRESS: TREADMILL.address}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    connector.assert_not_called()


async def test_bluetooth_discovery_confirms_after_a_connection_test(
    hass: HomeAssistant,
    connector: MagicMock,
    peripheral: SimulatedFtmsPeripheral,
    mock_setup_entry: AsyncMock,
) -> None:
    """A discovered treadmill is confirmed, tested, set up once, and not discovered again."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=TREADMILL
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    assert result["description_placeholders"] == {"name": "KS-R1"}
    flow = hass.config_entries.flow.async_get(result["flow_id"])
    assert flow["context"]["title_placeholders"] == {"name": "KS-R1"}
    assert flow["context"]["unique_id"] == TREADMILL.address

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    assert result["errors"] == {"base": "cannot_connect"}
    assert connector.call_args.args[1] == "KS-R1"
    assert hass.config_entries.async_entries(DOMAIN) == []

    connector.return_value = peripheral.connect
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "KS-R1"
    assert result["data"] == ftms_data(TREADMILL)
    assert result["result"].unique_id == TREADMILL.address
    assert not peripheral.connected
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=TREADMILL
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_manifest_matcher_starts_discovery_from_an_advertisement(
    hass: HomeAssistant, enable_bluetooth: None
) -> None:
    """An advertisement of the Fitness Machine Service starts our flow; others do not."""
    assert await async_setup_component(hass, "bluetooth_adapters", {})
    assert await async_setup_component(hass, "bluetooth", {})

    inject_advertisement(hass, CHEST_STRAP)
    await hass.async_block_till_done()
    assert our_flows(hass) == []

    inject_advertisement(hass, TREADMILL)
    await hass.async_block_till_done()
    (flow,) = our_flows(hass)
    assert flow["context"]["source"] == SOURCE_BLUETOOTH
    assert flow["context"]["unique_id"] == TREADMILL.address
    assert flow["step_id"] == "bluetooth_confirm"
    hass.config_entries.flow.async_abort(flow["flow_id"])


async def test_reconfigure_simulated_renames_and_changes_ranges(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """New ranges are checked, saved, and the reloaded treadmill uses them."""
    before = loaded_simulated.runtime_data
    result = await loaded_simulated.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert suggested(result) == {k: v for k, v in SIMULATED_DATA.items() if k != CONF_KIND}

    ranges = {CONF_MIN_SPEED: 1.0, CONF_MAX_SPEED: 9.0, CONF_MAX_INCLINE: 6.0}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**ranges, CONF_NAME: "Garage", CONF_MAX_SPEED: 1.0}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MAX_SPEED: "max_below_min"}
    assert machine_data(loaded_simulated) == SIMULATED_DATA

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Garage", **ranges}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert loaded_simulated.title == "Garage"
    assert machine_data(loaded_simulated) == {**SIMULATED_DATA, CONF_NAME: "Garage", **ranges}
    assert loaded_simulated.state is ConfigEntryState.LOADED
    assert loaded_simulated.runtime_data is not before  # reloaded
    speed = loaded_simulated.runtime_data.coordinator.treadmill.capabilities.speed
    assert (speed.minimum, speed.maximum) == pytest.approx((1.0, 9.0))


@pytest.mark.parametrize(
    "data",
    [{CONF_KIND: Kind.MANUAL, CONF_NAME: "Treadmill"}, ftms_data(TREADMILL)],
    ids=["manual", "ftms"],
)
async def test_reconfigure_renames_only(
    hass: HomeAssistant, data: dict[str, Any], mock_setup_entry: AsyncMock
) -> None:
    """Treadmills without simulated ranges can only be renamed; the rest of the data stays."""
    entry = MockConfigEntry(domain=DOMAIN, title=data[CONF_NAME], data=data)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert suggested(result) == {CONF_NAME: entry.title}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Basement"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.title == "Basement"
    assert entry.data == {**data, CONF_NAME: "Basement"}
    mock_setup_entry.assert_awaited_once()  # reloaded


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        (Kind.SIMULATED, {"remote_control": True}),
        (Kind.FTMS, {"remote_control": False, "keep_connected": True}),
        (Kind.MANUAL, {}),
    ],
)
async def test_options_form_fits_the_kind(
    hass: HomeAssistant, kind: Kind, extra: dict[str, Any]
) -> None:
    """Remote control needs a link, keep_connected a Bluetooth one; defaults are suggested."""
    entry = MockConfigEntry(domain=DOMAIN, title="Treadmill", data={**SIMULATED_DATA, "kind": kind})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert suggested(result) == DEFAULT_OPTIONS | extra


async def test_options_checked_saved_and_entry_reloaded(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A turn speed above the backward cap is refused; valid options are saved and applied."""
    before = loaded_simulated.runtime_data
    result = await hass.config_entries.options.async_init(loaded_simulated.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert suggested(result) == DEFAULT_OPTIONS | {
        "speakers": ["media_player.living_room"],
        "tts_engine": "tts.test_speech",
        "remote_control": True,
    }

    too_fast = {**NEW_OPTIONS, "turn_speed": 3.5}
    result = await hass.config_entries.options.async_configure(result["flow_id"], too_fast)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"turn_speed": "turn_speed_above_cap"}
    assert suggested(result)["turn_speed"] == 3.5
    assert loaded_simulated.runtime_data is before

    result = await hass.config_entries.options.async_configure(result["flow_id"], NEW_OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_simulated.options == NEW_OPTIONS
    await hass.async_block_till_done()
    assert loaded_simulated.state is ConfigEntryState.LOADED
    assert loaded_simulated.runtime_data is not before  # reloaded
    options = loaded_simulated.runtime_data.coordinator.options
    assert (options["turn_mode"], options["remote_control"]) == ("pause", False)


async def test_options_refused_while_a_programme_runs(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """Options wait until the programme is stopped."""
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "programme": "first_steps",
            "wait_for_person": False,
        },
        blocking=True,
    )
    assert hass.states.get(PROGRAMME_STATUS).state == "countdown"
    result = await hass.config_entries.options.async_init(loaded_simulated.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "programme_running"

    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": loaded_simulated.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(PROGRAMME_STATUS).state != "countdown"
    result = await hass.config_entries.options.async_init(loaded_simulated.entry_id)
    assert result["type"] is FlowResultType.FORM
    hass.config_entries.options.async_abort(result["flow_id"])


async def test_reconfigure_refused_while_a_programme_runs(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """Reconfiguring reloads the entry: it waits, like the options, until the programme stopped."""
    await hass.services.async_call(
        DOMAIN,
        "start_programme",
        {
            "config_entry_id": loaded_simulated.entry_id,
            "programme": "first_steps",
            "wait_for_person": False,
        },
        blocking=True,
    )
    before = loaded_simulated.runtime_data
    result = await loaded_simulated.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "programme_running"
    assert loaded_simulated.runtime_data is before  # not reloaded
    assert hass.states.get(PROGRAMME_STATUS).state == "countdown"

    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": loaded_simulated.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    result = await loaded_simulated.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_options_refuse_a_turn_speed_below_the_machine_minimum(
    hass: HomeAssistant, speakers: Any
) -> None:
    """A turn speed the machine cannot run would make every start fail: it is refused."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Garage", data={**SIMULATED_DATA, CONF_MIN_SPEED: 1.5}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    before = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    too_slow = {**NEW_OPTIONS, "turn_speed": 1.0}
    result = await hass.config_entries.options.async_configure(result["flow_id"], too_slow)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"turn_speed": "turn_speed_below_minimum"}
    assert result["description_placeholders"] == {"minimum": "1.5"}
    assert entry.runtime_data is before
    assert entry.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**NEW_OPTIONS, "turn_speed": 1.5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["turn_speed"] == 1.5
    await hass.async_block_till_done()


async def test_reconfigure_refuses_a_minimum_above_the_turn_speed(
    hass: HomeAssistant, loaded_simulated: MockConfigEntry
) -> None:
    """A simulated minimum speed above the turn speed would make every start fail."""
    result = await loaded_simulated.start_reconfigure_flow(hass)
    ranges = {CONF_MIN_SPEED: 1.2, CONF_MAX_SPEED: 9.0, CONF_MAX_INCLINE: 6.0}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Garage", **ranges}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MIN_SPEED: "min_above_turn_speed"}
    assert result["description_placeholders"] == {"turn_speed": "1"}
    assert machine_data(loaded_simulated) == SIMULATED_DATA

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Garage", **ranges, CONF_MIN_SPEED: 1.0}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


@pytest.mark.parametrize("machine", [BIKE, ROWER], ids=["bike", "rower"])
async def test_bluetooth_discovery_of_another_fitness_machine_aborts(
    hass: HomeAssistant, connector: MagicMock, machine: BluetoothServiceInfoBleak
) -> None:
    """Bikes and rowers advertise the Fitness Machine Service too: they are not offered."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=machine
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_a_treadmill"
    connector.assert_not_called()


@pytest.mark.parametrize("machine", [TYPED_TREADMILL, COMBINED], ids=["treadmill", "combined"])
async def test_bluetooth_discovery_of_a_typed_treadmill_is_offered(
    hass: HomeAssistant, machine: BluetoothServiceInfoBleak
) -> None:
    """An advertisement that says it is a treadmill (among other things) is offered."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=machine
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_ftms_list_leaves_out_other_fitness_machines(hass: HomeAssistant) -> None:
    """The pick list offers treadmills and machines that do not say what they are."""
    with patch(DISCOVERED, return_value=[BIKE, TREADMILL, ROWER, TYPED_TREADMILL]):
        result = await choose(hass, Kind.FTMS)
    assert [option["value"] for option in address_options(result)] == [
        TREADMILL.address,
        TYPED_TREADMILL.address,
    ]
    hass.config_entries.flow.async_abort(result["flow_id"])

    with patch(DISCOVERED, return_value=[BIKE, ROWER]):
        result = await choose(hass, Kind.FTMS)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"


async def test_an_advertised_bike_leaves_no_discovery(
    hass: HomeAssistant, enable_bluetooth: None
) -> None:
    """A bike's advertisement matches the manifest, but no flow waits for the user."""
    assert await async_setup_component(hass, "bluetooth_adapters", {})
    assert await async_setup_component(hass, "bluetooth", {})

    inject_advertisement(hass, BIKE)
    await hass.async_block_till_done()
    assert our_flows(hass) == []

    inject_advertisement(hass, TYPED_TREADMILL)
    await hass.async_block_till_done()
    (flow,) = our_flows(hass)
    assert flow["context"]["unique_id"] == TYPED_TREADMILL.address
    hass.config_entries.flow.async_abort(flow["flow_id"])
