"""Browser end-to-end fixtures: a live server, Debian's Chromium, phone and desktop pages.

* ``app_server`` (not pytest-django's in-process ``live_server``): ``fairshare serve
  --no-outbox --workers 2`` on a free loopback port,
  on a fresh data folder with SQLite, migrated and seeded with 600 households
  (``fairshare seed_demo --households 600``); started once per session. It has its
  own SQLite file, whatever the pass's DATABASE_URL. They run once per CI run: the
  PostgreSQL pass of ``make test`` deselects them (they ran in the SQLite pass).
* ``browser``: ``/usr/bin/chromium`` driven by Playwright (never ``playwright install``),
  headless, no network side channels, a fresh profile per launch. Missing Chromium
  skips locally and FAILS in CI (``CI=true``).
* ``page`` (390×844, touch, like a phone) and ``desktop_page`` (1366×900): each test
  saves a screenshot to ``test-artifacts/e2e/<test>.png``; when the test fails, also
  the page HTML (``<test>.html``) and the browser console (``<test>.console.txt``).

A new flow is a test function taking ``page``/``desktop_page`` and ``app_server``:
``page.goto(app_server.url + "/r/...")``, fill, click, ``expect(...)``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.liveserver import LiveServer, prepare_data, server_env

CHROMIUM = os.environ.get("FAIRSHARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _is_e2e(item) -> bool:
    return "tests/e2e/" in str(item.fspath).replace(os.sep, "/")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    # The browser tests use their own SQLite live server: the PostgreSQL pass would only
    # repeat them, so they run once per CI run, in the SQLite pass.
    browser_tests = [item for item in items if _is_e2e(item)]
    if not browser_tests:
        return
    items[:] = [item for item in items if not _is_e2e(item)]
    config.hook.pytest_deselected(items=browser_tests)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    line = (
        f"tests/e2e: {len(browser_tests)} browser tests deselected in the PostgreSQL pass "
        "(they run in the SQLite pass of `make test`)"
    )
    if reporter is not None:
        reporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def app_server() -> Iterator[LiveServer]:
    data_dir = Path(tempfile.mkdtemp(prefix="fairshare-e2e-"))
    try:
        env = server_env(data_dir, "")
        prepare_data(env, households=600)
        with LiveServer(env, workers=2) as server:
            yield server
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (Debian packages chromium, chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI installs them in .ci/run")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # launch() gives every run a fresh temporary profile (user data dir) and removes it.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def _artifact_name(nodeid: str) -> str:
    name = nodeid.split("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _page(browser, request, **context_options) -> Iterator:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / _artifact_name(request.node.nodeid)
        try:
            page.screenshot(path=str(stem) + ".png", full_page=True)
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                Path(str(stem) + ".html").write_text(page.content(), encoding="utf-8")
                Path(str(stem) + ".console.txt").write_text("\n".join(console), encoding="utf-8")
        finally:
            context.close()


@pytest.fixture
def page(browser, request) -> Iterator:
    """A phone-sized page (390×844, touch), Chinese browser locale."""
    yield from _page(browser, request, viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def desktop_page(browser, request) -> Iterator:
    """A desktop-sized page (1366×900), Chinese browser locale."""
    yield from _page(browser, request, viewport=DESKTOP)
