"""Look at the Prefect UI as a person would: a headless Chromium opens the pages and we read them.

    .venv/bin/python -m deployments.ui_check [--ui http://127.0.0.1:4200] [--flow a1-to-a2 ...]
                                             [--artifact daily-report --expect "Daily report"]
                                             [--screenshots .demo/ui]

The UI is a JavaScript application, so plain HTTP would only see an empty shell: Chromium runs
it against the server's API and we read the rendered page, driving the browser over the Chrome
DevTools protocol (one browser for every page). When the server asks for API authentication
(``PREFECT_SERVER_API_AUTH_STRING``: its ``/ui-settings`` say ``"auth": "BASIC"``), the UI shows
its login form; we type ``PREFECT_API_AUTH_STRING`` into it and press Enter, as a person does
(the UI then keeps it in the browser's local storage and sends it with every API call).
Checks that the Runs page lists a run of each flow, and that the latest version of an artifact
renders with the expected text. Needs Debian's ``chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from deployments.api_access import api_errors_as_messages, auth_headers, auth_string, check_api_access

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--no-default-browser-check", "--window-size=1400,1200", "--remote-debugging-port=0"]
PASSWORD_INPUT = "document.querySelector('input[type=password]')"
LOGIN_REFUSED = ["Invalid credentials", "Authentication failed"]  # what the UI's login form says
NO_ACCESS = "No access"


class PageCheck(BaseModel):
    """What one page showed."""

    page: str
    url: str
    ok: bool
    missing: list[str]
    screenshot: str | None = None


def chromium() -> str | None:
    """Path of the Chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class Browser:
    """One headless Chromium page, driven over the DevTools protocol (a websocket)."""

    def __init__(self, timeout: float = 60, extra_flags: list[str] | None = None) -> None:
        self.timeout = timeout
        self.extra_flags = extra_flags or []  # e.g. the email check's forced dark mode
        self._ids = itertools.count(1)

    def __enter__(self) -> Browser:
        from websockets.sync.client import connect

        binary = chromium()
        if binary is None:
            raise RuntimeError("Chromium is not installed: apt-get install chromium")
        # Chromium's helper processes can outlive the main one for a moment and still write to
        # the profile: the whole process group is stopped, and a late write never fails the check.
        self._profile = tempfile.TemporaryDirectory(prefix="cs-ui-check-", ignore_cleanup_errors=True)
        profile = Path(self._profile.name)
        self._proc = subprocess.Popen([binary, *CHROMIUM_FLAGS, *self.extra_flags, f"--user-data-dir={profile}",
                                       "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = profile / "DevToolsActivePort"  # Chromium writes its debugging port there
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__()
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json() if t["type"] == "page"]
        self._ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=self.timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        if getattr(self, "_ws", None) is not None:
            self._ws.close()
        _signal_group(self._proc, signal.SIGTERM)
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            _signal_group(self._proc, signal.SIGKILL)
            self._proc.wait(10)
        _signal_group(self._proc, signal.SIGKILL)  # helpers still alive after the main process
        self._profile.cleanup()

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events arriving meanwhile are skipped)."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=self.timeout))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"Chromium {method}: {message['error'].get('message')}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None) -> bool:
        """Poll ``expression`` in the page until it is truthy (the UI fetches its data after it loads)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.25)
        return False

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def type_text(self, text: str) -> None:
        """Type into the focused element (key events a person's typing makes, not a value set from outside)."""
        self.send("Input.insertText", text=text)

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13,
                      **({"text": "\r"} if kind == "keyDown" else {}))

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))


def log_in(browser: Browser, ui_url: str, credential: str | None) -> PageCheck:
    """Pass the UI's login form when the server asks for API authentication (else nothing to do)."""
    settings = httpx.get(f"{ui_url}/ui-settings", timeout=30)
    settings.raise_for_status()
    if settings.json().get("auth") != "BASIC":
        return PageCheck(page="login", url=ui_url, ok=True, missing=[])
    if not credential:
        return PageCheck(page="login", url=ui_url, ok=False,
                         missing=["the UI asks for a login: set PREFECT_API_AUTH_STRING"])
    browser.goto(ui_url + "/")
    if not browser.wait_for(f"!!{PASSWORD_INPUT}"):
        return PageCheck(page="login", url=ui_url, ok=False, missing=["the UI's login form"])
    browser.evaluate(f"{PASSWORD_INPUT}.focus()")
    browser.type_text(credential)
    browser.press_enter()
    # Logged in: the form is gone and the UI keeps the credential for its API calls; refused: it
    # says so (and stays on the form).
    logged_in = f"!{PASSWORD_INPUT} && !!localStorage.getItem('prefect-password')"
    refused = " || ".join(f"document.body.innerText.includes({json.dumps(t)})" for t in LOGIN_REFUSED)
    browser.wait_for(f"({logged_in}) || {refused}")
    ok = bool(browser.evaluate(logged_in))
    return PageCheck(page="login", url=ui_url, ok=ok,
                     missing=[] if ok else ["a login: the UI's form refused PREFECT_API_AUTH_STRING"])


def check_page(browser: Browser, page: str, url: str, expected: list[str], screenshots: Path | None = None,
               timeout: float = 60) -> PageCheck:
    """Open ``url`` and wait until it shows every ``expected`` text (at most ``timeout`` seconds)."""
    browser.goto(url)
    condition = " && ".join(f"document.body.innerText.includes({json.dumps(e)})" for e in expected) or "true"
    browser.wait_for(f"!!document.body && {condition}", timeout)
    # Parts of a page (a run's work pool, deployment) say "No access" until their own data
    # arrives: give them a moment, so the screenshot shows what a person sees.
    browser.wait_for(f"!document.body.innerText.includes({json.dumps(NO_ACCESS)})", 30)
    text = browser.text()
    missing = [e for e in expected if e not in text]
    if browser.evaluate(f"!!{PASSWORD_INPUT}"):
        missing.append("(the UI shows its login form)")
    shot = None
    if screenshots is not None:
        shot = str(screenshots / f"{page}.png")
        browser.screenshot(Path(shot))
    return PageCheck(page=page, url=url, ok=not missing, missing=missing, screenshot=shot)


def check_ui(ui_url: str, flows: list[str], artifact_key: str | None = None, artifact_text: list[str] | None = None,
             screenshots: Path | None = None) -> list[PageCheck]:
    """The Runs page lists each of ``flows``; the latest ``artifact_key`` shows ``artifact_text``
    (after the login form when the server asks for API authentication)."""
    ui_url = ui_url.rstrip("/")
    with Browser() as browser:
        login = log_in(browser, ui_url, auth_string())
        if not login.ok:
            return [login]
        checks = [check_page(browser, "runs", f"{ui_url}/runs", flows, screenshots)]
        if artifact_key:
            found = httpx.post(f"{ui_url}/api/artifacts/filter", timeout=30, headers=auth_headers(), json={
                "artifacts": {"key": {"any_": [artifact_key]}}, "sort": "CREATED_DESC", "limit": 1})
            found.raise_for_status()
            if not found.json():
                checks.append(PageCheck(page=f"artifact {artifact_key}", url="", ok=False, missing=[artifact_key]))
            else:
                url = f"{ui_url}/artifacts/artifact/{found.json()[0]['id']}"
                checks.append(check_page(browser, f"artifact-{artifact_key}", url, artifact_text or [artifact_key],
                                         screenshots))
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ui", default="http://127.0.0.1:4200")
    parser.add_argument("--flow", action="append", default=[], help="A flow whose runs must be listed.")
    parser.add_argument("--artifact", default="daily-report")
    parser.add_argument("--expect", action="append", default=[], help="Text the artifact page must show.")
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    with api_errors_as_messages():
        check_api_access(args.ui.rstrip("/") + "/api")  # a missing or wrong credential: one line, no browser
        checks = check_ui(args.ui, args.flow or ["a1-to-a2", "daily-report"], args.artifact,
                          args.expect or ["Daily report", "total"], args.screenshots)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.page}: {c.url}" + (f" (missing {c.missing})" if c.missing else ""))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
