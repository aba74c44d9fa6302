"""Config flow for treadreverse: the three treadmill kinds, options and reconfiguration."""

from __future__ import annotations

import math
from typing import Any, override

from homeassistant.components.bluetooth import (
    BluetoothServiceInfoBleak,
    async_discovered_service_info,
)
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_ADDRESS, CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    LanguageSelector,
    LanguageSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)
import probatio as vol

from .const import (
    CONF_CUE_LEAD_TIME,
    CONF_KEEP_CONNECTED,
    CONF_KIND,
    CONF_LANGUAGE,
    CONF_MAX_BACKWARD_SPEED,
    CONF_MAX_INCLINE,
    CONF_MAX_SPEED,
    CONF_MIN_SPEED,
    CONF_NOTIFY,
    CONF_REMOTE_CONTROL,
    CONF_SPEAKERS,
    CONF_START_COUNTDOWN,
    CONF_SUMMARY_INTERVAL,
    CONF_TTS_ENGINE,
    CONF_TURN_DURATION,
    CONF_TURN_MODE,
    CONF_TURN_SPEED,
    CONFIG_MINOR_VERSION,
    CONFIG_VERSION,
    DEFAULT_SIM_MAX_INCLINE,
    DEFAULT_SIM_MAX_SPEED,
    DEFAULT_SIM_MIN_SPEED,
    DOMAIN,
    FTMS_SERVICE_UUID,
    LANGUAGES,
    MAX_BACKWARD_SPEED_LIMIT,
    MIN_START_COUNTDOWN,
    TURN_MODES,
    Kind,
)
from .options import entry_options
from .treadmill.advertisement import may_be_treadmill
from .treadmill.base import TreadmillConnectionError


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    """Return a number box with a unit."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


NAME_SCHEMA = vol.Schema({vol.Required(CONF_NAME): TextSelector()})
SIMULATED_SCHEMA = NAME_SCHEMA.extend(
    {
        vol.Required(CONF_MIN_SPEED, default=DEFAULT_SIM_MIN_SPEED): _number(0.1, 5, 0.1, "km/h"),
        vol.Required(CONF_MAX_SPEED, default=DEFAULT_SIM_MAX_SPEED): _number(1, 25, 0.1, "km/h"),
        vol.Required(CONF_MAX_INCLINE, default=DEFAULT_SIM_MAX_INCLINE): _number(0, 40, 0.5, "%"),
    }
)
SPEAKER_SELECTOR = EntitySelector(
    EntitySelectorConfig(
        filter=[
            {
                "domain": "media_player",
                "supported_features": ["media_player.MediaPlayerEntityFeature.PLAY_MEDIA"],
            },
            {
                "domain": "assist_satellite",
                "supported_features": ["assist_satellite.AssistSatelliteEntityFeature.ANNOUNCE"],
            },
        ],
        multiple=True,
    )
)


def options_schema(kind: Kind) -> vol.Schema:
    """Return the options form; remote control and keep_connected mean nothing without a link."""
    schema: dict[Any, Any] = {
        vol.Optional(CONF_SPEAKERS): SPEAKER_SELECTOR,
        vol.Optional(CONF_NOTIFY): EntitySelector(
            EntitySelectorConfig(domain="notify", multiple=True)
        ),
        vol.Optional(CONF_TTS_ENGINE): EntitySelector(EntitySelectorConfig(domain="tts")),
        vol.Required(CONF_LANGUAGE): LanguageSelector(
            LanguageSelectorConfig(languages=list(LANGUAGES))
        ),
        vol.Required(CONF_CUE_LEAD_TIME): _number(2, 30, 1, "s"),
        vol.Required(CONF_TURN_MODE): SelectSelector(
            SelectSelectorConfig(options=list(TURN_MODES), translation_key=CONF_TURN_MODE)
        ),
        vol.Required(CONF_TURN_SPEED): _number(0.5, MAX_BACKWARD_SPEED_LIMIT, 0.1, "km/h"),
        vol.Required(CONF_TURN_DURATION): _number(2, 30, 1, "s"),
        vol.Required(CONF_MAX_BACKWARD_SPEED): _number(0.5, MAX_BACKWARD_SPEED_LIMIT, 0.1, "km/h"),
        vol.Required(CONF_START_COUNTDOWN): _number(MIN_START_COUNTDOWN, 60, 1, "s"),
        vol.Required(CONF_SUMMARY_INTERVAL): _number(0, 60, 1, "min"),
    }
    if kind is not Kind.MANUAL:
        schema[vol.Required(CONF_REMOTE_CONTROL)] = BooleanSelector()
    if kind is Kind.FTMS:
        schema[vol.Required(CONF_KEEP_CONNECTED)] = BooleanSelector()
    return vol.Schema(schema)


def _programme_running(entry: ConfigEntry) -> bool:
    """Return whether the entry runs a programme, which a reload would abort."""
    from .coordinator import ACTIVE_STATUSES

    runtime = getattr(entry, "runtime_data", None)
    return runtime is not None and runtime.coordinator.engine.status in ACTIVE_STATUSES


def _machine_min_speed(entry: ConfigEntry) -> float | None:
    """Return the lowest speed the treadmill accepts, when it is known."""
    runtime = getattr(entry, "runtime_data", None)
    if runtime is not None and (speed := runtime.coordinator.treadmill.capabilities.speed):
        return float(speed.minimum)
    if Kind(entry.data[CONF_KIND]) is Kind.SIMULATED:
        return float(entry.data[CONF_MIN_SPEED])
    return None


MAX_NAME = 100  # a treadmill's name becomes its title and its entities' names


def _input_errors(user_input: dict[str, Any]) -> dict[str, str]:
    """Return what no selector catches: a blank or overlong name, a number that is NaN.

    Home Assistant's number selector compares with its bounds, and NaN passes every
    comparison: it would reach the ranges and the engine's options.
    """
    errors: dict[str, str] = {}
    if CONF_NAME in user_input:
        name = user_input[CONF_NAME]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            errors[CONF_NAME] = "invalid_name"
    for key, value in user_input.items():
        if isinstance(value, float) and not math.isfinite(value):
            errors[key] = "not_a_number"
    return errors


def _ranges_errors(ranges: dict[str, Any], turn_speed: float) -> dict[str, str]:
    """Return the form errors of a simulated treadmill's new ranges."""
    if ranges[CONF_MIN_SPEED] >= ranges[CONF_MAX_SPEED]:
        return {CONF_MAX_SPEED: "max_below_min"}
    if ranges[CONF_MIN_SPEED] > turn_speed:
        # Every start would fail: the machine refuses to slow down to the turn speed.
        return {CONF_MIN_SPEED: "min_above_turn_speed"}
    return {}


def _options_errors(options: dict[str, Any], minimum: float | None) -> dict[str, str]:
    """Return the form errors of the options: turn speed between the machine's minimum and cap."""
    if options[CONF_TURN_SPEED] > options[CONF_MAX_BACKWARD_SPEED]:
        return {CONF_TURN_SPEED: "turn_speed_above_cap"}
    if minimum is not None and options[CONF_TURN_SPEED] < minimum:
        # Every start would fail: the machine refuses to slow down to this speed at a turn.
        return {CONF_TURN_SPEED: "turn_speed_below_minimum"}
    return {}


async def _async_test_connection(flow: ConfigFlow, address: str, name: str) -> str | None:
    """Connect once and let go; return an error key or None."""
    from .programme.interlock import close_unused_link
    from .treadmills import ftms_treadmill

    treadmill = ftms_treadmill(flow.hass, address, name, keep_connected=False)
    try:
        await treadmill.connect()
    except TreadmillConnectionError:
        return "cannot_connect"
    finally:
        await close_unused_link(treadmill)
    return None


class TreadReverseConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a treadmill."""

    VERSION = CONFIG_VERSION
    MINOR_VERSION = CONFIG_MINOR_VERSION

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._discovered: dict[str, str] = {}
        self._discovery: BluetoothServiceInfoBleak | None = None

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> TreadReverseOptionsFlow:
        """Return the options flow."""
        return TreadReverseOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the three treadmill kinds."""
        return self.async_show_menu(step_id="user", menu_options=[kind.value for kind in Kind])

    async def async_step_simulated(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name a simulated treadmill and choose its ranges."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _input_errors(user_input)
            if not errors and user_input[CONF_MIN_SPEED] >= user_input[CONF_MAX_SPEED]:
                errors[CONF_MAX_SPEED] = "max_below_min"
            if not errors:
                return self.async_create_entry(
                    title=user_input[CONF_NAME], data={CONF_KIND: Kind.SIMULATED, **user_input}
                )
        return self.async_show_form(
            step_id="simulated",
            data_schema=self.add_suggested_values_to_schema(
                SIMULATED_SCHEMA, user_input or {CONF_NAME: "Simulated treadmill"}
            ),
            errors=errors,
        )

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name a treadmill that has no connection."""
        errors: dict[str, str] = {}
        if user_input is not None and not (errors := _input_errors(user_input)):
            return self.async_create_entry(
                title=user_input[CONF_NAME], data={CONF_KIND: Kind.MANUAL, **user_input}
            )
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(
                NAME_SCHEMA, user_input or {CONF_NAME: "Treadmill"}
            ),
            errors=errors,
        )

    async def async_step_bluetooth(
        self, discovery_info: BluetoothServiceInfoBleak
    ) -> ConfigFlowResult:
        """Start from a treadmill Home Assistant's Bluetooth stack has seen."""
        await self.async_set_unique_id(discovery_info.address)
        self._abort_if_unique_id_configured()
        if not may_be_treadmill(discovery_info.service_data):
            # Bikes, rowers and cross trainers advertise the Fitness Machine Service too.
            return self.async_abort(reason="not_a_treadmill")
        self._discovery = discovery_info
        self.context["title_placeholders"] = {"name": discovery_info.name}
        return await self.async_step_bluetooth_confirm()

    async def async_step_bluetooth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm a discovered treadmill after testing the connection."""
        assert self._discovery is not None
        name, address = self._discovery.name, self._discovery.address
        errors: dict[str, str] = {}
        if user_input is not None:
            if (error := await _async_test_connection(self, address, name)) is None:
                return self._create_ftms(address, name)
            errors["base"] = error
        self._set_confirm_only()
        return self.async_show_form(
            step_id="bluetooth_confirm",
            description_placeholders={"name": name},
            errors=errors,
        )

    async def async_step_ftms(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a discovered FTMS treadmill and test the connection."""
        errors: dict[str, str] = {}
        if user_input is not None:
            address = user_input[CONF_ADDRESS]
            await self.async_set_unique_id(address, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            name = self._discovered[address]
            if (error := await _async_test_connection(self, address, name)) is None:
                return self._create_ftms(address, name)
            errors["base"] = error
        self._discovered = self._discover()
        if not self._discovered:
            return self.async_abort(reason="no_devices_found")
        options = [
            SelectOptionDict(value=address, label=f"{name} ({address})")
            for address, name in self._discovered.items()
        ]
        return self.async_show_form(
            step_id="ftms",
            data_schema=vol.Schema(
                {vol.Required(CONF_ADDRESS): SelectSelector(SelectSelectorConfig(options=options))}
            ),
            errors=errors,
        )

    def _discover(self) -> dict[str, str]:
        """Return FTMS treadmills in range that are not set up yet, by address."""
        configured = self._async_current_ids(include_ignore=False)
        return {
            info.address: info.name
            for info in async_discovered_service_info(self.hass, connectable=True)
            if FTMS_SERVICE_UUID in info.service_uuids
            and may_be_treadmill(info.service_data)
            and info.address not in configured
        }

    def _create_ftms(self, address: str, name: str) -> ConfigFlowResult:
        """Create the entry of a Bluetooth treadmill."""
        return self.async_create_entry(
            title=name, data={CONF_KIND: Kind.FTMS, CONF_ADDRESS: address, CONF_NAME: name}
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename a treadmill, or change a simulated treadmill's ranges."""
        entry = self._get_reconfigure_entry()
        if _programme_running(entry):
            # Applying the change reloads the entry, which would abort the programme.
            return self.async_abort(reason="programme_running")
        kind = Kind(entry.data[CONF_KIND])
        schema = SIMULATED_SCHEMA if kind is Kind.SIMULATED else NAME_SCHEMA
        turn_speed = float(entry_options(entry)[CONF_TURN_SPEED])
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _input_errors(user_input)
            if not errors and kind is Kind.SIMULATED:
                errors = _ranges_errors(user_input, turn_speed)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, title=user_input[CONF_NAME], data_updates=user_input
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or entry.data),
            errors=errors,
            description_placeholders={"turn_speed": _format_speed(turn_speed)},
        )


class TreadReverseOptionsFlow(OptionsFlowWithReload):
    """Coaching and safety options; refused while a programme runs."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show or save the options."""
        entry = self.config_entry
        if _programme_running(entry):
            return self.async_abort(reason="programme_running")
        errors: dict[str, str] = {}
        minimum = _machine_min_speed(entry)
        if user_input is not None and not (
            errors := _input_errors(user_input) or _options_errors(user_input, minimum)
        ):
            return self.async_create_entry(data=user_input)
        kind = Kind(entry.data[CONF_KIND])
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                options_schema(kind), user_input or entry_options(entry)
            ),
            errors=errors,
            description_placeholders={"minimum": _format_speed(minimum)},
        )


def _format_speed(speed: float | None) -> str:
    """Return a speed for a message, without a needless trailing zero; a dash when unknown."""
    return "-" if speed is None else f"{speed:g}"
