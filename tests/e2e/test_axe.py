"""axe-core (vendored, pinned) on the pages of the access matrix, phone and desktop size.

Pages checked: every HTML GET page of the matrix a role may open, reached the way its
users reach it: from the fixed pages, following the links each page shows (one visit per
route, tests/e2e/axe_crawl.py), plus the records a link does not lead to in the demo data
(a registration's staff page and slip, read from the server's own database) and a
resident's own confirmation and personal status link after registering through the
form. Anonymous, district, subdistrict, committee, helper (a committee's user sent to
another committee) and pharmacy, each logged in as a demo user. Tags wcag2a, wcag2aa,
wcag21aa, wcag22aa; no rule disabled; any serious or critical violation fails, listed as
rule id, target and page. The test also fails when a page of the role is not reached,
except the ones in NOT_IN_DEMO whose records the demo data does not hold (and it checks
those really are unreached, so the list cannot go stale).
"""

from __future__ import annotations

import re

import pytest

from tests.accounts.access_registry import registry
from tests.e2e import flows
from tests.e2e.axe_crawl import crawl, pages_for
from tests.e2e.test_resident_walk import _register_from_search

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


# Pages whose records the demo data does not hold and this test does not make (no roster
# import jobs, pickup points or KJ01 photos are seeded).
ALL_ROLES = frozenset({"anonymous", "district", "subdistrict", "committee", "helper", "pharmacy"})
NOT_IN_DEMO = {
    "/accounts/import/jobs/<int:job_id>/": ALL_ROLES,
    "/accounts/import/jobs/<int:job_id>/status/": ALL_ROLES,
    "/pharmacy/committees/<str:code>/pickup/<int:pk>/": ALL_ROLES,
    "/r/photos/<int:pk>/": frozenset({"committee", "helper"}),  # KJ01 has no photos
    # The demo's one round is district-wide: the district's to edit, not a subdistrict's.
    "/staff/rounds/<int:round_id>/edit/": frozenset({"subdistrict"}),
}
PHONES = {"phone": "13911112222", "desktop": "13911113333"}
USERS = {
    "anonymous": None,
    "district": "district",
    "subdistrict": "subdistrict",
    "committee": "committee01",
    "helper": "committee02",
    "pharmacy": "pharmacy01",
}


def _log_in(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture(scope="module")
def helper_sent_to_kj01(app_server) -> None:
    """committee02's user sent to help KJ01 for three days (the helper role)."""
    status, body = flows.post(
        app_server.url,
        "/api/v1/auth/helpers/assignments",
        {"username": "committee02", "committee": "KJ01", "expires_at": _in_days(3)},
        flows.api_token(app_server.url, "subdistrict"),
    )
    assert status in (200, 201), body


@pytest.fixture(scope="module")
def kj01_desk_records(browser, app_server) -> None:
    """KJ01's desk prints a building sheet and opens a window of desk appointments, as its
    staff do before a round: the sheet's entry page and the resident's booking page."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        _log_in(page, app_server.url, "committee01")
        desk = f"{app_server.url}/r/desk/{flows.open_round_id(app_server.url)}/KJ01"
        page.goto(desk + "/sheets/")
        with page.expect_response(lambda response: "/pdf/" in response.url) as printed:
            page.locator("td form button[type=submit]").first.click()
        assert printed.value.status == 200
        page.goto(desk + "/appointments/")
        opening = page.locator("form:has(input[name=action][value=open])")
        opening.locator("#id_starts_at").fill(_in_days(1)[:11] + "09:00")
        opening.locator("#id_ends_at").fill(_in_days(1)[:11] + "11:00")
        opening.locator("button[type=submit]").click()
        page.wait_for_load_state()
    finally:
        context.close()


def _in_days(days: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.now(flows.TZ) + timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def kj01_record(app_server) -> int:
    """A KJ01 household registered online with its roster name: its staff page and slip
    are pages of the matrix (reached from the review queue and the desk in use)."""
    # The 21st household: the desk flow tests take KJ01's first and last ones.
    home = flows.household(app_server.url, "KJ01", 20)
    building, room = home["building"], home["room"]
    name = flows.roster_name(
        app_server.env["FAIRSHARE_DATA_DIR"], code="KJ01", building=building, room=room
    )
    status, body = flows.post(
        app_server.url,
        f"/api/v1/rounds/{flows.open_round_id(app_server.url)}/registrations",
        {
            "committee": "KJ01",
            "building": building,
            "room": room,
            "name": name,
            "phone": "13911114444",
        },
    )
    assert status in (200, 201), body
    rows = flows.server_rows(
        app_server.env["FAIRSHARE_DATA_DIR"],
        "SELECT id FROM registration_registration WHERE ticket = ?",
        (body["ticket"],),
    )
    return int(rows[0][0])


def _starts(page, server, role: str, wanted: set[str], phone: str, record: int) -> list[str]:
    fixed = sorted(path for path in wanted if "<" not in path)
    if role == "anonymous":
        link = _register_from_search(
            page, server, flows.committee(server.url, "KJ07"), delivery=False, phone=phone
        )
        # A building's stairwell poster is public (its QR leads to the form) but linked
        # only from the staff poster list.
        building = flows.server_rows(
            server.env["FAIRSHARE_DATA_DIR"],
            "SELECT b.id FROM community_building b JOIN community_committee c "
            "ON c.id = b.committee_id WHERE c.code = 'KJ07' ORDER BY b.id LIMIT 1",
        )[0][0]
        poster = f"/r/{flows.open_round_id(server.url)}/KJ07/poster/{building}/"
        kj01 = f"/r/{flows.open_round_id(server.url)}/KJ01/"  # links its desk appointments
        done, mine = page.url.removeprefix(server.url), link.removeprefix(server.url)
        return [kj01, done, mine, poster, *fixed]
    return ["/accounts/", *fixed, f"/r/staff/{record}/", f"/r/slip/{record}/"]


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("role", list(USERS))
def test_every_page_has_no_serious_axe_violations(
    role, size, request, app_server, helper_sent_to_kj01, kj01_record, kj01_desk_records
):
    page = request.getfixturevalue("page" if size == "phone" else "desktop_page")
    if USERS[role]:
        _log_in(page, app_server.url, USERS[role])
    wanted = pages_for(role)
    assert wanted

    def check(url: str) -> list[str]:
        found = _violations(page, app_server.url, url)
        logged_out = "/accounts/login/" in page.url and "/accounts/login/" not in url
        assert role == "anonymous" or not logged_out, url
        return found

    seen, found = crawl(
        page,
        app_server.url,
        wanted=wanted,
        starts=_starts(page, app_server, role, wanted, PHONES[size], kj01_record),
        check=check,
    )
    assert not found, "\n".join(found)
    absent = {route for route, roles in NOT_IN_DEMO.items() if role in roles}
    missed = wanted - set(seen)
    assert missed <= absent, f"pages of {role} not reached: {sorted(missed - absent)}"
    assert not set(seen) & absent, f"reached now, drop from NOT_IN_DEMO: {set(seen) & absent}"
