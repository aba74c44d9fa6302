"""Print the pinned requirements of Home Assistant components, read from their manifests.

Without arguments: what a development `hass` loads (the core, default and frontend
integration sets, stage 0/1 integrations, default_config, the demo platforms and
treadreverse's own dependencies). With arguments: those domains only. Dependencies
are followed recursively (after_dependencies are not:
they only order set-up);
"""

from __future__ import annotations

import json
from pathlib import Path
import sys

import homeassistant
from homeassistant import bootstrap

COMPONENTS = Path(homeassistant.__file__).parent / "components"
OURS = Path(__file__).parent.parent / "custom_components" / "treadreverse" / "manifest.json"
DEV_EXTRA = {"default_config", "demo", "recorder", "logbook", "history", "diagnostics"}


def manifest(domain: str) -> dict[str, list[str]]:
    """Return the manifest of one core component, or nothing if it is unknown."""
    path = COMPONENTS / domain / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def dev_domains() -> set[str]:
    """Return the domains a development instance sets up."""
    domains = set(bootstrap.CORE_INTEGRATIONS) | set(bootstrap.DEFAULT_INTEGRATIONS)
    domains |= set(bootstrap.FRONTEND_INTEGRATIONS) | bootstrap.STAGE_1_INTEGRATIONS
    for _name, stage, _timeout in bootstrap.STAGE_0_INTEGRATIONS:
        domains |= set(stage)
    ours = json.loads(OURS.read_text())
    domains |= set(ours.get("dependencies", [])) | set(ours.get("after_dependencies", []))
    return (domains | DEV_EXTRA) - {"hassio", "cloud", "debugpy", "sentry", "mqtt_eventstream"}


def requirements(domains: set[str]) -> list[str]:
    """Return the sorted requirements of the domains and everything they depend on."""
    todo, seen, reqs = list(domains), set[str](), set[str]()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        data = manifest(domain)
        reqs.update(data.get("requirements", []))
        # after_dependencies only order set-up; they are not loaded because of us.
        todo.extend(data.get("dependencies", []))
    return sorted(reqs, key=str.lower)


if __name__ == "__main__":
    wanted = set(sys.argv[1:]) or dev_domains()
    print("\n".join(requirements(wanted)))
