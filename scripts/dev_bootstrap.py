"""Prepare and bootstrap the development Home Assistant of scripts/develop.

  dev_bootstrap.py prepare           before `hass` starts: refresh .dev-config/ from config/
  dev_bootstrap.py up --pid PID      after it was started: wait for it, finish onboarding,
                                     add the simulated treadmill, build the dashboard

Everything talks to http://127.0.0.1:8123 only and needs no internet.
State kept in .dev-config/ (git-ignored): .storage/ (so the instance survives restarts),
.dev-token (a long-lived access token for scripts), .dev-bootstrap.json (what was done).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable
import contextlib
import json
import os
from pathlib import Path
import shutil
import signal
import sys
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "config"
# DEVELOP_CONFIG: another instance folder (.ci/run uses a fresh one per run).
CONFIG = Path(os.environ.get("DEVELOP_CONFIG") or ROOT / ".dev-config").resolve()
# The integration HA loads; another copy only to try these scripts against it.
COMPONENT = Path(
    os.environ.get("TREADREVERSE_COMPONENT", ROOT / "custom_components" / "treadreverse")
)
STORAGE = CONFIG / ".storage"
TOKEN_FILE = CONFIG / ".dev-token"
STATE_FILE = CONFIG / ".dev-bootstrap.json"
HOST = "127.0.0.1"
PORT = 8123
URL = f"http://{HOST}:{PORT}"
CLIENT_ID = f"{URL}/"
USER = "dev"
PASSWORD = "dev"  # the documented development login of a loopback-only instance
DOMAIN = "treadreverse"
DASHBOARD = "treadmill"
SPEAKER = "media_player.dev_speaker"
VOICE = "tts.dev_voice"
SIMULATED = {"name": "Simulated treadmill", "min_speed": 0.5, "max_speed": 12, "max_incline": 12}


def shown(path: Path) -> str:
    """Return path relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def log(message: str) -> None:
    """Print one progress line."""
    print(f"[develop] {message}", flush=True)


class BootstrapError(Exception):
    """Something the developer has to look at."""


# --------------------------------------------------------------------------- prepare


def write_store(key: str, version: int, minor_version: int, data: Any) -> None:
    """Write one .storage file the way HA's Store does (private, atomic)."""
    STORAGE.mkdir(parents=True, exist_ok=True)
    path = STORAGE / key
    tmp = path.with_suffix(".tmp")
    payload = {"version": version, "minor_version": minor_version, "key": key, "data": data}
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)


def http_store() -> dict[str, Any]:
    """Return the HTTP store that binds 127.0.0.1 only, built by HA's own schema."""
    from homeassistant.components.http import config as http_config  # heavy import

    stable = dict(http_config.HTTP_STORAGE_SCHEMA({"server_host": [HOST], "server_port": PORT}))
    stable |= {"created_at": "2026-01-01T00:00:00+00:00", "error": None, "error_message": None}
    return {
        "version": http_config.STORAGE_VERSION,
        "minor_version": http_config.STORAGE_MINOR_VERSION,
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }


def ensure_http_store() -> None:
    """Bind to loopback only, without `http:` in YAML (which would start a 5-minute trial)."""
    path = STORAGE / "http"
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
        data = json.loads(path.read_text())["data"]
        stable = data["stable"]
        if (
            data["pending"] is None
            and stable["server_host"] == [HOST]
            and stable["server_port"] == PORT
        ):
            return  # checked without importing HA (saves 2 s per start)
    wanted = http_store()
    log("writing .storage/http (server_host 127.0.0.1, port 8123)")
    write_store("http", wanted["version"], wanted["minor_version"], wanted["data"])


def ensure_onboarding_store() -> None:
    """Mark every onboarding step but the user as done on a new instance.

    The REST core_config step would start the onboarding integrations (met,
    radio_browser, google_translate, shopping_list): all need the internet or
    packages we do not install. The user step is still done over REST (`up`).
    """
    if (STORAGE / "onboarding").exists():
        return
    from homeassistant.components import onboarding

    log("new instance: pre-marking onboarding steps core_config, analytics, integration")
    done = [step for step in onboarding.STEPS if step != onboarding.STEP_USER]
    write_store("onboarding", onboarding.STORAGE_VERSION, 1, {"done": done})


def link(target: Path, link_path: Path) -> None:
    """Point link_path at target, replacing whatever was there."""
    if link_path.is_symlink() or link_path.is_file():
        link_path.unlink()
    elif link_path.is_dir():
        shutil.rmtree(link_path)
    link_path.symlink_to(target, target_is_directory=True)


def sync_config() -> None:
    """Refresh the YAML (and other files) from config/, keep .storage, link the code."""
    CONFIG.mkdir(exist_ok=True)
    copied = set()
    for path in SOURCE.iterdir():
        if path.name == "custom_components":
            continue
        dest = CONFIG / path.name
        if path.is_dir():
            shutil.copytree(path, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(path, dest)
        copied.add(path.name)
    # A YAML file removed from config/ must not linger in the running instance.
    for stale in CONFIG.glob("*.yaml"):
        if stale.name not in copied:
            stale.unlink()
    components = CONFIG / "custom_components"
    components.mkdir(exist_ok=True)
    link(COMPONENT.resolve(), components / DOMAIN)
    for helper in (SOURCE / "custom_components").iterdir():
        if helper.is_dir():
            link(helper, components / helper.name)


def prepare() -> None:
    """Everything that has to be on disk before `hass` starts."""
    sync_config()
    ensure_http_store()
    ensure_onboarding_store()


# --------------------------------------------------------------------------- checks


def listeners(port: int) -> list[str]:
    """Return the local addresses of the TCP sockets listening on port (IPv4 and IPv6)."""
    found = []
    for name, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(name).read_text().splitlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].split(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:
                    found.append(decode_address(address, width))
    return found


def decode_address(address: str, width: int) -> str:
    """Turn /proc/net/tcp's little-endian hex address into text."""
    import ipaddress

    raw = bytes.fromhex(address)
    if width == 8:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def assert_loopback_only() -> None:
    """Fail when anything listens on port 8123 on an address other than loopback."""
    addresses = listeners(PORT)
    exposed = [a for a in addresses if a not in {"127.0.0.1", "::1"}]
    if exposed or not addresses:
        raise BootstrapError(f"port {PORT} listens on {addresses or 'nothing'}, want 127.0.0.1")


def pid_alive(pid: int) -> bool:
    """Return whether the process exists (and is not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


# --------------------------------------------------------------------------- up


class HA:
    """A small REST + websocket client of the development instance."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        """Start without a token."""
        self.session = session
        self.token: str | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.next_id = 1

    def headers(self) -> dict[str, str]:
        """Return the bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    async def rest(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the REST API; return status and decoded JSON (or text)."""
        async with self.session.request(
            method, URL + path, json=body, headers=self.headers() if self.token else None
        ) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text) if text else None
            except ValueError:
                return resp.status, text

    async def token_from_code(self, code: str) -> str:
        """Trade an authorization code for an access token."""
        form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID}
        async with self.session.post(f"{URL}/auth/token", data=form) as resp:
            if resp.status != 200:
                raise BootstrapError(f"/auth/token: {resp.status} {await resp.text()}")
            return str((await resp.json())["access_token"])

    async def login(self) -> str:
        """Log in as dev/dev through the login flow; return an access token."""
        redirect = f"{URL}/?auth_callback=1"
        status, flow = await self.rest(
            "POST",
            "/auth/login_flow",
            {"client_id": CLIENT_ID, "handler": ["homeassistant", None], "redirect_uri": redirect},
        )
        if status != 200:
            raise BootstrapError(f"login flow: {status} {flow}")
        status, result = await self.rest(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": CLIENT_ID, "username": USER, "password": PASSWORD},
        )
        if status != 200 or result.get("type") != "create_entry":
            raise BootstrapError(f"login as {USER}/{PASSWORD} failed: {status} {result}")
        return await self.token_from_code(result["result"])

    async def connect(self) -> None:
        """Open the websocket and authenticate."""
        self.ws = await self.session.ws_connect(f"{URL}/api/websocket")
        await self.ws.receive_json()  # auth_required
        await self.ws.send_json({"type": "auth", "access_token": self.token})
        reply = await self.ws.receive_json()
        if reply.get("type") != "auth_ok":
            raise BootstrapError(f"websocket auth: {reply}")

    async def call(self, msg_type: str, **data: Any) -> Any:
        """Send one websocket command and return its result."""
        assert self.ws is not None
        msg_id = self.next_id
        self.next_id += 1
        await self.ws.send_json({"id": msg_id, "type": msg_type, **data})
        while True:
            reply = await self.ws.receive_json(timeout=30)
            if reply.get("id") == msg_id and reply.get("type") == "result":
                break
        if not reply["success"]:
            raise BootstrapError(f"{msg_type}: {reply['error']}")
        return reply.get("result")


def load_state() -> dict[str, Any]:
    """Return what earlier starts did."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        return dict(json.loads(STATE_FILE.read_text()))
    return {}


def save_state(state: dict[str, Any]) -> None:
    """Remember what was done."""
    STATE_FILE.write_text(json.dumps(state, indent=2))


async def wait_for_http(session: aiohttp.ClientSession, pid: int, limit: float) -> float:
    """Wait until GET / answers 200 (or a redirect); return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if not pid_alive(pid):
            raise BootstrapError(f"hass (pid {pid}) exited during start-up: see the log above")
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(
                f"{URL}/", allow_redirects=False, timeout=aiohttp.ClientTimeout(total=5)
            ) as resp:
                if resp.status in {200, 302}:
                    return time.monotonic() - start
        await asyncio.sleep(0.25)
    raise BootstrapError(f"no answer on {URL} after {limit:.0f} s")


async def wait_running(ha: HA) -> str:
    """Wait until HA finished starting (stage 2 sets up the config entries after HTTP)."""
    for _ in range(240):
        status, config = await ha.rest("GET", "/api/config")
        if status == 200 and config.get("state") == "RUNNING":
            return str(config.get("version"))
        await asyncio.sleep(0.25)
    log("WARNING: Home Assistant is still not RUNNING after 60 s; going on")
    return "?"


async def authenticate(ha: HA) -> None:
    """Finish onboarding if needed and get a working token."""
    status, steps = await ha.rest("GET", "/api/onboarding")
    user_done = status != 200 or any(s["step"] == "user" and s["done"] for s in steps)
    if not user_done:
        log(f"onboarding: creating the owner {USER!r} (password {PASSWORD!r})")
        status, result = await ha.rest(
            "POST",
            "/api/onboarding/users",
            {
                "name": "Dev",
                "username": USER,
                "password": PASSWORD,
                "client_id": CLIENT_ID,
                "language": "en",
            },
        )
        if status != 200:
            raise BootstrapError(f"onboarding user: {status} {result}")
        ha.token = await ha.token_from_code(result["auth_code"])
        return
    with contextlib.suppress(FileNotFoundError):
        ha.token = TOKEN_FILE.read_text().strip()
        status, _ = await ha.rest("GET", "/api/")
        if status == 200:
            return
        log(".dev-token is not valid for this instance: logging in again")
    ha.token = await ha.login()


async def ensure_long_lived_token(ha: HA) -> None:
    """Store a long-lived token for scripts in .dev-config/.dev-token."""
    if TOKEN_FILE.exists() and TOKEN_FILE.read_text().strip() == ha.token:
        return
    token = await ha.call(
        "auth/long_lived_access_token",
        client_name=f"treadreverse dev scripts {time.strftime('%Y-%m-%d %H:%M:%S')}",
        lifespan=3650,
    )
    TOKEN_FILE.write_text(token + "\n")
    TOKEN_FILE.chmod(0o600)
    ha.token = token
    log(f"long-lived access token stored in {shown(TOKEN_FILE)}")


async def step_flow(ha: HA, base: str, flow: dict[str, Any], body: dict[str, Any]) -> Any:
    """Post one step of a data entry flow."""
    status, result = await ha.rest("POST", f"{base}/{flow['flow_id']}", body)
    if status != 200:
        raise BootstrapError(f"{base} step {flow.get('step_id')}: {status} {result}")
    return result


async def ensure_treadmill(ha: HA) -> dict[str, Any]:
    """Create the simulated treadmill unless a treadreverse entry exists; return the entry."""
    if await config_entries(ha):
        return await settled_entry(ha)
    log("adding the simulated treadmill through the config flow")
    base = "/api/config/config_entries/flow"
    status, flow = await ha.rest("POST", base, {"handler": DOMAIN, "show_advanced_options": True})
    if status != 200:
        raise BootstrapError(f"config flow start: {status} {flow}")
    if flow["type"] == "menu":
        flow = await step_flow(ha, base, flow, {"next_step_id": "simulated"})
    if flow["type"] == "form":
        flow = await step_flow(ha, base, flow, SIMULATED)
    if flow["type"] != "create_entry":
        raise BootstrapError(f"config flow ended with {flow}")
    return await settled_entry(ha)


async def settled_entry(ha: HA) -> dict[str, Any]:
    """Return the treadreverse entry once it is no longer (re)loading (at most 30 s)."""
    entries: list[dict[str, Any]] = []
    for _ in range(120):
        entries = await config_entries(ha)
        if entries and entries[0]["state"] not in {"not_loaded", "setup_in_progress"}:
            break
        await asyncio.sleep(0.25)
    if not entries:
        raise BootstrapError("the treadreverse config entry disappeared")
    return entries[0]


async def config_entries(ha: HA, domain: str = DOMAIN) -> list[dict[str, Any]]:
    """Return the config entries of one domain."""
    status, entries = await ha.rest("GET", f"/api/config/config_entries/entry?domain={domain}")
    if status != 200:
        raise BootstrapError(f"config entries: {status} {entries}")
    return list(entries)


def options_answer(flow: dict[str, Any]) -> dict[str, Any]:
    """Fill an options form: our speaker and voice, the form's own defaults for the rest."""
    answer: dict[str, Any] = {}
    for field in flow.get("data_schema") or []:
        name = field["name"]
        if name == "speakers":
            answer[name] = [SPEAKER]
        elif name == "tts_engine":
            answer[name] = VOICE
        elif "default" in field:
            answer[name] = field["default"]
        elif (field.get("description") or {}).get("suggested_value") is not None:
            answer[name] = field["description"]["suggested_value"]
    return answer


async def ensure_options(ha: HA, entry: dict[str, Any], state: dict[str, Any]) -> None:
    """Point the coach at the dev speaker and voice, once, if there is an options flow."""
    if state.get("options_set") == entry["entry_id"]:
        return
    if not entry.get("supports_options"):
        log("treadreverse has no options flow (yet): speakers/tts_engine not set")
        return
    base = "/api/config/config_entries/options/flow"
    status, flow = await ha.rest("POST", base, {"handler": entry["entry_id"]})
    if status != 200:
        log(f"options flow not available ({status} {flow}): skipped")
        return
    if flow["type"] == "menu":
        flow = await options_menu(ha, base, flow)
        if flow is None:
            return
    if flow["type"] == "form":
        answer = options_answer(flow)
        if "speakers" not in answer:
            log(f"options form {flow['step_id']!r} has no 'speakers' field: skipped")
            await ha.rest("DELETE", f"{base}/{flow['flow_id']}")
            return
        flow = await step_flow(ha, base, flow, answer)
        if flow["type"] == "form" and flow.get("errors"):
            raise BootstrapError(f"options rejected: {flow['errors']} (sent {answer})")
    if flow["type"] != "create_entry":
        log(f"options flow ended with {flow['type']}: {flow.get('reason') or flow}")
        return
    log(f"options set: speakers [{SPEAKER}], tts_engine {VOICE}")
    state["options_set"] = entry["entry_id"]


async def options_menu(ha: HA, base: str, flow: dict[str, Any]) -> dict[str, Any] | None:
    """Find the menu option whose form has the 'speakers' field; return that form."""
    options = flow["menu_options"]
    names = options if isinstance(options, list) else list(options)
    for option in names:
        form = await step_flow(ha, base, flow, {"next_step_id": option})
        if form["type"] == "form" and any(f["name"] == "speakers" for f in form["data_schema"]):
            return dict(form)
        await ha.rest("DELETE", f"{base}/{form['flow_id']}")
        status, flow = await ha.rest("POST", base, {"handler": flow["handler"]})
        if status != 200:
            break
    log(f"no options menu entry ({names}) has a 'speakers' field: skipped")
    await ha.rest("DELETE", f"{base}/{flow['flow_id']}")
    return None


# --------------------------------------------------------------------------- dashboard

CONTROL_DOMAINS = ("select", "button", "number", "switch", "text", "time", "light", "fan")
SENSOR_DOMAINS = ("sensor", "binary_sensor")


def rows(entities: Iterable[dict[str, Any]]) -> list[Any]:
    """Return entities card rows in registry (= creation) order, named without the device."""
    result: list[Any] = []
    for entity in entities:
        name = entity.get("name") or (
            entity.get("original_name") if entity.get("has_entity_name") else None
        )
        result.append(
            {"entity": entity["entity_id"], "name": name} if name else entity["entity_id"]
        )
    return result


def history_entities(entities: list[dict[str, Any]]) -> list[str]:
    """Pick the speed and direction entities (by id or translation key) for a history graph."""
    picked = []
    for key in ("speed", "direction"):
        picked += [
            e["entity_id"]
            for e in entities
            if e["entity_id"].split(".")[0] in {"sensor", "select", "binary_sensor"}
            and key in f"{e['entity_id']} {e.get('translation_key') or ''}"
            and e["entity_id"] not in picked
        ]
    return picked


def build_dashboard(entry: dict[str, Any], entities: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the Treadmill dashboard from the entities the entry has right now."""
    by_domain: dict[str, list[dict[str, Any]]] = {}
    diagnostics = []
    for entity in entities:
        if entity.get("entity_category") == "diagnostic":
            diagnostics.append(entity)
        else:
            by_domain.setdefault(entity["entity_id"].split(".")[0], []).append(entity)
    cards: list[dict[str, Any]] = [
        {
            "type": "markdown",
            "title": entry["title"],
            "content": (
                f"Config entry **{entry['state']}**, {len(entities)} entities "
                "(this dashboard is rebuilt from them on every `scripts/develop`).\n\n"
                "Coach audio goes to **Dev speaker** and **Dev voice** below "
                "(offline: nothing is played, the text shows up here and in the log)."
            ),
        }
    ]
    controls = [e for d in CONTROL_DOMAINS for e in by_domain.pop(d, [])]
    if controls:
        cards.append(
            {
                "type": "entities",
                "title": "Controls",
                "show_header_toggle": False,
                "entities": rows(controls),
            }
        )
    sensors = [e for d in SENSOR_DOMAINS for e in by_domain.pop(d, [])]
    if sensors:
        cards.append({"type": "entities", "title": "Sensors", "entities": rows(sensors)})
    cards += [{"type": "tile", "entity": e["entity_id"]} for e in by_domain.pop("event", [])]
    if history := history_entities(entities):
        cards.append(
            {
                "type": "history-graph",
                "title": "Speed and direction",
                "hours_to_show": 1,
                "entities": history,
            }
        )
    others = [e for d in sorted(by_domain) for e in by_domain[d]]
    if others:
        cards.append({"type": "entities", "title": "Other", "entities": rows(others)})
    if diagnostics:
        cards.append({"type": "entities", "title": "Diagnostics", "entities": rows(diagnostics)})
    if not entities:
        cards.append(
            {
                "type": "markdown",
                "title": "No entities yet",
                "content": "The treadreverse entry has no entities yet; restart "
                "`scripts/develop` once it has some.",
            }
        )
    cards.append(
        {
            "type": "entities",
            "title": "Coach audio (offline)",
            "entities": [
                SPEAKER,
                {
                    "type": "attribute",
                    "entity": SPEAKER,
                    "attribute": "media_title",
                    "name": "Last played",
                },
                {
                    "type": "attribute",
                    "entity": VOICE,
                    "attribute": "last_message",
                    "name": "Last spoken",
                },
            ],
        }
    )
    return {
        "title": "Treadmill",
        "views": [{"title": "Treadmill", "icon": "mdi:run", "cards": cards}],
    }


async def ensure_dashboard(ha: HA, entry: dict[str, Any]) -> int:
    """Create (once) and rebuild (always) the Treadmill dashboard; make it the default."""
    registry = await ha.call("config/entity_registry/list")
    entities = [
        e
        for e in registry
        if e["platform"] == DOMAIN
        and e.get("config_entry_id") == entry["entry_id"]
        and not e.get("disabled_by")
    ]
    dashboards = await ha.call("lovelace/dashboards/list")
    if not any(d["url_path"] == DASHBOARD for d in dashboards):
        await ha.call(
            "lovelace/dashboards/create",
            url_path=DASHBOARD,
            title="Treadmill",
            icon="mdi:run",
            show_in_sidebar=True,
            require_admin=False,
            allow_single_word=True,
        )
    await ha.call(
        "lovelace/config/save", url_path=DASHBOARD, config=build_dashboard(entry, entities)
    )
    core = await ha.call("frontend/get_system_data", key="core")
    value = dict((core or {}).get("value") or {})
    if value.get("default_panel") != DASHBOARD:
        await ha.call(
            "frontend/set_system_data", key="core", value=value | {"default_panel": DASHBOARD}
        )
    return len(entities)


def banner(entry: dict[str, Any], n_entities: int, seconds: float, version: str) -> None:
    """Tell the developer where to go."""
    lines = [
        "",
        "=" * 72,
        f"  Home Assistant {version} is up (HTTP after {seconds:.1f} s), on 127.0.0.1 only",
        f"  Open:      {URL}/{DASHBOARD}/0   (also the default page: {URL}/)",
        "  Login:     none needed from this machine (trusted network);",
        f"             otherwise user {USER!r}, password {PASSWORD!r}",
        f"  Treadmill: {entry['title']} ({entry['state']}, {n_entities} entities)",
        f"  Token:     {shown(TOKEN_FILE)} (long-lived, for scripts and curl)",
        "  Try:       press the treadmill's controls on the dashboard; coach audio",
        "             shows up as 'Last spoken' (Dev voice) and in this log",
        "  Code:      edit custom_components/treadreverse, then Ctrl-C and rerun",
        "  Stop:      Ctrl-C",
        "=" * 72,
        "",
    ]
    print("\n".join(lines), flush=True)


async def up(pid: int, limit: float) -> None:
    """Bootstrap the running instance."""
    async with aiohttp.ClientSession() as session:
        seconds = await wait_for_http(session, pid, limit)
        assert_loopback_only()
        ha = HA(session)
        await authenticate(ha)
        version = await wait_running(ha)
        await ha.connect()
        await ensure_long_lived_token(ha)
        state = load_state()
        entry = await ensure_treadmill(ha)
        if entry["state"] != "loaded":
            log(f"WARNING: the treadreverse entry is {entry['state']}: {entry.get('reason')}")
        await ensure_options(ha, entry, state)
        save_state(state)
        entry = await settled_entry(ha)
        n_entities = await ensure_dashboard(ha, entry)
        assert ha.ws is not None
        await ha.ws.close()
        banner(entry, n_entities, seconds, version)


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare")
    up_parser = sub.add_parser("up")
    up_parser.add_argument("--pid", type=int, required=True, help="the hass process")
    up_parser.add_argument("--timeout", type=float, default=180.0)
    sub.add_parser("check-loopback")
    sub.add_parser("port-free", help="exit 0 when nothing listens on 8123")
    args = parser.parse_args()
    # scripts/develop stops a running bootstrap with SIGTERM: leave quietly.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    try:
        if args.command == "prepare":
            prepare()
        elif args.command == "check-loopback":
            assert_loopback_only()
        elif args.command == "port-free":
            return 1 if listeners(PORT) else 0
        else:
            asyncio.run(up(args.pid, args.timeout))
    except BootstrapError as err:
        print(f"[develop] ERROR: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
