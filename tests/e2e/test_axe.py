"""axe-core (vendored, pinned) on the pages of the access matrix, phone and desktop size.

Pages checked: every GET page of the matrix without path parameters, at phone and
desktop size; staff ones logged in as a demo user of the role. Tags wcag2a, wcag2aa,
wcag21aa, wcag22aa; no rule disabled; any
serious or critical violation fails, listed as rule id, target and page.
"""

from __future__ import annotations

import re

import pytest

from tests.accounts.access_registry import registry

AXE_URL = "/static/vendor/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
HTML = re.compile(r"^text/html\b")


def _public_pages() -> list[str]:
    paths = []
    for (method, path), access in registry().items():
        if method == "GET" and not path.startswith("/api/") and "<" not in path and access.public:
            paths.append(path)
    return sorted(paths)


def _violations(page, base: str, url: str, spoil: str = "") -> list[str]:
    response = page.goto(url)
    if response is None or not HTML.match(response.headers.get("content-type", "")):
        return []
    if spoil:
        page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", spoil)
    page.add_script_tag(url=base + AXE_URL)  # the page CSP only allows same-origin scripts
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    found = []
    for rule in result["violations"]:
        if rule["impact"] in ("serious", "critical"):
            for node in rule["nodes"]:
                found.append(f"{url}: {rule['id']} ({rule['impact']}) at {node['target']}")
    return found


def test_axe_reports_an_image_without_text(page, app_server):
    """Negative control: the check does find a critical violation when there is one."""
    clean = _violations(page, app_server.url, app_server.url + "/")
    spoiled = _violations(page, app_server.url, app_server.url + "/", spoil='<img src="/x.png">')
    assert "/" in _public_pages()
    assert not any("image-alt" in v for v in clean)
    assert any("image-alt (critical)" in v for v in spoiled)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_public_pages_have_no_serious_axe_violations(size, request, app_server):
    page = request.getfixturevalue("page" if size == "phone" else "desktop_page")
    found: list[str] = []
    for path in _public_pages():
        found += _violations(page, app_server.url, app_server.url + path)
    assert not found, "\n".join(found)


def _staff_pages(role: str) -> list[str]:
    return sorted(
        path
        for (method, path), access in registry().items()
        if method == "GET" and not path.startswith("/api/") and "<" not in path
        if not access.public and access.allows(role)
    )


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("username", ["district", "subdistrict", "committee01"])
def test_staff_pages_have_no_serious_axe_violations(username, size, request, app_server):
    page = request.getfixturevalue("page" if size == "phone" else "desktop_page")
    page.goto(app_server.url + "/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    role = "committee" if username.startswith("committee") else username
    found: list[str] = []
    paths = _staff_pages(role)
    assert "/accounts/" in paths
    for path in paths:
        found += _violations(page, app_server.url, app_server.url + path)
        assert "/accounts/login/" not in page.url, path
    assert not found, "\n".join(found)
