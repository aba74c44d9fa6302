"""The pure parts of scripts/dev_bootstrap.py (the development instance's bootstrap)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType
from typing import Any


def _load() -> ModuleType:
    path = Path(__file__).parent.parent / "scripts" / "dev_bootstrap.py"
    spec = importlib.util.spec_from_file_location("dev_bootstrap", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dev_bootstrap"] = module
    spec.loader.exec_module(module)
    return module


boot = _load()


def _entity(entity_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"entity_id": entity_id, "original_name": name, "has_entity_name": True, **extra}


def test_dashboard_groups_entities_by_domain() -> None:
    entry = {"title": "Simulated treadmill", "state": "loaded"}
    entities = [
        _entity("button.t_start", "Start"),
        _entity("sensor.t_speed", "Speed", translation_key="speed"),
        _entity("sensor.t_direction", "Direction"),
        _entity("select.t_programme", "Programme"),
        _entity("event.t_event", "Programme event"),
        _entity("binary_sensor.t_connected", "Connected", entity_category="diagnostic"),
    ]
    view = boot.build_dashboard(entry, entities)["views"][0]
    by_title = {card.get("title"): card for card in view["cards"]}
    assert [row["entity"] for row in by_title["Controls"]["entities"]] == [
        "select.t_programme",
        "button.t_start",
    ]
    assert by_title["Controls"]["entities"][1]["name"] == "Start"
    assert by_title["Speed and direction"]["entities"] == ["sensor.t_speed", "sensor.t_direction"]
    assert {"type": "tile", "entity": "event.t_event"} in view["cards"]
    assert by_title["Diagnostics"]["entities"][0]["entity"] == "binary_sensor.t_connected"
    assert "No entities yet" not in by_title


def test_dashboard_without_entities_says_so() -> None:
    view = boot.build_dashboard({"title": "T", "state": "loaded"}, [])["views"][0]
    assert any(card.get("title") == "No entities yet" for card in view["cards"])


def test_options_answer_sets_speaker_and_voice_keeps_defaults() -> None:
    flow = {
        "data_schema": [
            {"name": "speakers"},
            {"name": "tts_engine"},
            {"name": "language", "description": {"suggested_value": "en"}},
            {"name": "turn_mode", "default": "stop"},
            {"name": "notify"},
        ]
    }
    assert boot.options_answer(flow) == {
        "speakers": [boot.SPEAKER],
        "tts_engine": boot.VOICE,
        "language": "en",
        "turn_mode": "stop",
    }


def test_proc_net_addresses_decode() -> None:
    assert boot.decode_address("0100007F", 8) == "127.0.0.1"
    assert boot.decode_address("0200000A", 8) == "10.0.0.2"
    assert boot.decode_address("00000000000000000000000001000000", 32) == "::1"
