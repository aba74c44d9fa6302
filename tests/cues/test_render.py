"""Rendering cue keys and engine events, with English behind every language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import re
import shutil
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.treadreverse.cues import (
    CUE_DIR,
    SUPPORTED_LANGUAGES,
    TEST_ANNOUNCEMENT,
    CueBook,
    CueFileError,
    Phrase,
    Term,
    load_cues,
    normalise_language,
    placeholders,
)
from custom_components.treadreverse.programme.events import SAFETY_CUES, CueType, EventType

from .samples import INTERVAL_DATA, PLACEHOLDER_SAMPLES, SAMPLES, SUMMARY_DATA

BOOKS: dict[str, CueBook] = {language: load_cues(language) for language in SUPPORTED_LANGUAGES}
KINDS: tuple[str, ...] = (*EventType, *CueType, TEST_ANNOUNCEMENT)


def values_for(template: str) -> dict[str, Any]:
    """Return sample values for a template's placeholders."""
    return {name: PLACEHOLDER_SAMPLES[name] for name in placeholders(template)}


@pytest.fixture
def cue_dir(tmp_path: Path) -> Path:
    """Copy the cue files to a folder a test may change."""
    for language in SUPPORTED_LANGUAGES:
        shutil.copy(CUE_DIR / f"{language}.json", tmp_path)
    return tmp_path


def edit(folder: Path, language: str, change: dict[str, Any]) -> None:
    """Change top-level entries of one cue file; None deletes a cue key."""
    path = folder / f"{language}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for name, value in change.items():
        if name.startswith("cues."):
            data["cues"].pop(name[5:])
        else:
            data[name] = value
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_key_renders(language: str) -> None:
    book = BOOKS[language]
    for key in sorted(book.all_keys()):
        template = book.template(key)
        assert template is not None
        phrase = book.render(key, **values_for(template.text))
        assert phrase.language == language, key
        assert phrase.text, key
        assert not placeholders(phrase.text), key


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_sample_event_renders_in_its_language(language: str) -> None:
    book = BOOKS[language]
    for kind, samples in SAMPLES.items():
        for data in samples:
            phrase = book.render_event(kind, data)
            if phrase is not None:
                assert phrase.language == language, (kind, data)
                assert phrase.text.strip() == phrase.text, (kind, data)
                assert "{" not in phrase.text, (kind, data)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_safety_cues_always_have_something_to_say(language: str) -> None:
    book = BOOKS[language]
    for kind in SAFETY_CUES - {CueType.COUNTDOWN_TICK}:
        assert book.render_event(kind, {}) is not None, kind


def test_english_programme_sentences() -> None:
    book = BOOKS["en"]
    said = [
        book.render_event(kind, data)
        for kind, data in (
            (CueType.MOUNT, {"direction": "backward", "handrails": "both"}),
            (CueType.COUNTDOWN, {"seconds": 10}),
            (CueType.COUNTDOWN_TICK, {"seconds": 3}),
            (EventType.TURN_AROUND_SOON, {"seconds": 5, "to": "backward"}),
            (CueType.SLOW_DOWN, {"turn_speed": 1.0, "turn_mode": "slow"}),
            (CueType.SLOW_DOWN, {"turn_speed": 1.0, "turn_mode": "pause"}),
            (CueType.TURN_NOW, {"to": "backward", "handrails": "one"}),
            (CueType.TURN_NOW, {"to": "forward", "handrails": "one"}),
            (CueType.SPEED_CHANGE, {"speed": 2.0, "advisory": True}),
            (CueType.KNEE_WARNING, {}),
            (CueType.WAIT_AT_TURN, {"to": "forward"}),
            (EventType.PROGRAMME_ABORTED, {"reason": "stop_unreachable"}),
        )
    ]
    assert [phrase.text for phrase in said if phrase] == [
        "Step on facing away from the console and hold both handrails.",
        "The belt starts in 10 seconds.",
        "3",
        "In 5 seconds, turn around to walk backward.",
        "Slowing down to 1 kilometre per hour to turn.",
        "Pausing the belt to turn.",
        "Turn around now, walk backward, with one hand on a handrail.",
        "Turn to face forward.",
        "Set the speed to 2 kilometres per hour.",
        "Half squat next. Keep your back straight; stop if your knees hurt.",
        "Turn to face forward, then press resume.",
        "I can't reach the treadmill. Press stop or pull the safety key now.",
    ]


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        (
            EventType.INTERVAL_STARTED,
            {"direction": "backward", "speed": 2.0, "duration": 30},
            "Backward walk at 2 kilometres per hour for 30 seconds.",
        ),
        (
            EventType.INTERVAL_STARTED,
            {"direction": "backward", "speed": "fast", "duration": 30},
            "Backward walk for 30 seconds.",
        ),
        (EventType.INTERVAL_STARTED, {"speed": 2.0}, "Next interval at 2 kilometres per hour."),
        (EventType.INTERVAL_STARTED, {"direction": "sideways", "duration": -3}, "Next interval."),
        (
            EventType.TURN_AROUND_SOON,
            {"seconds": None, "to": "backward"},
            "Get ready to turn around.",
        ),
        (EventType.TURN_AROUND_SOON, {"seconds": 5, "to": "up"}, "Turn around in 5 seconds."),
        (CueType.SLOW_DOWN, {"turn_speed": float("nan")}, "Slowing down to turn."),
        (
            CueType.MOUNT,
            {"direction": "backward", "handrails": "two"},
            "Step on facing away from the console and hold the handrails.",
        ),
        (CueType.COUNTDOWN, {"seconds": True}, "The belt is about to start."),
        (EventType.PROGRAMME_PAUSED, {"reason": "Something New!"}, "Programme paused."),
        (EventType.PROGRAMME_PAUSED, {"reason": 7}, "Programme paused."),
        (
            EventType.PROGRAMME_COMPLETED,
            {"distance": 800, "backward_time": 60},
            "Well done, programme complete! You walked backward for 1 minute.",
        ),
        (CueType.SUMMARY, {"elapsed": 120, "distance": 400}, "So far: 400 metres."),
        (CueType.SUMMARY, {"elapsed": 120, "distance": 0}, "2 minutes done. Keep going!"),
        (
            TEST_ANNOUNCEMENT,
            {"message": "  "},
            "This is a test announcement from your treadmill coach.",
        ),
        (CueType.SEGMENT_CUE, {"text": "Toes first {speed}"}, "Toes first {speed}"),
    ],
)
def test_missing_or_bad_data_falls_back_to_a_shorter_sentence(
    kind: str, data: dict[str, Any], expected: str
) -> None:
    assert BOOKS["en"].render_event(kind, data) == Phrase(expected, "en")


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (EventType.DIRECTION_CHANGED, {"direction": "turning"}),
        (EventType.DIRECTION_CHANGED, {}),
        (CueType.COUNTDOWN_TICK, {"seconds": -1}),
        (CueType.SPEED_CHANGE, {}),
        (CueType.INCLINE_CHANGE, {"incline": "steep"}),
        (CueType.SEGMENT_CUE, {"text": ""}),
        ("not_a_cue", {}),
    ],
)
def test_nothing_to_say(kind: str, data: dict[str, Any]) -> None:
    assert BOOKS["de"].render_event(kind, data) is None


AT = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (INTERVAL_DATA, "Backward walk at 2 kilometres per hour for 30 seconds."),
        (
            {**INTERVAL_DATA, "ends_at": AT + timedelta(seconds=90)},
            "Backward walk at 2 kilometres per hour for 1 minute 30 seconds.",
        ),
        (
            {**INTERVAL_DATA, "duration": 45},
            "Backward walk at 2 kilometres per hour for 45 seconds.",
        ),
        ({**INTERVAL_DATA, "ends_at": None}, "Backward walk at 2 kilometres per hour."),
        ({**INTERVAL_DATA, "ends_at": "soon"}, "Backward walk at 2 kilometres per hour."),
        (
            {**INTERVAL_DATA, "ends_at": "2026-11-24T01:00:30"},
            "Backward walk at 2 kilometres per hour.",
        ),
        (
            {**INTERVAL_DATA, "ends_at": "2026-11-24T00:59:00+00:00"},
            "Backward walk at 2 kilometres per hour.",
        ),
        (
            {**INTERVAL_DATA, "label_key": "backward_jog", "speed": 4.5},
            "Backward jog at 4.5 kilometres per hour for 30 seconds.",
        ),
        (
            {**INTERVAL_DATA, "label_key": "forward_warmup", "direction": "forward"},
            "Warm-up at 2 kilometres per hour for 30 seconds.",
        ),
    ],
)
def test_interval_length_from_ends_at(data: dict[str, Any], expected: str) -> None:
    phrase = BOOKS["en"].render_event(EventType.INTERVAL_STARTED, data, at=AT)
    assert phrase == Phrase(expected, "en")


def test_interval_length_needs_the_event_time() -> None:
    phrase = BOOKS["de"].render_event(EventType.INTERVAL_STARTED, INTERVAL_DATA)
    assert phrase == Phrase("Rückwärtsgehen mit 2 Kilometer pro Stunde.", "de")
    phrase = BOOKS["de"].render_event(EventType.INTERVAL_STARTED, INTERVAL_DATA, at=AT)
    assert phrase == Phrase("Rückwärtsgehen mit 2 Kilometer pro Stunde, 30 Sekunden lang.", "de")


@pytest.mark.parametrize(
    ("kind", "reason", "expected"),
    [
        (EventType.PROGRAMME_PAUSED, "console_pause", "Paused from the console."),
        (
            EventType.PROGRAMME_PAUSED,
            "disconnected",
            "Lost the connection to the treadmill. The programme is paused.",
        ),
        (
            EventType.PROGRAMME_ABORTED,
            "console_stop",
            "Stopped from the console. The programme has ended.",
        ),
        (
            EventType.PROGRAMME_ABORTED,
            "restart",
            "Home Assistant is stopping this programme. The belt slows down and pauses; "
            "hold the handrails.",
        ),
    ],
)
def test_engine_reasons(kind: str, reason: str, expected: str) -> None:
    data = {**INTERVAL_DATA, "reason": reason}
    assert BOOKS["en"].render_event(kind, data) == Phrase(expected, "en")


def test_pause_at_a_turn_is_said_by_the_wait_cue_alone() -> None:
    data = {**INTERVAL_DATA, "reason": "wait_at_turn"}
    assert BOOKS["en"].render_event(EventType.PROGRAMME_PAUSED, data) is None
    assert BOOKS["en"].render_event(CueType.WAIT_AT_TURN, {"to": "backward"}) == Phrase(
        "Turn around to walk backward, then press resume.", "en"
    )


# What the person hears when they, not Home Assistant, must move the belt.
HANDS_ON: dict[str, dict[str, str]] = {
    "en": {
        CueType.STOP_THE_BELT: "Stop the belt now.",
        CueType.START_ON_CONSOLE: "Start the belt on the treadmill when you are ready.",
        CueType.DISTANCE_ESTIMATED: (
            "The treadmill stopped counting distance; I'll time this part instead."
        ),
        "no_speaker": (
            "No speaker is working, so I won't start the belt. "
            "Start it on the treadmill when you are ready."
        ),
        "shutdown": (
            "Home Assistant is stopping this programme. "
            "Slow down and stop the belt; hold the handrails."
        ),
        "pause_at_turn": "Pause the belt to turn.",
    },
    "de": {
        CueType.STOP_THE_BELT: "Halte das Band jetzt an.",
        CueType.START_ON_CONSOLE: "Drück Start am Laufband, wenn du bereit bist.",
        CueType.DISTANCE_ESTIMATED: (
            "Das Laufband zählt keine Strecke mehr, "
            "deshalb richte ich mich bei diesem Abschnitt nach der Zeit."
        ),
        "no_speaker": (
            "Kein Lautsprecher funktioniert, deshalb starte ich das Band nicht. "
            "Drück Start am Laufband, wenn du bereit bist."
        ),
        "shutdown": (
            "Home Assistant beendet dieses Programm. Verringere die Geschwindigkeit "
            "und halte das Band an; halt dich an den Haltegriffen fest."
        ),
        "pause_at_turn": "Halte das Band zum Umdrehen an.",
    },
    "fr": {
        CueType.STOP_THE_BELT: "Arrêtez le tapis maintenant.",
        CueType.START_ON_CONSOLE: "Quand vous voulez, démarrez le tapis depuis sa console.",
        CueType.DISTANCE_ESTIMATED: (
            "Le tapis ne compte plus la distance ; je chronomètre donc cette partie."
        ),
        "no_speaker": (
            "Aucun haut-parleur ne fonctionne, je ne démarre donc pas le tapis. "
            "Quand vous voulez, démarrez-le depuis sa console."
        ),
        "shutdown": (
            "Home Assistant arrête ce programme. "
            "Ralentissez puis arrêtez le tapis ; tenez les barres d'appui."
        ),
        "pause_at_turn": "Mettez le tapis en pause pour le demi-tour.",
    },
    "es": {
        CueType.STOP_THE_BELT: "Detén la cinta ahora.",
        CueType.START_ON_CONSOLE: "Cuando quieras, pon en marcha la cinta desde su consola.",
        CueType.DISTANCE_ESTIMATED: (
            "La cinta ha dejado de contar la distancia, así que cronometraré esta parte."
        ),
        "no_speaker": (
            "No funciona ningún altavoz, así que no pondré en marcha la cinta. "
            "Cuando quieras, ponla en marcha desde su consola."
        ),
        "shutdown": (
            "Home Assistant detiene este programa. "
            "Baja la velocidad y detén la cinta; agárrate a los pasamanos."
        ),
        "pause_at_turn": "Pausa la cinta para darte la vuelta.",
    },
    "nl": {
        CueType.STOP_THE_BELT: "Zet de band nu stil.",
        CueType.START_ON_CONSOLE: "Druk op start op de loopband zodra je klaar bent.",
        CueType.DISTANCE_ESTIMATED: (
            "De loopband telt geen afstand meer, dus voor dit deel ga ik op de tijd af."
        ),
        "no_speaker": (
            "Er werkt geen luidspreker, dus ik start de band niet. "
            "Druk op start op de loopband zodra je klaar bent."
        ),
        "shutdown": (
            "Home Assistant stopt dit programma. "
            "Verlaag de snelheid en zet de band stil; houd de leuningen vast."
        ),
        "pause_at_turn": "Pauzeer de band om te draaien.",
    },
}


def test_hands_on_texts_cover_every_language() -> None:
    assert set(HANDS_ON) == set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "kind", [CueType.STOP_THE_BELT, CueType.START_ON_CONSOLE, CueType.DISTANCE_ESTIMATED]
)
def test_hands_on_cues(language: str, kind: CueType) -> None:
    expected = Phrase(HANDS_ON[language][kind], language)
    assert BOOKS[language].render_event(kind, {}) == expected
    assert BOOKS[language].render_event(kind, {"unexpected": 1}) == expected


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_no_speaker_pause_says_to_start_on_the_console(language: str) -> None:
    data = {**INTERVAL_DATA, "reason": "no_speaker"}
    assert BOOKS[language].render_event(EventType.PROGRAMME_PAUSED, data) == Phrase(
        HANDS_ON[language]["no_speaker"], language
    )


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("reason", ["shutdown", "restart", "unload"])
def test_advisory_shutdown_tells_the_person_to_stop_the_belt(language: str, reason: str) -> None:
    book = BOOKS[language]
    data = {**INTERVAL_DATA, "reason": reason}
    advisory = book.render_event(EventType.PROGRAMME_ABORTED, {**data, "advisory": True})
    assert advisory == Phrase(HANDS_ON[language]["shutdown"], language)
    commanded = book.render_event(EventType.PROGRAMME_ABORTED, {**data, "advisory": False})
    assert commanded == book.render("programme_aborted.shutdown")
    assert commanded != advisory
    assert book.render_event(EventType.PROGRAMME_ABORTED, data) == commanded
    # Only exactly true counts: anything else keeps the sentence of a commanded belt.
    odd = book.render_event(EventType.PROGRAMME_ABORTED, {**data, "advisory": "yes"})
    assert odd == commanded


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_advisory_flag_on_a_reason_without_its_own_variant(language: str) -> None:
    book = BOOKS[language]
    for reason in ("console_stop", "something_new"):
        data = {"reason": reason}
        plain = book.render_event(EventType.PROGRAMME_ABORTED, data)
        assert book.render_event(EventType.PROGRAMME_ABORTED, {**data, "advisory": True}) == plain


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_pause_and_wait_fallback_in_advisory_mode(language: str) -> None:
    data = {"turn_speed": 0.0, "turn_mode": "pause", "advisory": True}
    assert BOOKS[language].render_event(CueType.SLOW_DOWN, data) == Phrase(
        HANDS_ON[language]["pause_at_turn"], language
    )


def test_hands_on_cues_are_pregenerated() -> None:
    for language in SUPPORTED_LANGUAGES:
        phrases = BOOKS[language].fixed_phrases()
        for name, text in HANDS_ON[language].items():
            assert Phrase(text, language) in phrases, (language, name)


def test_hands_on_cues_are_safety_cues() -> None:
    assert {CueType.STOP_THE_BELT, CueType.START_ON_CONSOLE} <= SAFETY_CUES


@pytest.mark.parametrize(
    ("language", "data", "expected"),
    [
        ("en", INTERVAL_DATA, "Starting First steps."),
        ("de", INTERVAL_DATA, "Wir starten das Programm Erste Schritte."),
        ("en", {"programme": "my_walk", "name": "My walk"}, "Starting My walk."),
        (
            "fr",
            {"programme": "my_walk", "name": "My walk"},
            "C'est parti pour le programme My walk.",
        ),
        ("en", {"name": "Inline"}, "Starting Inline."),
        ("en", {"programme": "my_walk"}, "Starting your programme."),
        (
            "nl",
            {"programme": "first_steps", "duration": 600},
            "We beginnen met het programma Eerste stappen, in totaal 10 minuten.",
        ),
    ],
)
def test_programme_titles(language: str, data: dict[str, Any], expected: str) -> None:
    assert BOOKS[language].render_event(EventType.PROGRAMME_STARTED, data) == Phrase(
        expected, language
    )


def test_terms_with_defaults() -> None:
    book = BOOKS["es"]
    assert book.say(Term("programme.my_walk", default="Mi paseo")) == "Mi paseo"
    assert book.say(Term("programme.backward_jog")) == "Trote hacia atrás"
    assert book.render("programme_started", programme=Term("x", default="X")) == Phrase(
        "Empezamos el programa X.", "es"
    )
    with pytest.raises(KeyError):
        book.render("programme_started", programme=Term("x"))


def test_summaries_from_engine_data() -> None:
    book = BOOKS["en"]
    assert book.render_event(CueType.SUMMARY, {**SUMMARY_DATA, "final": False}) == Phrase(
        "So far: 1.5 kilometres in total, 240 metres of it backward in 3 minutes 5 seconds.",
        "en",
    )
    # A treadmill without measurements reports zero distances: only the time is said.
    manual = {**SUMMARY_DATA, "distance_m": 0.0, "backward_distance_m": 0.0}
    assert book.render_event(CueType.SUMMARY, manual) == Phrase(
        "So far: 3 minutes 5 seconds walking backward.", "en"
    )
    assert book.render_event(CueType.SUMMARY, {**SUMMARY_DATA, "final": True}) == Phrase(
        "You walked 240 metres backward in 3 minutes 5 seconds, and 1.5 kilometres in total.",
        "en",
    )
    assert book.render_event(CueType.SUMMARY, {"final": True}) is None


def test_fixed_phrases_for_pregeneration(cue_dir: Path) -> None:
    edit(cue_dir, "de", {"cues.turn_now.forward": None})
    phrases = load_cues("de", cue_dir).fixed_phrases()
    assert Phrase("Jetzt umdrehen und rückwärts gehen.", "de") in phrases
    assert Phrase("Turn to face forward.", "en") in phrases
    assert all(not placeholders(phrase.text) for phrase in phrases)
    assert not any(phrase.text == "Rückwärtsgehen" for phrase in phrases)


def test_render_event_without_data() -> None:
    assert BOOKS["en"].render_event(CueType.SAFETY_KEY) == Phrase(
        "The safety key was pulled. The belt has stopped.", "en"
    )


def test_render_errors() -> None:
    book = BOOKS["en"]
    with pytest.raises(KeyError, match="nowhere"):
        book.render("nowhere")
    with pytest.raises(KeyError, match="speed"):
        book.render("speed_change")
    assert book.template("nowhere") is None
    assert book.render_first(["nowhere", "halfway"], {}) == Phrase("Halfway there.", "en")
    assert book.render_first(["nowhere"], {}) is None


def test_missing_key_falls_back_to_english(cue_dir: Path) -> None:
    edit(cue_dir, "de", {"cues.turn_now.backward.both": None, "cues.label.backward": None})
    book = load_cues("de", cue_dir)
    assert book.language == "de"
    turn = {"to": "backward", "handrails": "both"}
    assert book.render_event(CueType.TURN_NOW, turn) == Phrase(
        "Turn around now, walk backward, and hold both handrails.", "en"
    )
    assert book.render_event(CueType.TURN_NOW, {"to": "backward"}) == Phrase(
        "Jetzt umdrehen und rückwärts gehen.", "de"
    )
    # A missing label makes the whole sentence English, units included.
    interval = {"direction": "backward", "speed": 2.5}
    assert book.render_event(EventType.INTERVAL_STARTED, interval) == Phrase(
        "Backward walk at 2.5 kilometres per hour.", "en"
    )
    assert book.render("turn_now.backward.both") == Phrase(
        "Turn around now, walk backward, and hold both handrails.", "en"
    )
    assert book.template("turn_now.backward.both") == Phrase(
        "Turn around now, walk backward, and hold both handrails.", "en"
    )
    assert "turn_now.backward.both" in book.all_keys()


@pytest.mark.parametrize(
    ("asked", "language"),
    [("de", "de"), ("de-DE", "de"), ("fr_CA", "fr"), (" NL ", "nl"), ("it", "en"), ("", "en")],
)
def test_language_codes(asked: str, language: str) -> None:
    assert normalise_language(asked) == language
    assert load_cues(asked).language == language


@pytest.mark.parametrize(
    "change",
    [
        {"cues": {"a": 1}},
        {"cues": []},
        {"language": 5},
        {"format": None},
        {"format": {"units": {}}},
        {"format": {"units": {"speed.one": "x"}}},
    ],
)
def test_malformed_files_are_refused(cue_dir: Path, change: dict[str, Any]) -> None:
    edit(cue_dir, "fr", change)
    with pytest.raises(CueFileError, match=r"fr\.json"):
        load_cues("fr", cue_dir)


def test_unknown_plural_rule_is_refused(cue_dir: Path) -> None:
    data = json.loads((cue_dir / "es.json").read_text(encoding="utf-8"))
    data["format"]["plural_rule"] = "slavic"
    (cue_dir / "es.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CueFileError, match="plural_rule"):
        load_cues("es", cue_dir)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_unreadable_files_are_refused(cue_dir: Path, content: str) -> None:
    (cue_dir / "nl.json").write_text(content, encoding="utf-8")
    with pytest.raises(CueFileError, match=r"nl\.json"):
        load_cues("nl", cue_dir)


def test_missing_file_is_refused(cue_dir: Path) -> None:
    (cue_dir / "en.json").unlink()
    with pytest.raises(CueFileError, match=r"en\.json"):
        load_cues("en", cue_dir)


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.none(),
    st.text(alphabet=st.characters(exclude_characters="{}"), max_size=12),
    st.sampled_from(["forward", "backward", "both", "one", "none", "pause", "slow", "user"]),
)
DATA_KEYS = (
    "seconds",
    "timeout_s",
    "remaining_s",
    "speed",
    "incline",
    "turn_speed",
    "duration",
    "distance",
    "elapsed",
    "backward_distance",
    "backward_time",
    "direction",
    "to",
    "handrails",
    "turn_mode",
    "advisory",
    "final",
    "reason",
    "command",
    "intensity",
    "posture",
    "text",
    "message",
    "programme",
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    data=st.dictionaries(st.sampled_from(DATA_KEYS), NUMBERS, max_size=8),
    language=st.sampled_from(SUPPORTED_LANGUAGES),
)
def test_render_event_never_raises(kind: str, data: dict[str, Any], language: str) -> None:
    phrase = BOOKS[language].render_event(kind, data)
    if phrase is None:
        return
    assert phrase.language == language
    assert not placeholders(phrase.text)
    if not any(isinstance(value, str) for value in data.values()):
        assert not re.search(r"\b(nan|inf)\b", phrase.text)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_manual_stop_is_not_told_to_wait_for_the_belt(language: str) -> None:
    """A stop Home Assistant cannot send is followed by "stop the belt now", not "wait"."""
    book = BOOKS[language]
    plain = book.render_event(EventType.PROGRAMME_ABORTED, {"reason": "user"})
    advisory = book.render_event(EventType.PROGRAMME_ABORTED, {"reason": "user", "advisory": True})
    assert advisory is not None
    assert plain is not None
    assert advisory != plain
    assert plain.text.startswith(advisory.text)
