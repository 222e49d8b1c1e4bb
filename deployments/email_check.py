"""Look at emails as a mail window shows them: 600 px wide, light and dark, in a headless Chromium.

    .venv/bin/python -m deployments.email_check .demo/mail [--screenshots DIR] [--width 600]

For each email (the HTML part of every ``.eml`` file in a folder, or HTML a test hands over) and
each mode — ``light``, ``dark`` (the reader's system prefers dark: our layout's dark colours)
and ``auto-dark`` (a mail app that drops the ``<style>`` block and darkens the light page by
itself, as the Gmail and Outlook apps do: Chromium's automatic dark mode) — it
checks that the message fits the width (nothing scrolls sideways but a table's own box, and
every table fits its box), measures the text contrast (WCAG: 4.5, or 3 for large text) in
light and dark, and keeps a full-height screenshot. Chromium is driven over the DevTools
protocol (``ui_check.Browser``): one browser for every email, so a dozen emails take seconds.
Needs Debian's ``chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from deployments.ui_check import Browser

MODES = ("light", "dark", "auto-dark")
# Beside ui_check's flags: nothing fetched in the background, no scrollbar taking width.
EXTRA_FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# Runs in the page: width, tables, and the contrast of every piece of text against the
# background actually behind it (translucent layers composited).
_MEASURE = """(() => {
  const root = document.documentElement, W = root.clientWidth;
  const rgba = s => { const m = /rgba?\\(([^)]+)\\)/.exec(s || ''); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const behind = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = out.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return out; };
  const lum = c => { const a = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const low = []; let min = null;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    const text = node.textContent.trim(); if (!text) continue;
    const el = node.parentElement, cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || !el.getClientRects().length) continue;
    const back = behind(el), fg = rgba(cs.color);
    const shown = fg.slice(0, 3).map((v, i) => v * fg[3] + back[i] * (1 - fg[3]));
    const r = ratio(shown, back), size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight) >= 700;
    const need = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
    min = min === null ? r : Math.min(min, r);
    if (r < need) low.push({text: text.slice(0, 60), ratio: Math.round(r * 100) / 100, need});
  }
  const header = document.querySelector('[data-role=header]');
  return {width: W, scroll_width: root.scrollWidth, height: root.scrollHeight,
          wide_tables: [...document.querySelectorAll('table[data-section]')]
            .filter(t => t.scrollWidth > t.parentElement.clientWidth + 0.5).map(t => t.dataset.section),
          min_contrast: min, low_contrast: low.slice(0, 10),
          header_background: header ? getComputedStyle(header).backgroundColor : null};
})()"""


class EmailCheck(BaseModel):
    """What one email looked like in one mode."""

    name: str
    mode: str
    width: int
    scroll_width: int
    wide_tables: list[str]
    min_contrast: float | None  # None in auto-dark: the browser's own darkening is not in the styles
    low_contrast: list[dict[str, Any]]
    header_background: str | None
    screenshot: str

    @property
    def fits(self) -> bool:
        return self.scroll_width <= self.width and not self.wide_tables

    @property
    def ok(self) -> bool:
        return self.fits and not self.low_contrast

    def problems(self) -> str:
        out = []
        if self.scroll_width > self.width:
            out.append(f"{self.scroll_width} px wide in a {self.width} px window")
        if self.wide_tables:
            out.append(f"tables wider than their box: {self.wide_tables}")
        if self.low_contrast:
            out.append(f"low contrast: {self.low_contrast}")
        return "; ".join(out)


def check_emails(emails: dict[str, str], out_dir: Path, width: int = 600,
                 modes: tuple[str, ...] = MODES) -> list[EmailCheck]:
    """Check every email (name → HTML) in every mode; the HTML and screenshots go to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    checks = []
    # Chromium darkens pages by itself only when started so (a launch setting).
    browsers = [(EXTRA_FLAGS, [m for m in modes if m != "auto-dark"]),
                ([*EXTRA_FLAGS, "--blink-settings=forceDarkModeEnabled=true"], [m for m in modes if m == "auto-dark"])]
    for flags, browser_modes in browsers:
        if not browser_modes:
            continue
        with Browser(extra_flags=flags) as browser:
            for name, html in emails.items():
                for mode in browser_modes:
                    checks.append(_check_one(browser, name, html, mode, out_dir, width))
    return sorted(checks, key=lambda c: (list(emails).index(c.name), MODES.index(c.mode)))


def _check_one(browser: Browser, name: str, html: str, mode: str, out_dir: Path, width: int) -> EmailCheck:
    page = out_dir / (f"{name}-auto-dark.html" if mode == "auto-dark" else f"{name}.html")
    page.write_text(_without_dark_support(html) if mode == "auto-dark" else html, encoding="utf-8")
    browser.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
    browser.send("Emulation.setEmulatedMedia", features=[
        {"name": "prefers-color-scheme", "value": "light" if mode == "light" else "dark"}])
    browser.goto(page.resolve().as_uri())
    measured = browser.evaluate(_MEASURE)
    shot = out_dir / f"{name}-{mode}.png"
    png = browser.send("Page.captureScreenshot", format="png", optimizeForSpeed=True, captureBeyondViewport=True,
                       clip={"x": 0, "y": 0, "width": width, "height": measured["height"], "scale": 1})
    shot.write_bytes(base64.b64decode(png["data"]))
    if mode == "auto-dark":  # the page's styles do not show the browser's own darkening
        measured.update(min_contrast=None, low_contrast=[])
    return EmailCheck(name=name, mode=mode, width=width, screenshot=str(shot),
                      **{k: v for k, v in measured.items() if k not in ("width", "height")})


def _without_dark_support(html: str) -> str:
    """The email as an app that ignores our dark-mode support sees it (it then darkens the page
    itself): no ``<style>`` block, no colour-scheme declaration."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r'<meta name="(supported-)?color-scheme"[^>]*>', "", html)


def html_of(eml: Path) -> str | None:
    """The HTML part of an ``.eml`` file, if it has one."""
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    part = message.get_body(("html",))
    return part.get_content() if part is not None else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mail_folder", type=Path, help="A folder of .eml files (e.g. .demo/mail).")
    parser.add_argument("--screenshots", type=Path, help="Where the screenshots go (default: <folder>/screenshots).")
    parser.add_argument("--width", type=int, default=600)
    args = parser.parse_args()
    emails = {p.stem: html for p in sorted(args.mail_folder.glob("*.eml")) if (html := html_of(p))}
    if not emails:
        print(f"no .eml file with an HTML part in {args.mail_folder}")
        return 1
    checks = check_emails(emails, args.screenshots or args.mail_folder / "screenshots", args.width)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name} ({c.mode}): {c.problems() or 'fits, readable'}  {c.screenshot}")
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
