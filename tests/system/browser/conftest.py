"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven through
Debian's headless Chromium by Playwright (which never downloads a browser of
its own here). Outside CI they skip when Chromium is missing; in CI (CI=true)
a missing browser fails them, so a green run always means they ran."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from silkqa.service.api.app import create_app
from tests.support.browser import DESKTOP
from tests.support.live import ThreadServer, start_thread
from tests.support.paths import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT_MS = 20_000
# The accessibility engine, from npm (tests/system/browser/package.json, pinned by
# its lock file; `.ci/run` runs `npm ci` there). Injected into the page under test
# only: the service never serves it.
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def _require_browser():
    """Playwright's sync API, or a skip (a failure in CI) saying what is missing."""
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        from playwright import sync_api
    except ImportError:
        missing = missing or "the playwright package is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    return sync_api


@pytest.fixture(scope="session")
def start_server() -> Iterator:
    """Serves an app for the rest of the session: ``start_server(app) -> ThreadServer``."""
    started: list[ThreadServer] = []

    def _start(app) -> ThreadServer:
        started.append(start_thread(app))
        return started[-1]

    yield _start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def live_server(start_server, runtime) -> ThreadServer:
    return start_server(create_app(runtime=runtime))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium per test module, with a fresh profile directory. Not per
    session: Playwright's sync API keeps an event loop running while it is
    open, and tests collected after the browser ones call asyncio.run()."""
    sync_api = _require_browser()
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
            locale="zh-CN",
            has_touch=True,  # phone tests tap; a mouse still hovers and clicks as on a desktop
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


@dataclass
class PageErrors:
    """JavaScript exceptions and console errors (a CSP violation is one). A test
    that provokes an error on purpose (a 401) lists a substring in ``allowed``."""

    messages: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(a in m for a in self.allowed)]


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def open_page(browser, page_errors):
    """Opens a page at a server's URL; the test fails if the page logged an error."""
    pages = []

    def _open(server: ThreadServer, width: int = 1280, height: int = 800, path: str = "/"):
        browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = browser.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.on("pageerror", lambda exc: page_errors.messages.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and page_errors.messages.append(f"console: {msg.text}"))
        page.goto(server.url + path)
        if path == "/" or path.startswith("/#"):
            page.wait_for_selector("body.ready")
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.close()
    assert not page_errors.unexpected()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's source; in CI a missing install fails, elsewhere it skips with the command to run."""
    if not AXE.exists():
        missing = f"axe-core is not installed: npm ci --prefix {AXE.parents[2].relative_to(ROOT)}"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return AXE.read_text(encoding="utf-8")
