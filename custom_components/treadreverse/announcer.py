"""Spoken coaching: every cue on every configured speaker at once, turn and safety cues first."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
import itertools
import logging
from typing import Any

from homeassistant.components import tts
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from .const import CONF_LANGUAGE, CONF_NOTIFY, CONF_SPEAKERS, CONF_TTS_ENGINE, DOMAIN
from .coordinator import TreadmillCoordinator, TreadReverseConfigEntry
from .cues import TEST_ANNOUNCEMENT, CueBook, Phrase, load_cues
from .cues.plans import interval_label
from .cues.repeats import RepeatFilter
from .programme.compiler import Phase, PhaseKind, Step, StepKind, Timeline, interval_data
from .programme.events import SAFETY_CUES, CueType, EngineEvent, EventType
from .programme.options import EngineOptions, TurnMode

_LOGGER = logging.getLogger(__name__)

# What the notify targets get: turn and safety cues, and the session summary.
NOTIFY_CUES = SAFETY_CUES | {CueType.SUMMARY, EventType.PROGRAMME_COMPLETED}
SAFETY_PRIORITY, COACHING_PRIORITY = 0, 1
FIRST_CUES = 2  # the countdown and the programme's name are said at once
FIRST_CUES_TIMEOUT = 3.0  # s a start may wait for them
STALE_COACHING_S = 15.0  # coaching talk older than this is dropped, safety cues never
DRAIN_TIMEOUT = 5.0  # s an unload waits for the speakers to say the last words
KEPT_DELIVERIES = 1000  # recent deliveries kept for diagnostics and the lateness figure
BUSY_RETRIES = 10
BUSY_RETRY_DELAY = 0.5  # s between attempts on a satellite that is busy announcing


@dataclass(order=True, slots=True)
class _Queued:
    """One phrase waiting for a speaker, turn and safety cues first, then in order."""

    priority: int
    order: int
    phrase: Phrase = field(compare=False)
    due: float = field(compare=False)


@dataclass(slots=True)
class Delivery:
    """A phrase handed to a speaker: for tests and the cue lateness figure."""

    entity_id: str
    text: str
    language: str
    due: float
    called: float


class Speaker:
    """One speaker's queue and worker: a busy or slow speaker delays nobody else."""

    def __init__(self, announcer: Announcer, entity_id: str) -> None:
        """Start with an empty queue."""
        self.announcer = announcer
        self.entity_id = entity_id
        self.domain = entity_id.split(".", 1)[0]
        self.queue: asyncio.PriorityQueue[_Queued] = asyncio.PriorityQueue()
        self.working = True
        self._failed_logged = False

    async def run(self) -> None:
        """Speak queued phrases one at a time, forever (cancelled on unload)."""
        while True:
            item = await self.queue.get()
            try:
                late = self.announcer.hass.loop.time() - item.due
                # Coaching talk that waited this long behind a slow speaker is out of date.
                if item.priority == SAFETY_PRIORITY or late <= STALE_COACHING_S:
                    await self._deliver(item)
            finally:
                self.queue.task_done()

    async def _deliver(self, item: _Queued) -> None:
        """Call the speaker's service and remember whether it worked."""
        hass = self.announcer.hass
        called = hass.loop.time()
        for attempt in range(BUSY_RETRIES + 1):
            try:
                await self.announcer.async_call_speaker(self, item.phrase)
                break
            except (HomeAssistantError, TimeoutError) as err:
                if attempt == BUSY_RETRIES or not self._busy(err):
                    self.failed(err)
                    return
                # Someone else is announcing on this satellite: ours waits its turn.
                await asyncio.sleep(BUSY_RETRY_DELAY)
        self.announcer.deliveries.append(
            Delivery(self.entity_id, item.phrase.text, item.phrase.language, item.due, called)
        )
        if not self.working or self._failed_logged:
            _LOGGER.info("Speaker %s works again", self.entity_id)
        self.working, self._failed_logged = True, False

    def _busy(self, err: BaseException) -> bool:
        """Return whether a satellite refused because it is announcing already."""
        if self.domain != "assist_satellite":
            return False
        # Imported here: assist_satellite is loaded whenever a satellite is configured.
        from homeassistant.components.assist_satellite.errors import SatelliteBusyError

        return isinstance(err, SatelliteBusyError)

    def failed(self, err: BaseException) -> None:
        """Log a failing speaker once; raise a repair issue when it no longer exists."""
        self.working = False
        if not self._failed_logged:
            _LOGGER.warning("Speaker %s failed: %s", self.entity_id, err)
            self._failed_logged = True
        if self.announcer.hass.states.get(self.entity_id) is None:
            self.announcer.raise_missing_entity(self.entity_id)


class Announcer:
    """Turn engine events into speech on speakers and messages on notify targets."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, options: dict[str, Any], book: CueBook
    ) -> None:
        """Prepare a queue per speaker."""
        self.hass = hass
        self.entry_id = entry_id
        self.book = book
        self.engine_id: str | None = options.get(CONF_TTS_ENGINE)
        self.notify_targets: list[str] = list(options.get(CONF_NOTIFY) or [])
        self.speakers = [Speaker(self, e) for e in options.get(CONF_SPEAKERS) or []]
        self.muted = False
        self.deliveries: deque[Delivery] = deque(maxlen=KEPT_DELIVERIES)
        self.repeats = RepeatFilter()
        self._order = itertools.count()

    def start(self, create_task: Any) -> None:
        """Start one worker per speaker as background tasks of the entry."""
        for speaker in self.speakers:
            create_task(speaker.run(), f"treadreverse speaker {speaker.entity_id}")
        self.check_entities()

    async def async_drain(self) -> None:
        """Let every speaker finish what it was given (the last words before unloading)."""
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await asyncio.gather(*(speaker.queue.join() for speaker in self.speakers))
        except TimeoutError:
            _LOGGER.debug("Speakers still busy after %s s; unloading anyway", DRAIN_TIMEOUT)

    def speakers_work(self) -> bool:
        """Return whether a cue can be heard: some speaker is configured and works (rule 2)."""
        return any(s.working and self.hass.states.get(s.entity_id) for s in self.speakers)

    def check_entities(self) -> None:
        """Raise a repair issue for each configured speaker or notify entity that is gone."""
        for entity_id in [s.entity_id for s in self.speakers] + self.notify_targets:
            if self.hass.states.get(entity_id) is None:
                self.raise_missing_entity(entity_id)
            else:
                ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(entity_id))

    def raise_missing_entity(self, entity_id: str) -> None:
        """Tell the user a configured entity no longer exists."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(entity_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="missing_entity",
            translation_placeholders={"entity_id": entity_id},
        )

    def _issue_id(self, entity_id: str) -> str:
        """Return the repair issue id of one entity of this entry."""
        return f"missing_entity_{self.entry_id}_{entity_id}"

    @callback
    def on_event(self, event: EngineEvent) -> None:
        """Say what an engine event calls for; never wait for a speaker."""
        safety = event.type in SAFETY_CUES
        # The filter sees every event (it remembers what was said) but never drops a safety cue.
        fresh = self.repeats.allows(str(event.type), event.data, event.at)
        if not safety and (self.muted or not fresh):
            return
        phrase = self.book.render_event(str(event.type), event.data, at=event.at)
        if phrase is None:
            return
        self.say(phrase, safety=safety)
        if event.type in NOTIFY_CUES:
            self._notify(phrase)

    def say(self, phrase: Phrase, *, safety: bool) -> None:
        """Queue a phrase on every speaker."""
        item_priority = SAFETY_PRIORITY if safety else COACHING_PRIORITY
        now = self.hass.loop.time()
        for speaker in self.speakers:
            speaker.queue.put_nowait(_Queued(item_priority, next(self._order), phrase, now))

    def _notify(self, phrase: Phrase) -> None:
        """Send a silent copy to the notify targets, in the background."""
        for entity_id in self.notify_targets:
            self.hass.async_create_background_task(
                self._async_notify(entity_id, phrase.text), f"treadreverse notify {entity_id}"
            )

    async def _async_notify(self, entity_id: str, message: str) -> None:
        """Send one notification; a failure is logged, never raised."""
        try:
            await self.hass.services.async_call(
                "notify",
                "send_message",
                {"entity_id": entity_id, "message": message},
                blocking=True,
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Notify target %s failed: %s", entity_id, err)
            if self.hass.states.get(entity_id) is None:
                self.raise_missing_entity(entity_id)

    def tts_engine(self) -> str | None:
        """Return the configured TTS entity or Home Assistant's default engine."""
        if "tts" not in self.hass.config.components:
            return None
        return tts.async_resolve_engine(self.hass, self.engine_id)

    async def async_call_speaker(self, speaker: Speaker, phrase: Phrase) -> None:
        """Speak on one media player (tts.speak, announce) or satellite (announce)."""
        engine = self.tts_engine()
        if speaker.domain == "assist_satellite":
            data: dict[str, Any] = {
                "entity_id": speaker.entity_id,
                "message": phrase.text,
                "preannounce": False,
            }
            if engine is not None and "media_source" in self.hass.config.components:
                # Our engine and the cue's language (and its pre-generated audio), not the
                # satellite pipeline's; the message is still shown on the satellite.
                data["media_id"] = self._media_id(engine, phrase)
            await self.hass.services.async_call("assist_satellite", "announce", data, blocking=True)
            return
        if engine is None:
            raise HomeAssistantError("no text-to-speech engine")
        await self.hass.services.async_call(
            "tts",
            "speak",
            {
                "entity_id": engine,
                "media_player_entity_id": speaker.entity_id,
                "message": phrase.text,
                "language": phrase.language,
                "cache": True,
            },
            blocking=True,
        )

    async def async_test(self, message: str | None) -> list[str]:
        """Speak a test message on every speaker at once; return the ones that failed."""
        data = {"message": message} if message else {}
        phrase = self.book.render_event(TEST_ANNOUNCEMENT, data)
        assert phrase is not None
        results = await asyncio.gather(
            *(self.async_call_speaker(s, phrase) for s in self.speakers), return_exceptions=True
        )
        failed = []
        for speaker, result in zip(self.speakers, results, strict=True):
            if isinstance(result, BaseException):
                speaker.failed(result)
                failed.append(speaker.entity_id)
            else:
                speaker.working = True
        self._notify(phrase)
        return failed

    def _media_id(self, engine: str, phrase: Phrase) -> str:
        """Return the cached TTS media source of a phrase."""
        return tts.generate_media_source_id(
            self.hass, phrase.text, engine=engine, language=phrase.language, cache=True
        )

    async def async_prepare(
        self,
        timeline: Timeline,
        options: EngineOptions,
        create_task: Any,
        *,
        key: str | None = None,
        advisory: bool = False,
    ) -> None:
        """Cache the programme's fixed cues: the first at once, the rest during the countdown."""
        phrases = [
            phrase
            for kind, data in fixed_events(timeline, options, key, advisory)
            if (phrase := self.book.render_event(str(kind), data)) is not None
        ]
        try:
            async with asyncio.timeout(FIRST_CUES_TIMEOUT):
                await self.async_pregenerate(phrases[:FIRST_CUES])
        except TimeoutError:
            _LOGGER.debug("The first cues were not ready in %s s", FIRST_CUES_TIMEOUT)
        create_task(self.async_pregenerate(phrases[FIRST_CUES:]), "treadreverse pre-generate")

    async def async_pregenerate(self, phrases: list[Phrase]) -> int:
        """Put fixed cues into the TTS cache so none waits for speech generation when due."""
        if not self.speakers or (engine := self.tts_engine()) is None:
            return 0
        done = 0
        for phrase in dict.fromkeys(phrases):
            try:
                await tts.async_get_media_source_audio(self.hass, self._media_id(engine, phrase))
            except (HomeAssistantError, ValueError) as err:
                _LOGGER.debug("Could not pre-generate %r: %s", phrase.text, err)
                continue
            done += 1
        return done


def _step_event(step: Step, advisory: bool) -> tuple[str, dict[str, Any]] | None:
    """Return what the engine says for one timeline step."""
    if step.kind is StepKind.SPEED:
        return CueType.SPEED_CHANGE, {"speed": step.value, "advisory": advisory}
    if step.kind is StepKind.INCLINE:
        return CueType.INCLINE_CHANGE, {"incline": step.value, "advisory": advisory}
    return (step.cue, dict(step.data)) if step.cue else None


def _turn_events(
    timeline: Timeline, options: EngineOptions, turn: Phase, following: Phase | None
) -> list[tuple[str, dict[str, Any]]]:
    """Return what the engine says around one turn."""
    rails = following.interval.segment.handrails if following and following.interval else None
    events: list[tuple[str, dict[str, Any]]] = [
        (CueType.SLOW_DOWN, {"turn_speed": timeline.turn_speed, "turn_mode": options.turn_mode}),
        (CueType.TURN_NOW, {"to": turn.direction.value, "handrails": rails and rails.value}),
        (EventType.DIRECTION_CHANGED, {"to": turn.direction.value}),
    ]
    if options.turn_mode is TurnMode.SLOW:
        events.append((CueType.SPEED_CHANGE, {"speed": timeline.turn_speed, "advisory": False}))
    return events


def fixed_events(
    timeline: Timeline, options: EngineOptions, key: str | None = None, advisory: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """Return the cues a programme will say whatever happens, with the data they will carry."""
    first = timeline.intervals[0]
    events: list[tuple[str, dict[str, Any]]] = [
        (CueType.COUNTDOWN, {"seconds": options.start_countdown}),
        (EventType.PROGRAMME_STARTED, interval_data(timeline, first, key)),
        *((CueType.COUNTDOWN_TICK, {"seconds": tick}) for tick in (3, 2, 1)),
        *((step.cue or CueType.MOUNT, dict(step.data)) for step in timeline.start_cues),
    ]
    phases = timeline.phases
    for number, phase in enumerate(phases):
        if phase.interval is not None:
            data = interval_data(timeline, phase.interval, key)
            if phase.duration is not None:
                data["duration"] = phase.duration
            events.append((EventType.INTERVAL_STARTED, data))
        events += [e for step in phase.steps if (e := _step_event(step, advisory))]
        for step in phase.lead_cues:
            data = dict(step.data)
            if step.cue is EventType.TURN_AROUND_SOON:
                data["seconds"] = round(options.cue_lead_time, 1)
            events.append((step.cue or CueType.KNEE_WARNING, data))
        if phase.kind is PhaseKind.TURN:
            following = phases[number + 1] if number + 1 < len(phases) else None
            events += _turn_events(timeline, options, phase, following)
    # The closing words; the summary after them depends on the session and cannot be cached.
    events.append((EventType.PROGRAMME_COMPLETED, {}))
    if advisory:
        events.append((CueType.STOP_THE_BELT, {}))  # the person stops the belt (rule 7)
    return events


async def async_create_announcer(
    hass: HomeAssistant, entry: TreadReverseConfigEntry, coordinator: TreadmillCoordinator
) -> Announcer:
    """Load the cue texts (in the executor) and start one worker per speaker."""
    options = coordinator.options
    book = await hass.async_add_executor_job(load_cues, options[CONF_LANGUAGE])
    announcer = Announcer(hass, entry.entry_id, options, book)
    coordinator.speaker_check = announcer.speakers_work
    coordinator.label_fn = lambda key: book.say(interval_label({"label_key": key}))
    entry.async_on_unload(coordinator.engine.add_listener(announcer.on_event))
    announcer.start(lambda coro, name: entry.async_create_background_task(hass, coro, name))
    return announcer
