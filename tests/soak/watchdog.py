"""A real-time watchdog: when virtual time stops moving, show where everything waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import faulthandler
import io
import sys
import threading
import time

STALL_S = 90.0  # real seconds without a step


def wall_clock() -> float:
    """Return real seconds (freezegun patches time.monotonic, not clock_gettime)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC_RAW)


class Watchdog:
    """Dump every task's stack once when the soak stops making progress."""

    def __init__(self, describe: Callable[[], str]) -> None:
        """Watch the running loop."""
        self.loop = asyncio.get_running_loop()
        self.describe = describe
        self.progress = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="soak-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        """Wake up now and then; dump once per stall."""
        seen, since, dumped = -1, wall_clock(), False
        while not self._stop.wait(5.0):
            if self.progress != seen:
                seen, since, dumped = self.progress, wall_clock(), False
            elif not dumped and wall_clock() - since > STALL_S:
                dumped = True
                # The loop may be blocked: every thread's Python stack from here first.
                sys.stderr.write(f"soak: no progress for {STALL_S:.0f} s\n")
                faulthandler.dump_traceback(all_threads=True)
                self.loop.call_soon_threadsafe(self._dump)

    def _dump(self) -> None:
        """Print the scenario so far and every task's stack (runs on the loop)."""
        out = io.StringIO()
        out.write(f"soak: no progress for {STALL_S:.0f} s\n{self.describe()}\n")
        for task in asyncio.all_tasks(self.loop):
            out.write(f"--- {task!r}\n")
            task.print_stack(file=out)
        sys.stderr.write(out.getvalue())
        sys.stderr.flush()

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join()
