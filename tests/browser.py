"""A real headless browser for the tests: Debian's Chromium driven by its ChromeDriver over the
W3C WebDriver protocol (JSON over HTTP on 127.0.0.1), with no client library in between.

Pages are opened at a given window width (a phone's 360 px is emulated: Chromium's own
headless window is at least 500 px wide), measured with JavaScript, and photographed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_browser() -> None:
    """Skip without Chromium and ChromeDriver, except under CI=true, where they must be."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser:
    def __init__(self, base: str, session: str) -> None:
        self.base, self.session = base, session

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/session/{self.session}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["value"]

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def run(self, script: str) -> Any:
        """The value of a JavaScript function body (``return ...``) in the page."""
        return self._call("POST", "/execute/sync", {"script": script, "args": []})

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """A PNG of the page, the whole height of it when ``full_page``."""
        if full_page:
            height = int(self.run("return document.documentElement.scrollHeight"))
            width = int(self.run("return window.innerWidth"))
            self._call(
                "POST",
                "/goog/cdp/execute",
                {
                    "cmd": "Emulation.setDeviceMetricsOverride",
                    "params": {
                        "width": width,
                        "height": min(height, 12000),
                        "deviceScaleFactor": 1,
                        "mobile": width < 500,
                    },
                },
            )
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))
        return path


@contextmanager
def browser(width: int = 1280, height: int = 900) -> Iterator[Browser]:
    """A headless Chromium whose page is ``width`` CSS pixels wide (a phone below 500)."""
    require_browser()
    port = _free_port()
    driver = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/status", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        options: dict[str, Any] = {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"],
        }
        if width < 500:
            options["mobileEmulation"] = {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}
            }
        else:
            options["args"].append(f"--window-size={width},{height}")
        request = urllib.request.Request(
            f"{base}/session",
            data=json.dumps(
                {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            session = json.loads(response.read())["value"]["sessionId"]
        page = Browser(base, session)
        try:
            yield page
        finally:
            with urllib.request.urlopen(
                urllib.request.Request(f"{base}/session/{session}", method="DELETE"), timeout=30
            ):
                pass
    finally:
        driver.terminate()
        driver.wait(timeout=30)
