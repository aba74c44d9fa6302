"""Run every benchmark module in order and print its figure lines."""

from __future__ import annotations

import importlib
import sys

# Order of the figures in the output; a module missing here is not run.
MODULES = ("decode", "timing", "state_writes", "session", "cues", "scale")


def main(selected: list[str]) -> None:
    """Run the selected benchmarks (all when none is named)."""
    for name in selected or MODULES:
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
        except ModuleNotFoundError as err:
            if err.name != f"benchmarks.bench_{name}":
                raise
            print(f"{name}: not measured (no benchmarks/bench_{name}.py yet)", flush=True)
            continue
        for line in module.run():
            print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
