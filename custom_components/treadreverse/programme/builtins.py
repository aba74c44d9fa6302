"""The five built-in programmes, derived from backward-walking-guide.txt."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .schema import Programme


@dataclass(frozen=True, slots=True)
class BuiltinProgramme:
    """A built-in programme: fixed key, English title and description, definition."""

    key: str
    title: str
    description: str
    definition: dict[str, Any]

    def programme(self) -> Programme:
        """Return the validated programme."""
        return Programme.from_dict(self.definition)


def _warmup(seconds: int, speed: float) -> dict[str, Any]:
    """Return a forward warm-up segment."""
    return {"direction": "forward", "duration": seconds, "speed": speed, "intensity": "warmup"}


def _cooldown(seconds: int, speed: float, **extra: Any) -> dict[str, Any]:
    """Return a forward cool-down segment."""
    return {
        "direction": "forward",
        "duration": seconds,
        "speed": speed,
        "intensity": "cooldown",
        **extra,
    }


def _builtin(key: str, title: str, description: str, segments: list[Any]) -> BuiltinProgramme:
    """Return a built-in whose definition carries its title and description."""
    definition = {"name": title, "description": description, "segments": segments}
    return BuiltinProgramme(key, title, description, definition)


_ALL = (
    _builtin(
        "first_steps",
        "Backward intervals, first steps",
        "For beginners: four short backward bouts between forward walks, both hands on the "
        "handrails. Take small steps, toes first, and stop if you feel unsteady.",
        [
            _warmup(180, 3.5),
            {
                "repeat": 4,
                "segments": [
                    {
                        "direction": "backward",
                        "duration": 30,
                        "speed": 2.0,
                        "handrails": "both",
                        "cue": "Small steps, toes first.",
                    },
                    {"direction": "forward", "duration": 90, "speed": 4.0},
                ],
            },
            _cooldown(120, 4.0, ramp_to={"speed": 3.0}),
        ],
    ),
    _builtin(
        "incline_ladder",
        "Backward incline ladder",
        "For confident backward walkers: the incline rises a little each minute, then comes "
        "back down. One hand on a rail; back off if your thighs burn too much.",
        [
            _warmup(180, 3.5),
            *(
                {
                    "direction": "backward",
                    "duration": 60,
                    "speed": 2.5,
                    "incline": incline,
                    "handrails": "one",
                }
                for incline in (1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0)
            ),
            _cooldown(180, 3.5, incline=0.0),
        ],
    ),
    _builtin(
        "backward_jog",
        "Backward jog intervals",
        "For experienced backward walkers: slow backward jogging alternated with forward "
        "walking. Lower the speed if your stance feels unstable; hold the rails until sure.",
        [
            _warmup(300, 4.0),
            {
                "repeat": 4,
                "segments": [
                    {
                        "direction": "backward",
                        "duration": 120,
                        "speed": 4.0,
                        "handrails": "none",
                        "cue": "Stay light on your toes.",
                    },
                    {"direction": "forward", "duration": 120, "speed": 4.5, "intensity": "rest"},
                ],
            },
            _cooldown(180, 3.5),
        ],
    ),
    _builtin(
        "half_squat_incline",
        "Half-squat backward incline",
        "For strong knees only: 45-second half-squat backward bouts on an incline with forward "
        "rests. Keep your back straight, do not lean forward; skip it with knee problems.",
        [
            _warmup(180, 3.5),
            {
                "repeat": 4,
                "segments": [
                    {
                        "direction": "backward",
                        "duration": 45,
                        "speed": 1.5,
                        "incline": 4.0,
                        "posture": "half_squat",
                        "handrails": "both",
                        "cue": "Straight back, do not lean forward.",
                    },
                    {
                        "direction": "forward",
                        "duration": 90,
                        "speed": 3.0,
                        "incline": 0.0,
                        "intensity": "rest",
                    },
                ],
            },
            _cooldown(120, 3.0),
        ],
    ),
    _builtin(
        "knee_extension",
        "Knee extension walk",
        "For knee range of motion after injury, surgery or with arthritis: slow backward "
        "walking, both hands on the rails, knee straight as you roll to the heel. "
        "Stop if it hurts.",
        [
            _warmup(120, 3.0),
            {
                "repeat": 5,
                "segments": [
                    {
                        "direction": "backward",
                        "duration": 60,
                        "speed": 1.5,
                        "handrails": "both",
                        "cue": "Let the knee straighten as you roll to the heel.",
                    },
                    {"direction": "forward", "duration": 60, "speed": 3.0, "intensity": "rest"},
                ],
            },
            _cooldown(120, 3.0),
        ],
    ),
)

BUILTINS: MappingProxyType[str, BuiltinProgramme] = MappingProxyType({b.key: b for b in _ALL})
BUILTIN_KEYS: tuple[str, ...] = tuple(BUILTINS)
# Key -> definition, in the same schema as saved programmes (what the HA layer resolves).
BUILTIN_PROGRAMMES: MappingProxyType[str, dict[str, Any]] = MappingProxyType(
    {b.key: b.definition for b in _ALL}
)


def builtin_programme(key: str) -> Programme:
    """Return a built-in programme by key; raise KeyError for an unknown key."""
    return BUILTINS[key].programme()
