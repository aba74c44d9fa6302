#!/usr/bin/env python3
"""Report keys and placeholders that differ between translations/en.json and the other languages.

    .venv/bin/python scripts/sync_translations.py            # check every translations/*.json
    .venv/bin/python scripts/sync_translations.py --dir DIR  # check another folder

Prints one line per missing key, extra key or placeholder mismatch, and exits 1 if there is any.
It never writes: translate the reported keys by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import json
from pathlib import Path
import re
import sys
from typing import Any

TRANSLATIONS = (
    Path(__file__).resolve().parent.parent / "custom_components/treadreverse/translations"
)
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")


def flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    """Return a nested translation object as dotted key -> string."""
    if not isinstance(tree, dict):
        return {prefix: tree if isinstance(tree, str) else json.dumps(tree)}
    flat: dict[str, str] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def placeholders(text: str) -> set[str]:
    """Return the placeholder names of a string."""
    return set(PLACEHOLDER.findall(text))


def differences(english: dict[str, str], other: dict[str, str]) -> Iterator[str]:
    """Yield a line for every key or placeholder that differs from English."""
    for key in sorted(english.keys() - other.keys()):
        yield f"missing: {key}"
    for key in sorted(other.keys() - english.keys()):
        yield f"extra: {key}"
    for key in sorted(english.keys() & other.keys()):
        want, got = placeholders(english[key]), placeholders(other[key])
        if want != got:
            yield f"placeholders: {key}: want {sorted(want)}, got {sorted(got)}"


def load(path: Path) -> dict[str, str]:
    """Read and flatten one translation file."""
    return flatten(json.loads(path.read_text(encoding="utf-8")))


def check(folder: Path) -> int:
    """Compare every language in a folder with English; return the number of problems."""
    english = load(folder / "en.json")
    problems = 0
    for path in sorted(folder.glob("*.json")):
        if path.name == "en.json":
            continue
        lines = list(differences(english, load(path)))
        problems += len(lines)
        status = "ok" if not lines else f"{len(lines)} problem(s)"
        print(f"{path.stem}: {status}")
        for line in lines:
            print(f"  {line}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check; exit status 1 on any mismatch."""
    parser = argparse.ArgumentParser(description="Compare translations with en.json.")
    parser.add_argument("--dir", type=Path, default=TRANSLATIONS, help="translations folder")
    args = parser.parse_args(argv)
    return 1 if check(args.dir) else 0


if __name__ == "__main__":
    sys.exit(main())
