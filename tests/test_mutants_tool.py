"""The mutation gate (scripts/mutants.py) on its catalogue and on a tiny fake project."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType
from typing import Any

import pytest

from mutants.catalogue import MUTANTS, PENDING, Mutant


def _load() -> ModuleType:
    path = Path(__file__).parent.parent / "scripts" / "mutants.py"
    spec = importlib.util.spec_from_file_location("mutants_tool", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutants_tool"] = module
    spec.loader.exec_module(module)
    return module


tool = _load()

LIMITS = '''"""A tiny module under test."""

MAX_S = 60


def allowed(seconds):
    return seconds <= MAX_S


def describe(seconds):
    return f"{seconds} s"
'''

TESTS = """from pkg.limits import allowed


def test_limit():
    assert allowed(60)
    assert not allowed(61)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a mini project: pkg/limits.py and its one test."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "limits.py").write_text(LIMITS)
    (root / "tests" / "test_limits.py").write_text(TESTS)
    return root


def settings(root: Path, **changes: Any) -> Any:
    """Return gate settings for the mini project: no plugins, so each run is quick."""
    lines: list[str] = []
    values: dict[str, Any] = {
        "source_root": root,
        "items": ("pkg", "tests"),
        "pytest_args": ("-x", "-q", "-p", "no:cacheprovider"),
        "env": {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        "timeout": 60.0,
        "jobs": 2,
        "echo": lines.append,
    }
    return tool.Settings(**(values | changes))


def entry(ident: str, find: str, replace: str, **extra: Any) -> Any:
    """Return a mini-project mutant."""
    fields = {"file": "pkg/limits.py", "tests": ["tests/test_limits.py"], "rule": "5"}
    return tool.normalise({"id": ident, "find": find, "replace": replace, **fields, **extra})


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file under root (no caches) and its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_catalogue_loads_with_unique_ids() -> None:
    entries = tool.load_catalogue(tool.DEFAULT_CATALOGUE)
    assert [e.id for e in entries] == [m.id for m in MUTANTS]
    assert len({e.id for e in entries}) == len(entries) >= 3
    for item in entries:
        assert item.rule
        assert item.why
        assert item.tests


def test_every_finding_and_the_eight_have_mutants() -> None:
    """Issue 9: at least one mutant per finding, plus the eight named ones (M06-M13)."""
    assert {m.finding for m in MUTANTS if m.finding is not None} == set(range(1, 21))
    ids = {m.id.split("-")[0] for m in MUTANTS}
    assert {f"M{n:02d}" for n in range(6, 14)} <= ids
    assert not {m.id for m in MUTANTS} & {m.id for m in PENDING}


@pytest.mark.parametrize("mutant", MUTANTS + PENDING, ids=lambda m: m.id)
def test_catalogue_is_in_step_with_the_code(mutant: Mutant) -> None:
    """Every `find` occurs exactly once: edit the entry together with the code it mutates."""
    assert tool.stale_reason(tool.normalise(mutant), tool.ROOT) is None


def test_stale_detection(project: Path) -> None:
    missing = entry("X1", "MAX_S = 99", "MAX_S = 1")
    twice = entry("X2", "return ", "return None or ")
    gone = entry("X3", "x", "y", file="pkg/nope.py")
    assert "does not occur" in tool.stale_reason(missing, project)
    assert "occurs 2 times" in tool.stale_reason(twice, project)
    assert "does not exist" in tool.stale_reason(gone, project)
    with pytest.raises(tool.StaleMutantError, match="stale mutant"):
        tool.apply(twice, project)
    lines: list[str] = []
    results = tool.run_gate([missing, twice], settings(project, echo=lines.append))
    assert [r.status for r in results] == ["STALE", "STALE"]
    assert "STALE" in lines[0]
    assert "2 stale" in tool.score_line(results)


def test_apply_and_restore(project: Path) -> None:
    before = snapshot(project)
    mutant = entry("X", "MAX_S = 60", "MAX_S = 90")
    original = tool.apply(mutant, project)
    assert "MAX_S = 90" in (project / "pkg" / "limits.py").read_text()
    (project / ".hypothesis").mkdir()
    tool.restore(mutant, project, original)
    assert snapshot(project) == before
    assert not (project / ".hypothesis").exists()


def test_entries_are_checked(tmp_path: Path) -> None:
    with pytest.raises(tool.CatalogueError, match="same as `find`"):
        entry("X", "a", "a")
    with pytest.raises(tool.CatalogueError, match="`tests`"):
        entry("X", "a", "b", tests=[])
    with pytest.raises(tool.CatalogueError, match="no id"):
        tool.normalise({"file": "f", "find": "a", "replace": "b", "tests": ["t"]})
    held_out = tmp_path / "held_out.py"
    held_out.write_text(
        "from mutants.catalogue import Mutant\n"
        "MUTANTS = [\n"
        "    Mutant(id='H1', rule='3', file='f', find='a', replace='b', tests=['t']),\n"
        "    {'id': 'H1', 'rule': '3', 'file': 'f', 'find': 'a', 'replace': 'c', 'tests': ['t']},\n"
        "]\n"
    )
    with pytest.raises(tool.CatalogueError, match="duplicate mutant id H1"):
        tool.load_catalogue(held_out)
    held_out.write_text(held_out.read_text().replace("'id': 'H1'", "'id': 'H2'"))
    loaded = tool.load_catalogue(held_out)
    assert [e.id for e in loaded] == ["H1", "H2"]
    assert [e.id for e in tool.select(loaded, "H2")] == ["H2"]
    with pytest.raises(tool.CatalogueError, match="unknown"):
        tool.select(loaded, "H3")


def test_sanity_groups_keep_options_apart() -> None:
    a = entry("A", "x", "y", tests=["t/a.py", "t/b.py::c"])
    b = entry("B", "x", "y", tests=["t/a.py"])
    c = entry("C", "x", "y", tests=["t/d.py", "-k", "cap"])
    assert tool.sanity_groups([a, b, c]) == [("t/a.py", "t/b.py::c"), ("t/d.py", "-k", "cap")]


def test_killed_and_survived_on_a_mini_project(project: Path) -> None:
    before = snapshot(project)
    killed = entry("K", "MAX_S = 60", "MAX_S = 90")
    survived = entry("S", 'return f"{seconds} s"', 'return f"{seconds}s"')
    lines: list[str] = []
    results = tool.run_gate([killed, survived], settings(project, echo=lines.append))
    assert [(r.entry.id, r.status) for r in results] == [("K", "KILLED"), ("S", "SURVIVED")]
    assert "tests/test_limits.py::test_limit" in results[0].detail
    assert any(line.startswith("  ok") for line in lines)  # the unmutated run passed
    assert tool.score_line(results) == "mutants: 1 killed of 2 (score 50 %); 1 survived"
    assert "| `K` | 5 |  | `tests/test_limits.py` | KILLED |" in tool.markdown(results)
    assert snapshot(project) == before  # the real tree was never touched


def test_a_hanging_mutant_times_out(project: Path) -> None:
    hang = entry("H", "    return seconds <= MAX_S", "    while True:\n        pass")
    results = tool.run_gate([hang], settings(project, timeout=2.0, jobs=1))
    assert results[0].status == "TIMEOUT"
    assert tool.score_line(results) == "mutants: 1 killed of 1 (score 100 %); 1 timeout"


def test_failing_tests_stop_the_gate(project: Path) -> None:
    (project / "tests" / "test_limits.py").write_text(TESTS.replace("not allowed", "allowed"))
    with pytest.raises(tool.SanityError, match="fail WITHOUT any mutant"):
        tool.run_gate([entry("K", "MAX_S = 60", "MAX_S = 90")], settings(project))


def test_imports_from_the_real_tree_stop_the_gate(project: Path) -> None:
    """A test run that imports the real tree instead of the copy proves nothing."""
    (project / "tests" / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(project)!r})\n"
    )
    with pytest.raises(tool.SanityError, match="imported the real tree"):
        tool.run_gate([entry("K", "MAX_S = 60", "MAX_S = 90")], settings(project))


def test_list_and_bad_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tool.main(["--list", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert MUTANTS[0].id in out
    assert "| Mutant | Rule | Finding | Tests | Result |" in out
    bad = tmp_path / "bad.py"
    bad.write_text("NOTHING = []\n")
    assert tool.main(["--catalogue", str(bad)]) == 2
    assert "defines no MUTANTS" in capsys.readouterr().err
