"""Hostile input: structured-random programme definitions, garbage, and bad numbers."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Any JSON-like value, with the floats JSON cannot carry but YAML and Python can.
garbage: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

bad_numbers = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1e308, 10**400, "nan", "1e400"]
)
numbers = st.floats(allow_nan=True, allow_infinity=True) | bad_numbers | st.integers(-100, 100)
plausible_numbers = st.floats(min_value=-20, max_value=80, allow_nan=False) | st.integers(-5, 60)

_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "direction": st.sampled_from(["forward", "backward", "Forward", ""]),
    "duration": st.floats(min_value=0, max_value=20000) | st.integers(0, 100),
    "distance": st.floats(min_value=0, max_value=60000),
    "speed": st.floats(min_value=0, max_value=30),
    "incline": plausible_numbers,
    "posture": st.sampled_from(["upright", "half_squat", "squat"]),
    "handrails": st.sampled_from(["both", "one", "none", "two"]),
    "intensity": st.sampled_from(["warmup", "active", "rest", "cooldown", "sprint"]),
    "cue": st.text(max_size=210),
    "ramp_to": st.fixed_dictionaries(
        {}, optional={"speed": st.floats(0, 30), "incline": plausible_numbers}
    ),
}


def _field(name: str) -> st.SearchStrategy[Any]:
    """Return a plausible value most of the time, garbage or a bad number sometimes."""
    return st.one_of(_FIELDS[name], _FIELDS[name], _FIELDS[name], garbage, bad_numbers)


segments: st.SearchStrategy[Any] = st.fixed_dictionaries(
    {"direction": _field("direction"), "speed": _field("speed")},
    optional={
        **{name: _field(name) for name in _FIELDS if name not in ("direction", "speed")},
        "extra": garbage,
    },
)


def _items(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return a repeat block around some items, sometimes with a bad count."""
    return st.fixed_dictionaries(
        {
            "repeat": st.integers(0, 120) | garbage,
            "segments": st.lists(children, min_size=0, max_size=4) | garbage,
        }
    )


items = st.recursive(segments | garbage, _items, max_leaves=8)


@st.composite
def valid_segments(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a segment the schema should accept (the compiler may still refuse it)."""
    segment: dict[str, Any] = {
        "direction": draw(st.sampled_from(["forward", "backward"])),
        "speed": draw(st.floats(0.5, 8.0).map(lambda v: round(v, 1))),
    }
    squat = draw(st.booleans()) and draw(st.booleans())
    if squat or draw(st.booleans()):
        segment["duration"] = draw(st.integers(5, 60 if squat else 300))
    else:
        segment["distance"] = draw(st.integers(10, 500))
    if squat:
        segment["posture"] = "half_squat"
    extras = {
        "incline": st.floats(0, 12).map(lambda v: round(v, 1)),
        "handrails": st.sampled_from(["both", "one", "none"]),
        "intensity": st.sampled_from(["warmup", "active", "rest", "cooldown"]),
        "cue": st.text(min_size=1, max_size=40).filter(str.strip),
        "ramp_to": st.fixed_dictionaries({"speed": st.floats(0.5, 8.0).map(lambda v: round(v, 1))}),
    }
    for name, strategy in extras.items():
        if draw(st.integers(0, 3)) == 0:
            segment[name] = draw(strategy)
    return segment


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """Draw a valid segment with one field given garbage, a bad number or an unknown key."""
    segment = draw(base)
    name = draw(st.sampled_from([*_FIELDS, "extra"]))
    segment[name] = draw(st.one_of(garbage, bad_numbers, st.just([]), st.just({})))
    return segment


valid_items = st.recursive(
    valid_segments(),
    lambda children: st.fixed_dictionaries(
        {"repeat": st.integers(1, 4), "segments": st.lists(children, min_size=1, max_size=3)}
    ),
    max_leaves=6,
)
names = st.text(min_size=1, max_size=40).filter(str.strip)

valid_definitions = st.fixed_dictionaries(
    {"name": names, "segments": st.lists(valid_items, min_size=1, max_size=5)}
)
definitions: st.SearchStrategy[Any] = st.one_of(
    valid_definitions,
    st.builds(
        lambda head, bad, tail: {"name": "One bad field", "segments": [*head, bad, *tail]},
        st.lists(valid_segments(), max_size=2),
        mutated(valid_segments()),
        st.lists(valid_segments(), max_size=2),
    ),
    st.fixed_dictionaries(
        {"name": st.text(max_size=210) | garbage, "segments": st.lists(items, max_size=6)},
        optional={"description": st.text(max_size=30) | garbage},
    ),
    st.fixed_dictionaries(
        {"name": st.just("Valid-ish"), "segments": st.lists(segments, min_size=1, max_size=5)}
    ),
    garbage,
)
