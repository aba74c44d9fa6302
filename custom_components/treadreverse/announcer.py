"""Spoken coaching: every cue on every configured speaker at once, turn and safety cues first."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
import itertools
import logging
from typing import Any

from homeassistant.components import tts
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback, valid_entity_id
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
TEST_TIMEOUT = 30.0  # s test_announcement waits for every speaker to take its message
RECENT_DELIVERIES = 20  # shown in the diagnostics
# Events that end a turn's lead-in or a turn: an announcement held meanwhile is said then.
TURN_OVER = frozenset(
    {
        EventType.INTERVAL_STARTED,
        EventType.PROGRAMME_COMPLETED,
        EventType.PROGRAMME_ABORTED,
    }
)
TURN_BEGINS = frozenset({EventType.TURN_AROUND_SOON, CueType.SLOW_DOWN, CueType.TURN_NOW})


class Ticket:
    """What became of one phrase on every speaker it was queued on.

    `accepted` resolves with the first speaker that took the phrase (its entity available,
    its call returned without error), or None once every speaker is done without taking it.
    `results` resolves, once every speaker is done, with whether each took it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, entity_ids: list[str]) -> None:
        """Wait for these speakers."""
        self.accepted: asyncio.Future[str | None] = loop.create_future()
        self.results: asyncio.Future[dict[str, bool]] = loop.create_future()
        self._pending = set(entity_ids)
        self._outcome: dict[str, bool] = {}
        if not entity_ids:
            self._settle()

    def done_by(self, entity_id: str, *, accepted: bool) -> None:
        """Record one speaker's outcome."""
        self._outcome[entity_id] = accepted
        self._pending.discard(entity_id)
        if accepted and not self.accepted.done():
            self.accepted.set_result(entity_id)
        if not self._pending:
            self._settle()

    def _settle(self) -> None:
        """Every speaker is done: nobody took it, if nobody did."""
        if not self.accepted.done():
            self.accepted.set_result(None)
        if not self.results.done():
            self.results.set_result(dict(self._outcome))


@dataclass(order=True, slots=True)
class _Queued:
    """One phrase waiting for a speaker, turn and safety cues first, then in order."""

    priority: int
    order: int
    phrase: Phrase = field(compare=False)
    due: float = field(compare=False)
    ticket: Ticket | None = field(default=None, compare=False)


@dataclass(slots=True)
class Delivery:
    """A phrase handed to a speaker: for tests and the cue lateness figure."""

    entity_id: str
    text: str
    language: str
    due: float
    called: float
    accepted: float | None = None  # when the speaker's call returned


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
            accepted = False
            try:
                late = self.announcer.hass.loop.time() - item.due
                # Coaching talk that waited this long behind a slow speaker is out of date.
                if item.priority == SAFETY_PRIORITY or late <= STALE_COACHING_S:
                    accepted = await self._deliver(item)
            finally:
                if item.ticket is not None:
                    item.ticket.done_by(self.entity_id, accepted=accepted)
                self.queue.task_done()

    @property
    def available(self) -> bool:
        """Return whether the entity exists and is available (tts.speak skips the others)."""
        state = self.announcer.hass.states.get(self.entity_id)
        return state is not None and state.state != STATE_UNAVAILABLE

    @property
    def works(self) -> bool:
        """Return whether a cue can be heard here: available and its last call succeeded."""
        return self.working and self.available

    async def _deliver(self, item: _Queued) -> bool:
        """Call the speaker's service; return whether it took the phrase."""
        hass = self.announcer.hass
        if not self.available:
            # Home Assistant would skip the call without an error: nothing would be heard.
            _LOGGER.debug(
                "Speaker %s is unavailable; %r not said", self.entity_id, item.phrase.text
            )
            if hass.states.get(self.entity_id) is None:
                self.announcer.raise_missing_entity(self.entity_id)
            return False
        called = hass.loop.time()
        for attempt in range(BUSY_RETRIES + 1):
            try:
                await self.announcer.async_call_speaker(self, item.phrase)
                break
            except (HomeAssistantError, TimeoutError) as err:
                if attempt == BUSY_RETRIES or not self._busy(err):
                    self.failed(err)
                    return False
                # Someone else is announcing on this satellite: ours waits its turn.
                await asyncio.sleep(BUSY_RETRY_DELAY)
            except Exception as err:  # noqa: BLE001
                # Anything else (a bad TTS engine, a broken media player) must not end this
                # worker: its queue, turn cues included, would wait for ever.
                self.failed(err)
                return False
        self.announcer.deliveries.append(
            Delivery(
                self.entity_id,
                item.phrase.text,
                item.phrase.language,
                item.due,
                called,
                hass.loop.time(),
            )
        )
        if not self.working or self._failed_logged:
            _LOGGER.info("Speaker %s works again", self.entity_id)
        self.working, self._failed_logged = True, False
        ir.async_delete_issue(
            hass, DOMAIN, self.announcer.issue_id("speaker_failed", self.entity_id)
        )
        return True

    def _busy(self, err: BaseException) -> bool:
        """Return whether a satellite refused because it is announcing already."""
        if self.domain != "assist_satellite":
            return False
        # Imported here: assist_satellite is loaded whenever a satellite is configured.
        from homeassistant.components.assist_satellite.errors import SatelliteBusyError

        return isinstance(err, SatelliteBusyError)

    def failed(self, err: BaseException) -> None:
        """Log a failing speaker once; raise a repair issue (the entity is gone, or it fails)."""
        self.working = False
        if not self._failed_logged:
            _LOGGER.warning("Speaker %s failed: %s", self.entity_id, err)
            self._failed_logged = True
        if self.announcer.hass.states.get(self.entity_id) is None:
            self.announcer.raise_missing_entity(self.entity_id)
            return
        self.announcer.raise_issue(
            "speaker_failed", self.entity_id, error=str(err) or type(err).__name__
        )

    def health(self) -> dict[str, Any]:
        """Return what the diagnostics show of this speaker."""
        state = self.announcer.hass.states.get(self.entity_id)
        return {
            "entity_id": self.entity_id,
            "state": state.state if state else None,
            "last_call_succeeded": self.working,
            "works": self.works,
            "queued": self.queue.qsize(),
        }


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
        # Whether a programme is active; during a turn's lead-in or a turn `announce` waits.
        self.programme_active: Callable[[], bool] = lambda: False
        self._in_turn = False
        self._held: list[Phrase] = []
        self._accept_listeners: list[Callable[[EngineEvent, str | None], None]] = []

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
        """Return whether a cue can be heard: a speaker is available and works (rule 2)."""
        return any(speaker.works for speaker in self.speakers)

    def check_entities(self) -> None:
        """Raise a repair issue for each configured speaker or notify entity that is gone."""
        for entity_id in [s.entity_id for s in self.speakers] + self.notify_targets:
            if self.hass.states.get(entity_id) is None:
                self.raise_missing_entity(entity_id)
            else:
                ir.async_delete_issue(self.hass, DOMAIN, self.issue_id("missing_entity", entity_id))

    def raise_missing_entity(self, entity_id: str) -> None:
        """Tell the user a configured entity no longer exists."""
        self.raise_issue("missing_entity", entity_id)

    def raise_issue(self, key: str, entity_id: str, **placeholders: str) -> None:
        """Raise a repair issue about one configured entity of this entry."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id(key, entity_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"entity_id": entity_id, **placeholders},
        )

    def issue_id(self, key: str, entity_id: str) -> str:
        """Return the id of a repair issue about one entity of this entry."""
        return f"{key}_{self.entry_id}_{entity_id}"

    def health(self) -> dict[str, Any]:
        """Return the speakers' health and the recent deliveries, for the diagnostics."""
        now = self.hass.loop.time()
        return {
            "speakers_work": self.speakers_work(),
            "muted": self.muted,
            "speakers": [speaker.health() for speaker in self.speakers],
            "recent_deliveries": [
                {
                    "entity_id": d.entity_id,
                    "text": d.text,
                    "language": d.language,
                    "late_s": round(d.called - d.due, 3),
                    "took_s": None if d.accepted is None else round(d.accepted - d.called, 3),
                    "age_s": round(now - d.called, 1),
                }
                for d in list(self.deliveries)[-RECENT_DELIVERIES:]
            ],
        }

    @callback
    def on_event(self, event: EngineEvent) -> None:
        """Say what an engine event calls for; never wait for a speaker."""
        self.speak_event(event)

    @callback
    def speak_event(self, event: EngineEvent) -> Ticket | None:
        """Queue what an event calls for; return its ticket (None: nothing is said)."""
        self._follow_turns(event)
        safety = event.type in SAFETY_CUES
        # The filter sees every event (it remembers what was said) but never drops a safety cue.
        fresh = self.repeats.allows(str(event.type), event.data, event.at)
        if not safety and (self.muted or not fresh):
            return None
        phrase = self.book.render_event(str(event.type), event.data, at=event.at)
        if phrase is None:
            return None
        ticket = self.say(phrase, safety=safety)
        if self._accept_listeners:
            ticket.accepted.add_done_callback(lambda done: self._tell_accepted(event, done))
        if event.type in NOTIFY_CUES:
            self._notify(phrase)
        return ticket

    def add_accept_listener(
        self, listener: Callable[[EngineEvent, str | None], None]
    ) -> Callable[[], None]:
        """Call back once an event's phrase was taken: by which speaker, or None by none."""
        self._accept_listeners.append(listener)
        return lambda: self._accept_listeners.remove(listener)

    def _tell_accepted(self, event: EngineEvent, done: asyncio.Future[str | None]) -> None:
        """Tell the listeners who took the phrase of an event."""
        for listener in list(self._accept_listeners):
            listener(event, done.result())

    def _follow_turns(self, event: EngineEvent) -> None:
        """Know when a turn's lead-in or a turn runs; say what was held once it is over."""
        if event.type in TURN_BEGINS:
            self._in_turn = True
        elif event.type in TURN_OVER:
            self._in_turn = False
            held, self._held = self._held, []
            for phrase in [] if self.muted else held:  # muted meanwhile: not said
                self.say(phrase, safety=False)

    def say(self, phrase: Phrase, *, safety: bool) -> Ticket:
        """Queue a phrase on every speaker; the ticket tells who took it."""
        item_priority = SAFETY_PRIORITY if safety else COACHING_PRIORITY
        now = self.hass.loop.time()
        ticket = Ticket(self.hass.loop, [speaker.entity_id for speaker in self.speakers])
        for speaker in self.speakers:
            speaker.queue.put_nowait(_Queued(item_priority, next(self._order), phrase, now, ticket))
        return ticket

    def announce(self, message: str) -> None:
        """Say a message as coaching talk: muted by the switch, held during a turn."""
        if self.muted:
            return
        phrase = self.book.render_event(TEST_ANNOUNCEMENT, {"message": message})
        assert phrase is not None
        if self._in_turn and self.programme_active():
            # Never during a turn's lead-in or a turn: said when the turn is over.
            self._held.append(phrase)
            return
        self._in_turn = False  # no programme runs: nothing is held any more
        held, self._held = self._held, []
        for earlier in [*held, phrase]:
            self.say(earlier, safety=False)

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
        if not valid_entity_id(engine):
            # A legacy provider (the default engine when tts_engine is empty): tts.speak
            # takes entities only, so its audio is played the way tts.speak plays it.
            await self.hass.services.async_call(
                "media_player",
                "play_media",
                {
                    "entity_id": speaker.entity_id,
                    "media_content_id": self._media_id(engine, phrase),
                    "media_content_type": "music",
                    "announce": True,
                },
                blocking=True,
            )
            return
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
        """Say a test message through every speaker's queue; return the ones that failed."""
        data = {"message": message} if message else {}
        phrase = self.book.render_event(TEST_ANNOUNCEMENT, data)
        assert phrase is not None
        # Behind turn and safety cues, as coaching talk: a running programme comes first.
        ticket = self.say(phrase, safety=False)
        self._notify(phrase)
        try:
            async with asyncio.timeout(TEST_TIMEOUT):
                results = await asyncio.shield(ticket.results)
        except TimeoutError:
            results = {}
        return [s.entity_id for s in self.speakers if not results.get(s.entity_id, False)]

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
    announcer.programme_active = lambda: coordinator.engine.active
    coordinator.label_fn = lambda key: book.say(interval_label({"label_key": key}))
    entry.async_on_unload(coordinator.engine.add_listener(announcer.on_event))

    @callback
    def accepted(event: EngineEvent, speaker: str | None) -> None:
        # Rule 2: a turn begins only once a working speaker accepted its cue.
        if speaker is not None:
            coordinator.engine.cue_accepted(event)

    entry.async_on_unload(announcer.add_accept_listener(accepted))
    announcer.start(lambda coro, name: entry.async_create_background_task(hass, coro, name))
    # Issues about this entry's speakers go with it; a reload raises them again if still true.
    entry.async_on_unload(lambda: async_delete_issues(hass, entry.entry_id, speakers_only=True))
    return announcer


SPEAKER_ISSUE_KEYS = ("missing_entity", "speaker_failed")  # + "_<entry id>_<entity id>"
ENTRY_ISSUE_KEYS = ("control_refused",)  # + "_<entry id>"


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str, *, speakers_only: bool = False) -> None:
    """Delete the repair issues of one entry (all of them when the entry is removed)."""
    prefixes = tuple(f"{key}_{entry_id}_" for key in SPEAKER_ISSUE_KEYS)
    exact = set() if speakers_only else {f"{key}_{entry_id}" for key in ENTRY_ISSUE_KEYS}
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and (issue_id.startswith(prefixes) or issue_id in exact):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
