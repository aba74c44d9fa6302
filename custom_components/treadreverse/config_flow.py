"""Config flow for treadreverse: pick a treadmill kind, name it, done."""

from __future__ import annotations

from typing import Any, override

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .const import (
    CONF_KIND,
    CONF_MAX_INCLINE,
    CONF_MAX_SPEED,
    CONF_MIN_SPEED,
    CONFIG_MINOR_VERSION,
    CONFIG_VERSION,
    DEFAULT_SIM_MAX_INCLINE,
    DEFAULT_SIM_MAX_SPEED,
    DEFAULT_SIM_MIN_SPEED,
    DOMAIN,
    Kind,
)


def _speed_selector(maximum: float) -> NumberSelector:
    """Return a km/h number box."""
    return NumberSelector(
        NumberSelectorConfig(
            min=0.1, max=maximum, step=0.1, unit_of_measurement="km/h", mode=NumberSelectorMode.BOX
        )
    )


SIMULATED_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME, default="Simulated treadmill"): TextSelector(),
        vol.Required(CONF_MIN_SPEED, default=DEFAULT_SIM_MIN_SPEED): _speed_selector(5),
        vol.Required(CONF_MAX_SPEED, default=DEFAULT_SIM_MAX_SPEED): _speed_selector(25),
        vol.Required(CONF_MAX_INCLINE, default=DEFAULT_SIM_MAX_INCLINE): NumberSelector(
            NumberSelectorConfig(
                min=0, max=40, step=0.5, unit_of_measurement="%", mode=NumberSelectorMode.BOX
            )
        ),
    }
)
MANUAL_SCHEMA = vol.Schema({vol.Required(CONF_NAME, default="Treadmill"): TextSelector()})


class TreadReverseConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a treadmill."""

    VERSION = CONFIG_VERSION
    MINOR_VERSION = CONFIG_MINOR_VERSION

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
            if user_input[CONF_MIN_SPEED] >= user_input[CONF_MAX_SPEED]:
                errors[CONF_MAX_SPEED] = "max_below_min"
            else:
                return self.async_create_entry(
                    title=user_input[CONF_NAME], data={CONF_KIND: Kind.SIMULATED, **user_input}
                )
        return self.async_show_form(
            step_id="simulated",
            data_schema=self.add_suggested_values_to_schema(SIMULATED_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name a treadmill that has no connection."""
        if user_input is not None:
            return self.async_create_entry(
                title=user_input[CONF_NAME], data={CONF_KIND: Kind.MANUAL, **user_input}
            )
        return self.async_show_form(step_id="manual", data_schema=MANUAL_SCHEMA)

    async def async_step_ftms(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a discovered FTMS treadmill."""
        return self.async_abort(reason="no_devices_found")
