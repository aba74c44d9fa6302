"""Only the interlock calls the treadmill's command methods (issue: one interlock).

The scan reads every module of the integration outside the treadmill layer itself
(which implements the commands) and the interlock (which is the one caller), and fails
on any call of a command method on something that names a treadmill.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "custom_components" / "treadreverse"
COMMANDS = frozenset(
    {"start", "stop", "pause", "set_speed", "set_incline", "request_control", "disconnect"}
)
ALLOWED = {PACKAGE / "programme" / "interlock.py"}


def command_calls(source: str) -> list[str]:
    """Return `receiver.command` for every treadmill command called in the source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in COMMANDS and "treadmill" in ast.unparse(node.func.value).lower():
            found.append(ast.unparse(node.func))
    return found


def test_the_scan_finds_a_command_call() -> None:
    """The scan itself bites: each way of calling a command is found."""
    source = (
        "async def f(self, treadmill, coordinator):\n"
        "    await self._treadmill.set_speed(3.0)\n"
        "    await treadmill.disconnect()\n"
        "    await coordinator.treadmill.start()\n"
        "    await self.engine.set_speed(1.0)\n"  # the engine asks the interlock: fine
    )
    assert command_calls(source) == [
        "self._treadmill.set_speed",
        "treadmill.disconnect",
        "coordinator.treadmill.start",
    ]


def test_nothing_but_the_interlock_commands_the_belt() -> None:
    """No module outside the interlock and the treadmill layer calls a command method."""
    offenders = {
        str(path.relative_to(PACKAGE)): calls
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in ALLOWED and "treadmill" not in path.relative_to(PACKAGE).parts[:1]
        if (calls := command_calls(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
