"""Pages as a person sees them: Debian's headless Chromium, driven by Playwright.

``open_page(browser, path)`` loads a local file and collects every console error, uncaught
exception and dialog (``alert`` and the like): a test asserts on what is visible and then
that ``problems`` is empty, so any script a student's text could inject fails it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (no network needed: every page under test is self-contained)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(
    browser: Any, path: Path, *, width: int = 1200, height: int = 900
) -> Iterator[tuple[Any, list[str]]]:
    """``(page, problems)`` for a local HTML file; requests that leave the file are blocked
    and reported too (a self-contained page makes none)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            problems.append(f"request: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(path.resolve().as_uri())
        yield page, problems
    finally:
        context.close()
