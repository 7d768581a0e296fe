"""axe-core (vendored, pinned) on the pages of the access matrix, phone and desktop size.

Pages checked: every HTML GET page of the matrix a role may open, reached the way its
users reach it: from the fixed pages, following the links each page shows (one visit per
route, tests/e2e/axe_crawl.py), plus the records no link leads to in the demo data,
which the test makes first: a KJ01 registration (its staff page and slip), a building
sheet and a window of desk appointments printed and opened at KJ01's desk, a KJ01
registration by photo (the review queue's thumbnail links the photo), a pickup point
opened after an allocation, each area user's own roster upload checked on the import
page, and a resident's own confirmation and personal status link after registering
through the form. Anonymous, district, subdistrict, committee, helper (a committee's user sent to
another committee) and pharmacy, each logged in as a demo user. Tags wcag2a, wcag2aa,
wcag21aa, wcag22aa; no rule disabled; any serious or critical violation fails, listed as
rule id, target and page. The test also fails when a page of the role is not reached,
except the ones in NOT_IN_DEMO whose records neither the demo data holds nor the test
makes (and it checks those really are unreached, so the list cannot go stale).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.axe_crawl import crawl, pages_for
from tests.support.liveserver import run_cli

AXE_URL = "/static/vendor/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
HTML = re.compile(r"^text/html\b")


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
    assert "/" in pages_for("anonymous")
    assert not any("image-alt" in v for v in clean)
    assert any("image-alt (critical)" in v for v in spoiled)


# Pages whose records neither the demo data holds nor this test makes. The demo's one
# round is district-wide: the district's to edit, not a subdistrict's.
NOT_IN_DEMO = {"/staff/rounds/<int:round_id>/edit/": frozenset({"subdistrict"})}
PHONES = {"phone": "13911112222", "desktop": "13911113333"}
USERS = {
    "anonymous": None,
    "district": "district",
    "subdistrict": "subdistrict",
    "committee": "committee01",
    "helper": "committee02",
    "pharmacy": "pharmacy01",
}


@contextmanager
def _side_page(browser) -> Iterator:
    """A page of its own (zh-CN, Shanghai time) for a fixture that makes records."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        yield context.new_page()
    finally:
        context.close()


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
    with _side_page(browser) as page:
        flows.log_in(page, app_server.url, "committee01")
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


def _in_days(days: int) -> str:
    return (datetime.now(flows.TZ) + timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def kj01_record(app_server) -> int:
    """A KJ01 household registered online with its roster name: its staff page and slip
    are pages of the matrix (reached from the review queue and the desk in use)."""
    # The 21st household: the desk flow tests take KJ01's first and last ones.
    _home, body = flows.register_online(app_server, code="KJ01", index=20, phone="13911114444")
    rows = flows.server_rows(
        app_server.env["FAIRSHARE_DATA_DIR"],
        "SELECT id FROM registration_registration WHERE ticket = ?",
        (body["ticket"],),
    )
    return int(rows[0][0])


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 150)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def kj01_photo_record(browser, app_server) -> None:
    """A KJ01 household registers with one photo (the 22nd household): it waits for
    review, so KJ01's review queue shows its thumbnail, which links the photo."""
    home = flows.household(app_server.url, "KJ01", 21)
    data_dir = app_server.env["FAIRSHARE_DATA_DIR"]
    building = flows.server_rows(
        data_dir,
        "SELECT b.id FROM community_building b JOIN community_committee c "
        "ON c.id = b.committee_id WHERE c.code = 'KJ01' AND b.label = ?",
        (home["building"],),
    )[0][0]
    with _side_page(browser) as page:
        page.goto(
            f"{app_server.url}/r/{flows.open_round_id(app_server.url)}/KJ01/photo/"
            f"?building={building}"
        )
        page.locator("#id_room").select_option(label=home["room"])
        page.locator("#id_name").fill("李照片")
        page.locator("#id_phone").fill("13911115555")
        flows.enter_sms_code_if_asked(page, data_dir, "13911115555")
        page.locator("#id_photo").set_input_files(
            {"name": "id.png", "mimeType": "image/png", "buffer": _png()}
        )
        page.locator("button[name=action][value=register]").click()
        expect(page).to_have_url(re.compile(r"/r/done/"))


@pytest.fixture(scope="module")
def kj01_pickup_point(browser, app_server, kj01_record) -> str:
    """KJ01's staff buy one issued voucher for a neighbour and open a pickup point (after
    an allocation at KJ01's pharmacy): the pickup point's page."""
    vouchers = flows.supply_and_allocate(app_server, code="KJ01")
    assert any(v["committee"] == "KJ01" for v in vouchers), vouchers
    with _side_page(browser) as page:
        flows.log_in(page, app_server.url, "committee01")
        page.goto(app_server.url + "/pharmacy/committees/KJ01/pickup/")
        page.locator("input[name=place]").fill("居委会活动室")
        page.locator("input[name=count]").fill("1")
        page.locator("input[name=starts_at]").fill(_in_days(0)[:11] + "14:00")
        page.locator("input[name=ends_at]").fill(_in_days(0)[:11] + "17:00")
        page.locator("form:has(input[name=place]) button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/pharmacy/committees/KJ01/pickup/\d+/$"))
        return page.url.removeprefix(app_server.url)


def _roster_job(page, server) -> str:
    """Upload a one-household roster CSV on the import page as the logged-in user, and
    run its check (the dry run the worker would run; this server has no worker): the
    job's page, now showing the counts and the confirm button."""
    home = flows.household(server.url, "KJ01", 0)
    subdistrict = flows.server_rows(
        server.env["FAIRSHARE_DATA_DIR"],
        "SELECT s.code FROM community_subdistrict s JOIN community_committee c "
        "ON c.subdistrict_id = s.id WHERE c.code = 'KJ01'",
    )[0][0]
    csv = f"街道,居委会,楼栋,室号,姓名\n{subdistrict},KJ01,{home['building']},9901,王新户\n"
    page.goto(server.url + "/accounts/import/")
    page.locator("input[type=file][name=upload]").set_input_files(
        {"name": "households.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.locator("form:has(input[type=file]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/import/jobs/\d+/$"))
    job = int(page.url.rstrip("/").rsplit("/", 1)[1])
    run_cli(
        server.env, "shell", "-c", f"from fairshare.core.jobs import job_run; job_run(job_id={job})"
    )
    return page.url.removeprefix(server.url)


def _starts(page, server, role: str, wanted: set[str], phone: str, records: dict) -> list[str]:
    fixed = sorted(path for path in wanted if "<" not in path)
    if role == "anonymous":
        link = flows.register_from_search(
            page, server, flows.committee(server.url, "KJ07"), delivery=False, phone=phone
        )
        # A building's stairwell poster is public (its QR leads to the form) but linked
        # only from the staff poster list.
        building = flows.server_rows(
            server.env["FAIRSHARE_DATA_DIR"],
            "SELECT b.id FROM community_building b JOIN community_committee c "
            "ON c.id = b.committee_id WHERE c.code = 'KJ07' ORDER BY b.id LIMIT 1",
        )[0][0]
        round_id = flows.open_round_id(server.url)
        poster = f"/r/{round_id}/KJ07/poster/{building}/"
        kj01 = f"/r/{round_id}/KJ01/"  # links its desk appointments
        done, mine = page.url.removeprefix(server.url), link.removeprefix(server.url)
        return [kj01, done, mine, poster, *fixed]
    record = records["registration"]
    made = [f"/r/staff/{record}/", f"/r/slip/{record}/", records["pickup_point"]]
    if "/accounts/import/jobs/<int:job_id>/" in wanted:  # a job is its uploader's own
        made.append(_roster_job(page, server))
    return ["/accounts/", *fixed, *made]


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("role", list(USERS))
def test_every_page_has_no_serious_axe_violations(
    role,
    size,
    request,
    app_server,
    helper_sent_to_kj01,
    kj01_record,
    kj01_desk_records,
    kj01_photo_record,
    kj01_pickup_point,
):
    page = request.getfixturevalue("page" if size == "phone" else "desktop_page")
    if USERS[role]:
        flows.log_in(page, app_server.url, USERS[role])
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
        starts=_starts(
            page,
            app_server,
            role,
            wanted,
            PHONES[size],
            {"registration": kj01_record, "pickup_point": kj01_pickup_point},
        ),
        check=check,
    )
    assert not found, "\n".join(found)
    absent = {route for route, roles in NOT_IN_DEMO.items() if role in roles}
    missed = wanted - set(seen)
    assert missed <= absent, f"pages of {role} not reached: {sorted(missed - absent)}"
    assert not set(seen) & absent, f"reached now, drop from NOT_IN_DEMO: {set(seen) & absent}"
