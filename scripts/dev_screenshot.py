"""Screenshot a page of the development instance with headless Chromium (no extra packages).

  .venv/bin/python scripts/dev_screenshot.py [URL] [--out FILE] [--wait SECONDS]

Default URL http://127.0.0.1:8123/ (the Treadmill dashboard of scripts/develop). The
browser gets in through the trusted_networks provider (no password on 127.0.0.1).
Drives Chromium over the DevTools protocol with aiohttp: `--screenshot` with a
virtual time budget breaks the frontend's websocket ("Unable to connect").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """Return a free loopback port for the DevTools endpoint."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Page:
    """One DevTools page session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap the page's websocket."""
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call one DevTools method and return its result."""
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json(timeout=30)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))


async def page_ws(session: aiohttp.ClientSession, port: int) -> str:
    """Wait for the browser and return the websocket URL of its first page."""
    for _ in range(100):
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
                pages = [p for p in await resp.json() if p.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
        await asyncio.sleep(0.1)
    raise RuntimeError("Chromium did not open its DevTools endpoint")


async def shoot(url: str, out: str, wait: float, size: tuple[int, int]) -> None:
    """Open url, let it render for `wait` seconds, save a PNG."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("no chromium on PATH (apt-get install chromium)")
    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(  # noqa: ASYNC220 - the browser outlives no await
            [
                browser,
                *FLAGS,
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            async with aiohttp.ClientSession() as session:
                ws_url = await page_ws(session, port)
                async with session.ws_connect(ws_url, max_msg_size=0) as ws:
                    page = Page(ws)
                    await page.send(
                        "Emulation.setDeviceMetricsOverride",
                        width=size[0],
                        height=size[1],
                        deviceScaleFactor=1,
                        mobile=False,
                    )
                    start = time.monotonic()
                    await page.send("Page.navigate", url=url)
                    await asyncio.sleep(wait)
                    shot = await page.send("Page.captureScreenshot", format="png")
                    where = await page.send(
                        "Runtime.evaluate", expression="location.href", returnByValue=True
                    )
            await asyncio.to_thread(Path(out).write_bytes, base64.b64decode(shot["data"]))
            print(f"{out}: {where['result'].get('value')} after {time.monotonic() - start:.1f} s")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    """Parse the command line and take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8123/")
    parser.add_argument("--out", default="treadmill-dashboard.png")
    parser.add_argument("--wait", type=float, default=6.0, help="seconds to let the page render")
    parser.add_argument("--size", default="1280x900", help="WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    asyncio.run(shoot(args.url, args.out, args.wait, (width, height)))


if __name__ == "__main__":
    main()
