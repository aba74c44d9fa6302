"""Spoken cues over the built-in programme first_steps: lateness and speech generated late.

A simulated treadmill runs first_steps (turns included) to completion with one speaker,
a media player that fetches each announcement's audio from Home Assistant's TTS like a
real speaker (so uncached speech is generated when the cue is due).

- cue lateness: from the moment a cue is due (the engine event queued it) to the call to
  the speaker, from the announcer's own `deliveries` (real loop time, see ha_harness).
- tts generations at cue time: speech generations started by a speaker fetching a cue,
  with pre-generation during the countdown (ours) and without it on a fresh TTS cache.
"""

from __future__ import annotations

from contextlib import nullcontext
import copy
from dataclasses import dataclass
import math
from typing import Any
from unittest.mock import patch

from benchmarks.ha_harness import async_setup_speakers, run_simulated, simulated_home_assistant
from custom_components.treadreverse.announcer import Announcer, Delivery
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.programme.builtins import BUILTINS
from custom_components.treadreverse.programme.events import ProgrammeStatus

PROGRAMME = "first_steps"
LIMIT_S = 3600  # first_steps takes ~15 simulated minutes; give up after an hour
AFTER_S = 10  # time for the last cues (summary) to be spoken after completion
OPTIONS = {"speakers": ["media_player.living_room"], "tts_engine": "tts.test_speech"}


@dataclass
class CueRun:
    """What one run of the programme said and generated."""

    seconds: float
    deliveries: list[Delivery]
    generated: list[tuple[str, str]]
    at_delivery: list[tuple[str, str]]
    heard: int


async def _no_prepare(*_args: Any, **_kwargs: Any) -> None:
    """Stand in for Announcer.async_prepare: no pre-generation."""


async def _run(pregenerate: bool) -> CueRun:
    """Run first_steps to completion in a fresh Home Assistant (fresh TTS caches)."""
    async with simulated_home_assistant() as sim:
        hass = sim.hass
        engine, (player,) = await async_setup_speakers(hass, "Living room")
        entry = await sim.async_setup_entry(OPTIONS)
        coordinator = entry.runtime_data.coordinator
        announcer = entry.runtime_data.announcer
        definition = copy.deepcopy(BUILTINS[PROGRAMME].definition)
        with (
            nullcontext() if pregenerate else patch.object(Announcer, "async_prepare", _no_prepare)
        ):
            await hass.services.async_call(
                DOMAIN,
                "start_programme",
                {
                    "config_entry_id": entry.entry_id,
                    "definition": definition,
                    "wait_for_person": False,
                },
                blocking=True,
            )
        while coordinator.engine.status is not ProgrammeStatus.COMPLETED:
            if sim.seconds >= LIMIT_S:
                raise RuntimeError(f"{PROGRAMME} is {coordinator.engine.status} after an hour")
            await sim.advance(1)
        seconds = sim.seconds
        await sim.advance(AFTER_S)
        return CueRun(
            seconds,
            list(announcer.deliveries),
            list(engine.generated),
            list(engine.at_delivery),
            len(player.heard),
        )


def _percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def run() -> list[str]:
    """Return the `cue lateness` and `tts generations at cue time` lines."""
    ours = run_simulated(lambda: _run(pregenerate=True))
    cold = run_simulated(lambda: _run(pregenerate=False))
    for name, result in (("ours", ours), ("cold", cold)):
        if not result.deliveries or result.heard != len(result.deliveries):
            raise AssertionError(f"{name}: {result.heard} heard, {len(result.deliveries)} sent")
    late = [(d.called - d.due) * 1000 for d in ours.deliveries]
    distinct = len({(d.language, d.text) for d in cold.deliveries})
    return [
        f"cue lateness p99: ours {_percentile(late, 0.99):.1f} ms "
        f"(p50 {_percentile(late, 0.5):.1f} ms, n={len(late)})",
        f"tts generations at cue time: ours {len(ours.at_delivery)}; "
        f"cold cache {len(cold.at_delivery)} "
        f"({len(cold.deliveries)} cues, {distinct} distinct texts)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
