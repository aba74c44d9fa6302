"""Every icon of icons.json exists, and none hides the icon of a good device class."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import homeassistant.components
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

ICONS_JSON = Path(__file__).parents[2] / "custom_components" / "treadreverse" / "icons.json"
COMPONENTS = Path(homeassistant.components.__file__).parent

# Checked against the icon list of Material Design Icons 7.4.47 (package/meta.json of the
# npm package @mdi/svg 7.4.47, the release Home Assistant's frontend ships through @mdi/js):
# each name is there and not deprecated. A name missing there shows a blank icon (as
# mdi:treadmill did). Add a name here only after checking it the same way.
CHECKED_MDI_NAMES = frozenset(
    {
        "account-clock",
        "account-voice",
        "alert-circle",
        "arrow-left-bold",
        "arrow-right-bold",
        "arrow-u-left-bottom",
        "bell-ring",
        "bluetooth-connect",
        "bluetooth-off",
        "bullhorn",
        "bullhorn-outline",
        "bullhorn-variant",
        "check-circle",
        "clipboard-list",
        "clipboard-list-outline",
        "clock-outline",
        "content-save",
        "counter",
        "delete",
        "fire",
        "flag-checkered",
        "format-list-numbered",
        "heart-pulse",
        "history",
        "map-marker-distance",
        "pause",
        "pause-circle",
        "play",
        "play-pause",
        "progress-clock",
        "rotate-3d-variant",
        "run",
        "skip-next",
        "sleep",
        "slope-uphill",
        "speedometer",
        "stop",
        "swap-horizontal",
        "swap-horizontal-bold",
        "timer-outline",
        "timer-sand",
        "trophy",
        "walk",
    }
)

# Device classes whose icon is wrong for what the entity shows, with the reason.
DEVICE_CLASS_ICON_WRONG = {
    # The energy class shows a lightning bolt (electricity); ours is the energy a person burned.
    ("sensor", "energy"),
    # The enum class shows a generic eye; ours tell the direction and status apart.
    ("sensor", "enum"),
}


def _our_icons() -> dict[str, Any]:
    """Return icons.json."""
    return json.loads(ICONS_JSON.read_text(encoding="utf-8"))


def _device_class_icons(domain: str) -> dict[str, Any]:
    """Return Home Assistant's own icons of a platform's device classes."""
    path = COMPONENTS / domain / "icons.json"
    return json.loads(path.read_text(encoding="utf-8")).get("entity_component", {})


OUR_ICONS = _our_icons()
DEVICE_CLASS_ICONS = {
    domain: _device_class_icons(domain)
    for domain in ("binary_sensor", "button", "event", "number", "select", "sensor", "switch")
}


def test_every_icon_is_a_checked_mdi_name() -> None:
    """A misspelt or missing icon name leaves a blank space in the frontend."""
    names = set(re.findall(r'"mdi:([^"]+)"', ICONS_JSON.read_text(encoding="utf-8")))
    assert names, "icons.json has no icons"
    assert names - CHECKED_MDI_NAMES == set()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_no_icon_overrides_a_good_device_class_icon(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, loaded_simulated: MockConfigEntry
) -> None:
    """An entity whose device class has the right icon gets no icon of ours."""
    entries = er.async_entries_for_config_entry(entity_registry, loaded_simulated.entry_id)
    assert len(entries) > 20
    overrides = []
    for entry in entries:
        device_class = entry.original_device_class
        if device_class is None or (entry.domain, device_class) in DEVICE_CLASS_ICON_WRONG:
            continue
        if device_class not in DEVICE_CLASS_ICONS[entry.domain]:
            continue  # the class has no icon of its own
        if entry.translation_key in OUR_ICONS["entity"].get(entry.domain, {}):
            overrides.append(f"{entry.domain}.{entry.translation_key} ({device_class})")
    assert overrides == []


def test_every_icon_belongs_to_an_entity_or_action() -> None:
    """No icon is left for an entity or action that does not exist."""
    strings = json.loads(
        (ICONS_JSON.parent / "translations" / "en.json").read_text(encoding="utf-8")
    )
    for domain, keys in OUR_ICONS["entity"].items():
        assert set(keys) <= set(strings["entity"][domain]), domain
    assert set(OUR_ICONS["services"]) <= set(strings["services"])
