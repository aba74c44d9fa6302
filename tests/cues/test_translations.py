"""UI translations: every language has exactly the keys and placeholders of en.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "custom_components/treadreverse/translations"
SCRIPT = ROOT / "scripts/sync_translations.py"
LANGUAGES = ("de", "fr", "es", "nl")


def load_script() -> ModuleType:
    """Import scripts/sync_translations.py, which is not a package module."""
    spec = importlib.util.spec_from_file_location("sync_translations", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SYNC = load_script()


def flat(path: Path) -> dict[str, str]:
    """Read a translation file as dotted key -> text."""
    result: dict[str, str] = SYNC.flatten(json.loads(path.read_text(encoding="utf-8")))
    return result


@pytest.mark.skipif(not (TRANSLATIONS / "en.json").exists(), reason="no translations/en.json")
@pytest.mark.parametrize("language", LANGUAGES)
def test_language_matches_english(language: str) -> None:
    english, other = flat(TRANSLATIONS / "en.json"), flat(TRANSLATIONS / f"{language}.json")
    assert set(other) == set(english)
    wrong = {
        key: text
        for key, text in other.items()
        if SYNC.placeholders(text) != SYNC.placeholders(english[key])
    }
    assert wrong == {}


@pytest.mark.skipif(not (TRANSLATIONS / "en.json").exists(), reason="no translations/en.json")
def test_every_translation_file_is_checked() -> None:
    assert {path.stem for path in TRANSLATIONS.glob("*.json")} == {"en", *LANGUAGES}
    assert SYNC.main(["--dir", str(TRANSLATIONS)]) == 0


def write(folder: Path, language: str, data: dict[str, Any]) -> None:
    """Write one translation file."""
    (folder / f"{language}.json").write_text(json.dumps(data), encoding="utf-8")


def test_script_reports_missing_extra_and_placeholders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "en", {"a": {"b": "Hi {name}", "c": "Two"}, "d": "Three", "n": 1})
    write(tmp_path, "de", {"a": {"b": "Hallo {nom}"}, "d": "Drei", "e": "Extra", "n": 1})
    write(tmp_path, "fr", {"a": {"b": "Salut {name}", "c": "Deux"}, "d": "Trois", "n": 1})
    assert SYNC.main(["--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "de: 3 problem(s)",
        "  missing: a.c",
        "  extra: e",
        "  placeholders: a.b: want ['name'], got ['nom']",
        "fr: ok",
    ]


def test_script_passes_matching_files(tmp_path: Path) -> None:
    write(tmp_path, "en", {"a": "One {x}"})
    write(tmp_path, "nl", {"a": "Een {x}"})
    assert SYNC.main(["--dir", str(tmp_path)]) == 0
