"""Mutation gate: every deliberate rule-breaking patch in the catalogue must be killed.

For each mutant (mutants/catalogue.py, or `--catalogue FILE`) a temporary copy of
`custom_components/`, `tests/` and `pyproject.toml` gets ONE patch (the real tree is never
written), then the mutant's targeted tests run there with `-x` and a per-mutant timeout:

    KILLED    the tests failed: the rule is tested
    TIMEOUT   the tests hung past the timeout (counts as killed, reported apart)
    SURVIVED  the tests passed with the rule broken: a hole in the safety tests
    STALE     `find` occurs 0 or 2+ times in the current source: fix the catalogue entry
    ERROR     pytest could not run the tests (usage error, nothing collected) or imports
              escaped the temporary copy

Before any mutant, the targeted tests run once on the unmutated copy and must pass (a
mutant "killed" by tests that fail anyway proves nothing); the same run checks that the
package and the tests were imported from the copy, never from the real tree.

Exit status: 0 when every mutant was killed, 1 when one survived, is stale or errored,
2 on a bad catalogue, bad options or a failing unmutated run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
import hashlib
import importlib.util
import json
import os
from pathlib import Path
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOGUE = ROOT / "mutants" / "catalogue.py"
COPY_ITEMS = ("custom_components", "tests", "pyproject.toml")
PYTEST_ARGS = ("-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--no-cov")
DEFAULT_TIMEOUT_S = 120.0
SANITY_TIMEOUT_FACTOR = 3  # the unmutated run covers every mutant's tests at once
PROBE_MODULE = "_mutants_probe"
PROBE_OUT = ".mutants_probe.json"
# Inherited settings that could point pytest or imports elsewhere than the copy.
_SCRUBBED_ENV = ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "COVERAGE_PROCESS_START")
_SCRUBBED_ENV_PREFIXES = ("PYTEST_XDIST_", "COV_CORE_")
_PROBE_SOURCE = '''"""Written by scripts/mutants: record where every module was imported from."""

import json
import os
import sys


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("MUTANTS_PROBE_OUT")
    if out:
        files = {name: getattr(mod, "__file__", None) for name, mod in list(sys.modules.items())}
        with open(out, "w", encoding="utf-8") as handle:
            json.dump({name: path for name, path in files.items() if path}, handle)
'''

KILLED = "KILLED"
TIMEOUT = "TIMEOUT"
SURVIVED = "SURVIVED"
STALE = "STALE"
ERROR = "ERROR"
DEAD = (KILLED, TIMEOUT)


class CatalogueError(Exception):
    """The catalogue cannot be used (missing fields, duplicate ids, not loadable)."""


class StaleMutantError(Exception):
    """A mutant's `find` text does not occur exactly once in its file."""


class SanityError(Exception):
    """The targeted tests fail, or import the real tree, without any mutant."""


@dataclass(frozen=True)
class Entry:
    """One mutant, normalised from whatever the catalogue holds."""

    id: str
    rule: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    why: str = ""
    finding: int | None = None


@dataclass
class Result:
    """What happened to one mutant."""

    entry: Entry
    status: str
    seconds: float = 0.0
    detail: str = ""
    output: str = ""


@dataclass
class Settings:
    """How to run the gate; the defaults are this repository's."""

    source_root: Path = ROOT
    items: Sequence[str] = COPY_ITEMS
    pytest_args: Sequence[str] = PYTEST_ARGS
    timeout: float = DEFAULT_TIMEOUT_S
    jobs: int = 2
    env: Mapping[str, str] = field(default_factory=dict)
    echo: Callable[[str], None] = print


# ---- the catalogue -------------------------------------------------------------------


def normalise(raw: Any) -> Entry:
    """Turn a catalogue item (a Mutant, any object with its fields, or a dict) into an Entry."""

    def get(key: str, default: Any = None) -> Any:
        if isinstance(raw, Mapping):
            return raw.get(key, default)
        return getattr(raw, key, default)

    ident = get("id")
    if not isinstance(ident, str) or not ident:
        raise CatalogueError(f"a catalogue entry has no id: {raw!r}")
    for key in ("file", "find", "replace"):
        if not isinstance(get(key), str) or not get(key):
            raise CatalogueError(f"{ident}: `{key}` must be a non-empty string")
    tests = get("tests") or ()
    if isinstance(tests, str) or not all(isinstance(t, str) for t in tests) or not tests:
        raise CatalogueError(f"{ident}: `tests` must be a non-empty list of strings")
    if get("find") == get("replace"):
        raise CatalogueError(f"{ident}: `replace` is the same as `find`")
    finding = get("finding")
    if finding is not None and not isinstance(finding, int):
        raise CatalogueError(f"{ident}: `finding` must be an int or None")
    return Entry(
        id=ident,
        rule=str(get("rule", "") or ""),
        file=get("file"),
        find=get("find"),
        replace=get("replace"),
        tests=tuple(tests),
        why=str(get("why", "") or ""),
        finding=finding,
    )


def load_catalogue(path: Path) -> list[Entry]:
    """Load MUTANTS from a Python file; the repository root is importable from it."""
    path = Path(path).resolve()
    if not path.is_file():
        raise CatalogueError(f"no catalogue at {path}")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # so a held-out file may `from mutants.catalogue import`
    name = "_mutants_catalogue_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CatalogueError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise CatalogueError(f"{path}: {type(err).__name__}: {err}") from err
    raw = getattr(module, "MUTANTS", None)
    if raw is None:
        raise CatalogueError(f"{path} defines no MUTANTS")
    entries = [normalise(item) for item in raw]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise CatalogueError(f"duplicate mutant id {entry.id}")
        seen.add(entry.id)
    return entries


def select(entries: list[Entry], only: str | None) -> list[Entry]:
    """Keep the entries named in a comma-separated --only list, in catalogue order."""
    if not only:
        return entries
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    unknown = sorted(set(wanted) - {entry.id for entry in entries})
    if unknown:
        raise CatalogueError(f"unknown mutant id(s): {', '.join(unknown)}")
    return [entry for entry in entries if entry.id in wanted]


# ---- applying one mutant ---------------------------------------------------------------


def stale_reason(entry: Entry, root: Path) -> str | None:
    """Return why the entry cannot be applied under root, or None when it can."""
    path = root / entry.file
    if not path.is_file():
        return f"stale mutant: {entry.file} does not exist"
    count = path.read_text(encoding="utf-8").count(entry.find)
    if count == 1:
        return None
    where = "does not occur" if count == 0 else f"occurs {count} times"
    return f"stale mutant: its `find` text {where} in {entry.file} (must be exactly once)"


def apply(entry: Entry, root: Path) -> str:
    """Patch entry.file under root (a temporary copy!); return the original text."""
    reason = stale_reason(entry, root)
    if reason:
        raise StaleMutantError(f"{entry.id}: {reason}")
    path = root / entry.file
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(entry.find, entry.replace, 1), encoding="utf-8")
    return original


def restore(entry: Entry, root: Path, original: str) -> None:
    """Put the original text back and forget what the run left behind."""
    (root / entry.file).write_text(original, encoding="utf-8")
    for leftover in (root / ".hypothesis", root / PROBE_OUT):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        elif leftover.exists():
            leftover.unlink()


# ---- the temporary copies and pytest -------------------------------------------------


def make_copy(settings: Settings) -> Path:
    """Copy the layers under test to a new temporary folder with the import probe."""
    dest = Path(tempfile.mkdtemp(prefix="treadreverse-mutants-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for item in settings.items:
        src = settings.source_root / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / item)
        else:
            shutil.rmtree(dest, ignore_errors=True)
            raise SanityError(f"{src} does not exist: nothing to copy")
    (dest / f"{PROBE_MODULE}.py").write_text(_PROBE_SOURCE, encoding="utf-8")
    return dest


def child_env(copy: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """Return the environment of a pytest run inside a copy."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SCRUBBED_ENV and not key.startswith(_SCRUBBED_ENV_PREFIXES)
    }
    # No .pyc files: a restored file may keep the mutant's size and mtime second.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MUTANTS_PROBE_OUT"] = str(copy / PROBE_OUT)
    env.update(extra)
    return env


@dataclass
class Run:
    """One pytest process: its exit code (None on timeout), time, output and imports."""

    returncode: int | None
    seconds: float
    output: str
    modules: dict[str, str]


class Runner:
    """Start pytest processes and kill them all when asked (timeouts, Ctrl-C)."""

    def __init__(self) -> None:
        """Track nothing yet."""
        self._live: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self, copy: Path, tests: Sequence[str], settings: Settings, timeout: float) -> Run:
        """Run pytest on tests with cwd = copy, so the copy is what gets imported."""
        probe = copy / PROBE_OUT
        probe.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "pytest", *settings.pytest_args, "-p", PROBE_MODULE]
        cmd += tests
        start = time.monotonic()
        if self._stopping.is_set():
            raise InterruptedError("the gate is stopping")
        proc = subprocess.Popen(
            cmd,
            cwd=copy,
            env=child_env(copy, settings.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group: a timeout kills it all
        )
        with self._lock:
            self._live.add(proc)
            if self._stopping.is_set():  # kill_all ran while this one was starting
                _kill_group(proc)
        try:
            output, _ = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            output, _ = proc.communicate()
            code = None
        finally:
            with self._lock:
                self._live.discard(proc)
        modules: dict[str, str] = {}
        if probe.is_file():
            try:
                modules = json.loads(probe.read_text(encoding="utf-8"))
            except ValueError:
                modules = {}
        return Run(code, time.monotonic() - start, output, modules)

    def kill_all(self) -> None:
        """Kill every pytest still running (and its children); start no more."""
        with self._lock:
            self._stopping.set()
            live = list(self._live)
        for proc in live:
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def escaped_imports(run: Run, copy: Path, settings: Settings) -> list[str]:
    """Return the modules imported from the real tree's copied items instead of the copy."""
    real = [(settings.source_root / item).resolve() for item in settings.items]
    escaped = []
    for name, file in sorted(run.modules.items()):
        path = Path(file).resolve()
        if any(path == top or path.is_relative_to(top) for top in real):
            escaped.append(f"{name} ({file})")
    return escaped


def imported_from_copy(run: Run, copy: Path, relative: str) -> bool:
    """Tell whether the file was imported (from the copy) during the run."""
    target = (copy / relative).resolve()
    return any(Path(file).resolve() == target for file in run.modules.values())


_FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - |$)", re.MULTILINE)


def first_failure(output: str) -> str:
    """Return the first failing test id in pytest's short summary, if any."""
    match = _FAILED.search(output)
    return match.group(1) if match else ""


def tail(output: str, lines: int = 40) -> str:
    """Return the last lines of an output, indented."""
    return "\n".join("    " + line for line in output.rstrip().splitlines()[-lines:])


# ---- the gate ------------------------------------------------------------------------


def sanity_groups(entries: Iterable[Entry]) -> list[tuple[str, ...]]:
    """Group the targeted tests for the unmutated run.

    Plain test ids run together; a run with options (such as -k) runs apart, since an
    option applies to the whole run.
    """
    plain: list[str] = []
    apart: list[tuple[str, ...]] = []
    for entry in entries:
        if any(arg.startswith("-") for arg in entry.tests):
            if entry.tests not in apart:
                apart.append(entry.tests)
        else:
            plain += [arg for arg in entry.tests if arg not in plain]
    return ([tuple(plain)] if plain else []) + apart


def classify(entry: Entry, run: Run, copy: Path, settings: Settings) -> Result:
    """Turn a pytest run on a mutant into a verdict."""
    escaped = escaped_imports(run, copy, settings)
    if escaped:
        detail = "imports escaped the temporary copy: " + ", ".join(escaped[:3])
        return Result(entry, ERROR, run.seconds, detail, run.output)
    if run.returncode is None:
        return Result(entry, TIMEOUT, run.seconds, "timed out (counts as killed)", run.output)
    if run.returncode in (1, 2):
        failed = first_failure(run.output)
        detail = f"by {failed}" if failed else "tests failed or did not import"
        return Result(entry, KILLED, run.seconds, detail, run.output)
    if run.returncode == 0:
        detail = "the tests still pass"
        if (
            run.modules
            and entry.file.endswith(".py")
            and not imported_from_copy(run, copy, entry.file)
        ):
            detail = f"{entry.file} was never imported by these tests"
        return Result(entry, SURVIVED, run.seconds, detail, run.output)
    detail = f"pytest exit code {run.returncode} (4 = usage error, 5 = no tests collected)"
    return Result(entry, ERROR, run.seconds, detail, run.output)


def format_result(result: Result) -> str:
    """Return one report line."""
    line = f"{result.status:<8}  {result.entry.id:<44} {result.seconds:6.1f} s"
    return f"{line}  {result.detail}" if result.detail else line


class _Pool:
    """N workers, each with its own temporary copy, taking jobs from one queue."""

    def __init__(self, settings: Settings, runner: Runner, size: int) -> None:
        self.settings = settings
        self.runner = runner
        self.copies: list[Path] = []
        self.stopped = False
        for _ in range(max(1, size)):
            self.copies.append(make_copy(settings))

    def map(self, jobs: list[Any], work: Callable[[Path, Any], Any]) -> list[Any]:
        """Run work(copy, job) for every job; return the answers in job order."""
        todo: queue.Queue[tuple[int, Any]] = queue.Queue()
        for index, job in enumerate(jobs):
            todo.put((index, job))
        answers: list[Any] = [None] * len(jobs)
        failures: list[BaseException] = []

        def worker(copy: Path) -> None:
            while not failures and not self.stopped:
                try:
                    index, job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    answers[index] = work(copy, job)
                except BaseException as err:  # noqa: BLE001 - re-raised in the main thread
                    failures.append(err)

        threads = [
            threading.Thread(target=worker, args=(copy,), daemon=True) for copy in self.copies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return answers

    def close(self) -> None:
        """Take no more jobs and delete the copies."""
        self.stopped = True
        for copy in self.copies:
            shutil.rmtree(copy, ignore_errors=True)


def run_gate(entries: list[Entry], settings: Settings) -> list[Result]:
    """Check staleness, run the unmutated sanity runs, then every mutant; in entry order."""
    echo = settings.echo
    results: dict[str, Result] = {}
    runnable: list[Entry] = []
    for entry in entries:
        reason = stale_reason(entry, settings.source_root)
        if reason:
            results[entry.id] = Result(entry, STALE, detail=reason)
            echo(format_result(results[entry.id]))
        else:
            runnable.append(entry)
    if not runnable:
        return [results[entry.id] for entry in entries]

    runner = Runner()
    pool = _Pool(settings, runner, min(settings.jobs, len(runnable)))
    lock = threading.Lock()
    try:
        groups = sanity_groups(runnable)
        echo(f"unmutated run of the targeted tests ({len(groups)} pytest run(s)) ...")
        sanity_timeout = settings.timeout * SANITY_TIMEOUT_FACTOR

        def check(copy: Path, tests: tuple[str, ...]) -> None:
            run = runner.run(copy, tests, settings, sanity_timeout)
            escaped = escaped_imports(run, copy, settings)
            if escaped:
                raise SanityError(
                    "the tests imported the real tree instead of the temporary copy: "
                    + ", ".join(escaped[:5])
                )
            if not run.modules:
                raise SanityError(
                    "the import probe did not report; cannot prove the copy was tested\n"
                    + tail(run.output)
                )
            if run.returncode != 0:
                what = "timed out" if run.returncode is None else f"exit {run.returncode}"
                raise SanityError(
                    f"the targeted tests fail WITHOUT any mutant ({what}); fix them first, a "
                    f"mutant killed by failing tests proves nothing.\n  tests: {' '.join(tests)}"
                    f"\n{tail(run.output)}"
                )
            with lock:
                echo(f"  ok ({run.seconds:.1f} s): {' '.join(tests)}")

        pool.map(groups, check)

        def mutate(copy: Path, entry: Entry) -> Result:
            start = time.monotonic()
            try:
                original = apply(entry, copy)
            except StaleMutantError as err:
                result = Result(entry, STALE, detail=str(err))
            else:
                try:
                    run = runner.run(copy, entry.tests, settings, settings.timeout)
                finally:
                    restore(entry, copy, original)
                result = classify(entry, run, copy, settings)
                result.seconds = time.monotonic() - start
            with lock:
                echo(format_result(result))
                if result.status in (SURVIVED, ERROR):
                    echo(tail(result.output, 15))
            return result

        for result in pool.map(runnable, mutate):
            results[result.entry.id] = result
    finally:
        pool.stopped = True
        runner.kill_all()
        pool.close()
    return [results[entry.id] for entry in entries]


def score_line(results: list[Result]) -> str:
    """Return `mutants: N killed of M (score X %)`; timeouts count as killed."""
    killed = sum(result.status in DEAD for result in results)
    total = len(results)
    score = 100.0 * killed / total if total else 100.0
    line = f"mutants: {killed} killed of {total} (score {score:.0f} %)"
    others = {
        status: sum(r.status == status for r in results)
        for status in (TIMEOUT, SURVIVED, STALE, ERROR)
    }
    extra = ", ".join(f"{count} {status.lower()}" for status, count in others.items() if count)
    return f"{line}; {extra}" if extra else line


def markdown(results: Iterable[Result]) -> str:
    """Return the README table: id, rule, finding, tests, result."""
    rows = ["| Mutant | Rule | Finding | Tests | Result |", "|---|---|---|---|---|"]
    for result in results:
        entry = result.entry
        tests = "<br>".join(f"`{test}`" for test in entry.tests)
        finding = "" if entry.finding is None else str(entry.finding)
        rows.append(f"| `{entry.id}` | {entry.rule} | {finding} | {tests} | {result.status} |")
    return "\n".join(rows)


def listing(entries: list[Entry], root: Path) -> str:
    """Return the catalogue, one block per mutant, with its staleness."""
    lines = []
    for entry in entries:
        reason = stale_reason(entry, root)
        finding = f", finding {entry.finding}" if entry.finding is not None else ""
        lines.append(f"{entry.id}  (rule {entry.rule}{finding}){'  STALE' if reason else ''}")
        lines.append(f"    {entry.file}: {entry.why}")
        lines.append(f"    tests: {' '.join(entry.tests)}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/mutants", description="Every catalogued rule-breaking mutant must be killed."
    )
    parser.add_argument("--only", metavar="ID[,ID]", help="run only these mutants")
    parser.add_argument(
        "--catalogue", type=Path, default=DEFAULT_CATALOGUE, help="a Python file with MUTANTS"
    )
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per mutant (120)"
    )
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument(
        "--seed", type=int, default=0, help="Hypothesis seed, for reproducible runs (default 0)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gate from the command line; return the exit status."""
    args = parse_args(argv)
    try:
        entries = select(load_catalogue(args.catalogue), args.only)
    except CatalogueError as err:
        print(f"mutants: bad catalogue: {err}", file=sys.stderr)
        return 2
    if args.list:
        print(listing(entries, ROOT))
        if args.markdown:
            print()
            print(markdown(Result(entry, "-") for entry in entries))
        return 0
    settings = Settings(
        pytest_args=(*PYTEST_ARGS, f"--hypothesis-seed={args.seed}"),
        timeout=args.timeout,
        jobs=args.jobs,
    )
    start = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)  # a cancelled CI job cleans up like Ctrl-C
    print(f"mutants: {len(entries)} from {args.catalogue}, {args.jobs} job(s)", flush=True)
    try:
        results = run_gate(entries, _flushing(settings))
    except SanityError as err:
        print(f"mutants: STOPPED: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mutants: interrupted", file=sys.stderr)
        return 130
    if args.markdown:
        print()
        print(markdown(results))
        print()
    print(f"{score_line(results)} in {time.monotonic() - start:.0f} s")
    return 0 if all(result.status in DEAD for result in results) else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _flushing(settings: Settings) -> Settings:
    settings.echo = lambda text: print(text, flush=True)
    return settings


if __name__ == "__main__":
    sys.exit(main())
