"""A test Home Assistant outside pytest for the benchmarks: simulated time, speakers, an entry.

Time works as in tests/integration: freezegun freezes `dt_util.utcnow()` and `time.time()`,
`advance()` ticks it one second at a time and fires the timers that fell due. The event
loop's clock (`loop.time()`) jumps with each simulated second and runs in real time within
it, so the differences of `loop.time()` inside one simulated second (cue lateness) are real
processing times; under a plain `freeze_time()` they would all read 0.

`real_home_assistant()` is the same test Home Assistant on the real clock, for figures
measured in real time (bench_scale).
"""

from __future__ import annotations

# PHACC's time patches must come before Home Assistant is imported: they make
# dt_util.utcnow a function that freezegun can replace.
from pytest_homeassistant_custom_component import patch_time  # isort: split

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
import contextvars
from datetime import UTC, datetime
import logging
import math
import tempfile
from typing import Any

import freezegun
from freezegun.api import FrozenDateTimeFactory, StepTickTimeFactory, TickingDateTimeFactory
from homeassistant import loader
from homeassistant.components import tts
from homeassistant.components.media_player.const import DATA_COMPONENT as MEDIA_PLAYER_COMPONENT
from homeassistant.components.tts.const import DATA_COMPONENT as TTS_COMPONENT
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame, translation
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

import custom_components.treadreverse  # noqa: F401  (before any hass: see tests/conftest.py)
from custom_components.treadreverse.announcer import Announcer, Speaker
from custom_components.treadreverse.const import DOMAIN
from custom_components.treadreverse.cues import Phrase
from tests.integration.conftest import SIMULATED_DATA
from tests.integration.speakers import RecordingPlayer, RecordingTTS

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
ENTRY_ID = "01BENCHTREADMILL000000000"
WORKER_PREFIX = "treadreverse speaker"  # the announcer's per-speaker workers never end

# Set while a speaker fetches its audio: generations started then are "at cue time".
DELIVERING: contextvars.ContextVar[bool] = contextvars.ContextVar("delivering", default=False)


def _real_monotonic() -> float:
    """Return the real monotonic time.

    Looked up on each call: while time is frozen, freezegun replaces every module-level
    reference to time.monotonic, a saved one here included.
    """
    return float(freezegun.api.real_monotonic())


def _quiet_logs() -> None:
    """Silence what this machine cannot do and the test engine's fake MP3 cannot carry."""
    # No ffmpeg binary here (tts depends on the ffmpeg integration, which probes it).
    for name in ("haffmpeg", "homeassistant.components.ffmpeg"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # RecordingTTS returns a few MPEG sync bytes: tagging them for the file cache fails.
    logging.getLogger("homeassistant.components.tts").addFilter(_not_id3_error)


def _not_id3_error(record: logging.LogRecord) -> bool:
    """Drop tts' "ID3 tag error" records (added once: the same filter is not added twice)."""
    return not record.getMessage().startswith("ID3 tag error")


def _patch_freezegun() -> None:
    """Apply PHACC's freezegun fixes (pytest_runtest_setup does this before each test)."""
    api: Any = freezegun.api
    api.FakeDate = patch_time.HAFakeDate
    api.datetime_to_fakedatetime = patch_time.ha_datetime_to_fakedatetime
    api.FakeDatetime = patch_time.HAFakeDatetime
    api._get_module_attributes = patch_time.ha_get_module_attributes  # noqa: SLF001
    api._get_module_attributes_hash = patch_time.ha_get_module_attributes_hash  # noqa: SLF001
    api._should_use_real_time = patch_time.ha_should_use_real_time  # noqa: SLF001
    api.get_current_time = patch_time.ha_get_current_time


class SimulatedLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps with simulated time and runs in real time in between."""

    def __init__(self) -> None:
        """Start the clock at the real monotonic time."""
        super().__init__()
        self._base = _real_monotonic()
        self._real_at_base = self._base

    def time(self) -> float:
        """Return the simulated base plus the real time since the last jump."""
        return self._base + (_real_monotonic() - self._real_at_base)

    def jump(self, seconds: float) -> None:
        """Move the clock on by a simulated step (never backwards)."""
        now = self.time()
        self._base = max(self._base + seconds, now)
        self._real_at_base = _real_monotonic()


def run_simulated[T](main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a fresh SimulatedLoop."""
    _patch_freezegun()
    _quiet_logs()
    return asyncio.run(main(), loop_factory=SimulatedLoop)


class CountingTTS(RecordingTTS):
    """RecordingTTS that also records which generations a speaker's fetch started."""

    def __init__(self) -> None:
        """Start with nothing generated."""
        super().__init__()
        self.at_delivery: list[tuple[str, str]] = []

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> tts.TtsAudioType:
        """Generate in the executor (as the base class does), noting who asked."""
        if DELIVERING.get():
            self.at_delivery.append((language, message))
        return await self.hass.async_add_executor_job(
            self.get_tts_audio, message, language, options
        )


class FetchingPlayer(RecordingPlayer):
    """A recording player that fetches the announced audio, as a real speaker does."""

    def __init__(self, name: str) -> None:
        """Start with nothing fetched."""
        super().__init__(name)
        self.fetched: list[tuple[str, int]] = []

    async def async_play_media(self, media_type: str, media_id: str, **kwargs: Any) -> None:
        """Record the announcement, then download its audio (generated now if not cached)."""
        await super().async_play_media(media_type, media_id, **kwargs)
        token = DELIVERING.set(True)
        try:
            extension, data = await tts.async_get_media_source_audio(self.hass, media_id)
        finally:
            DELIVERING.reset(token)
        self.fetched.append((extension, len(data)))


async def async_setup_speakers(
    hass: HomeAssistant, *names: str
) -> tuple[CountingTTS, list[FetchingPlayer]]:
    """Set up the counting TTS engine (tts.test_speech) and fetching players."""
    assert await async_setup_component(hass, "tts", {})
    assert await async_setup_component(hass, "media_player", {})
    engine = CountingTTS()
    # The components' own entity platforms take entities that no integration provides.
    await hass.data[TTS_COMPONENT]._platforms["tts"].async_add_entities([engine])  # noqa: SLF001
    players = [FetchingPlayer(name) for name in names]
    platform = hass.data[MEDIA_PLAYER_COMPONENT]._platforms["media_player"]  # noqa: SLF001
    await platform.async_add_entities(players)
    await hass.async_block_till_done()
    return engine, players


class AnnouncerWatch:
    """Tells whether an announcer still has phrases queued or being spoken."""

    def __init__(self, announcer: Announcer) -> None:
        """Count calls in flight by wrapping the announcer's speaker call."""
        self.announcer = announcer
        self.in_flight = 0
        call = announcer.async_call_speaker

        async def counted(speaker: Speaker, phrase: Phrase) -> None:
            self.in_flight += 1
            try:
                await call(speaker, phrase)
            finally:
                self.in_flight -= 1

        announcer.async_call_speaker = counted  # type: ignore[method-assign]

    def busy(self) -> bool:
        """Return whether some phrase waits for or is being spoken by a speaker."""
        return self.in_flight > 0 or any(not s.queue.empty() for s in self.announcer.speakers)


class Simulation:
    """One test Home Assistant with frozen time that benchmarks move on."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory | StepTickTimeFactory | TickingDateTimeFactory,
        loop: SimulatedLoop,
    ) -> None:
        """Wrap a running test hass."""
        self.hass = hass
        self.freezer = freezer
        self.loop = loop
        self.watches: list[AnnouncerWatch] = []
        self.seconds = 0.0  # simulated seconds advanced

    async def async_setup_entry(self, options: dict[str, Any]) -> MockConfigEntry:
        """Set up a simulated treadmill entry with these options."""
        entry = MockConfigEntry(
            domain=DOMAIN,
            entry_id=ENTRY_ID,
            title="Simulated treadmill",
            data=SIMULATED_DATA,
            options=options,
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(entry.entry_id)
        await self.hass.async_block_till_done()
        self.watches.append(AnnouncerWatch(entry.runtime_data.announcer))
        return entry

    async def advance(self, seconds: float = 1.0) -> None:
        """Move time on one second at a time, running due timers and the work they start."""
        whole = math.floor(seconds)
        for step in [1.0] * whole + ([seconds - whole] if seconds > whole else []):
            # Finish what the caller started (a service call) before the clock jumps.
            await self.settle(step)
            self.freezer.tick(step)
            self.loop.jump(step)
            self.seconds += step
            async_fire_time_changed(self.hass)
            await self.settle(step)

    async def settle(self, budget: float = 1.0) -> None:
        """Let speakers and one-off background tasks finish, within `budget` real seconds.

        A simulated second stands for a real one: pre-generation and speakers get up to
        that long to do their work before time moves on.
        """
        deadline = _real_monotonic() + budget
        while True:
            await self.hass.async_block_till_done()
            # Background tasks (the speakers' queues) are not awaited by block_till_done.
            for _ in range(10):
                await asyncio.sleep(0)
            idle = not any(w.busy() for w in self.watches) and not self._pending_background()
            if idle or _real_monotonic() >= deadline:
                return
            await asyncio.sleep(0.0002)  # let executor jobs (speech generation) report back

    def _pending_background(self) -> bool:
        """Return whether a background task other than a speaker's worker still runs."""
        tasks = self.hass._background_tasks  # noqa: SLF001
        return any(
            not t.done()
            and not (isinstance(t, asyncio.Task) and t.get_name().startswith(WORKER_PREFIX))
            for t in tasks
        )


@asynccontextmanager
async def simulated_home_assistant(start: datetime = START) -> AsyncIterator[Simulation]:
    """Yield a fresh test Home Assistant (own temp config dir) with time frozen at `start`."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, SimulatedLoop), "run this under run_simulated()"
    with freezegun.freeze_time(start) as freezer:
        async with _test_home_assistant() as hass:
            yield Simulation(hass, freezer, loop)


@asynccontextmanager
async def real_home_assistant() -> AsyncIterator[HomeAssistant]:
    """Yield a fresh test Home Assistant on the real clock (run it under asyncio.run)."""
    _quiet_logs()
    async with _test_home_assistant() as hass:
        yield hass


@asynccontextmanager
async def _test_home_assistant() -> AsyncIterator[HomeAssistant]:
    """Yield a test Home Assistant with custom integrations; unload and stop it after."""
    loop = asyncio.get_running_loop()
    errors: list[BaseException] = []

    def on_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        errors.append(context.get("exception") or RuntimeError(context["message"]))

    with tempfile.TemporaryDirectory(prefix="treadreverse-bench-") as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # What PHACC's enable_custom_integrations fixture does.
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            frame.async_setup(hass)
            await translation.async_load_integrations(hass, {"homeassistant"})
            loop.set_exception_handler(on_error)
            try:
                yield hass
            finally:
                for entry in hass.config_entries.async_entries():
                    if entry.state is ConfigEntryState.LOADED:
                        await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
                await hass.async_stop(force=True)
                loop.set_exception_handler(None)
    if errors:
        raise RuntimeError(f"{len(errors)} error(s) in the event loop") from errors[0]
