"""Look at the Prefect UI as a person would: a headless Chromium opens the pages and we read them.

    .venv/bin/python -m deployments.ui_check [--ui http://127.0.0.1:4200] [--flow a1-to-a2 ...]
                                             [--artifact daily-report --expect "Daily report"]
                                             [--screenshots .demo/ui]

The UI is a JavaScript application, so plain HTTP would only see an empty shell: Chromium runs
it against the server's API and we read the rendered page. Checks that the Runs page lists a
run of each flow, and that the latest version of an artifact renders with the expected text.
Needs Debian's ``chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import httpx
from pydantic import BaseModel

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--virtual-time-budget=20000", "--window-size=1400,1200"]


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


def rendered_text(url: str, timeout: float = 90) -> str:
    """The text of ``url`` after its JavaScript ran (tags stripped, whitespace squeezed)."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("Chromium is not installed: apt-get install chromium")
    out = subprocess.run([binary, *CHROMIUM_FLAGS, "--dump-dom", url], capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"chromium could not open {url}: {out.stderr[-500:]}")
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", out.stdout)))


def screenshot(url: str, path: Path, timeout: float = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([chromium() or "chromium", *CHROMIUM_FLAGS, f"--screenshot={path}", url], capture_output=True,
                   timeout=timeout, check=True)


def check_page(page: str, url: str, expected: list[str], screenshots: Path | None = None,
               attempts: int = 4) -> PageCheck:
    """Open ``url`` until it shows every ``expected`` text (the UI fetches its data after it
    loads, which a busy machine can delay past Chromium's time budget), at most ``attempts``."""
    missing = expected
    for attempt in range(attempts):
        text = rendered_text(url)
        missing = [e for e in expected if e not in text]
        if not missing:
            break
        time.sleep(1 + attempt)
    shot = None
    if screenshots is not None:
        shot = str(screenshots / f"{page}.png")
        screenshot(url, Path(shot))
    return PageCheck(page=page, url=url, ok=not missing, missing=missing, screenshot=shot)


def check_ui(ui_url: str, flows: list[str], artifact_key: str | None = None, artifact_text: list[str] | None = None,
             screenshots: Path | None = None) -> list[PageCheck]:
    """The Runs page lists each of ``flows``; the latest ``artifact_key`` shows ``artifact_text``."""
    ui_url = ui_url.rstrip("/")
    checks = [check_page("runs", f"{ui_url}/runs", flows, screenshots)]
    if artifact_key:
        found = httpx.post(f"{ui_url}/api/artifacts/filter", timeout=30, json={
            "artifacts": {"key": {"any_": [artifact_key]}}, "sort": "CREATED_DESC", "limit": 1})
        found.raise_for_status()
        if not found.json():
            checks.append(PageCheck(page=f"artifact {artifact_key}", url="", ok=False, missing=[artifact_key]))
        else:
            url = f"{ui_url}/artifacts/artifact/{found.json()[0]['id']}"
            checks.append(check_page(f"artifact-{artifact_key}", url, artifact_text or [artifact_key], screenshots))
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ui", default="http://127.0.0.1:4200")
    parser.add_argument("--flow", action="append", default=[], help="A flow whose runs must be listed.")
    parser.add_argument("--artifact", default="daily-report")
    parser.add_argument("--expect", action="append", default=[], help="Text the artifact page must show.")
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    checks = check_ui(args.ui, args.flow or ["a1-to-a2", "daily-report"], args.artifact,
                      args.expect or ["Daily report", "total"], args.screenshots)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.page}: {c.url}" + (f" (missing {c.missing})" if c.missing else ""))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
