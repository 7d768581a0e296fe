"""The resident's status lookup keeps the phone out of URLs (issue 14).

``POST /api/v1/registrations/{ticket}/status`` takes the phone in the JSON body; the old
``GET /registrations/{ticket}?phone=`` stays for old clients, marked deprecated. No page
of the resident flow renders a link, form action or redirect holding a phone number,
and every form with a phone field is a POST form.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

import fairshare
from fairshare.registration.models import Registration
from fairshare.registration.services import registration_create
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    RoundFactory,
    UserFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db
PHONE = "13812345678"
OTHER_PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _no_ratelimit(settings):
    settings.RATELIMIT_ENABLED = False  # the rate-limit test switches it back on


@pytest.fixture
def place(db):
    committee = CommitteeFactory(code="KJ01", name="图们居委会")
    building = BuildingFactory(committee=committee, label="12号")
    household = HouseholdFactory(building=building, room="301")
    spare = HouseholdFactory(building=building, room="302")
    round_obj = RoundFactory(district=committee.subdistrict.district)
    return {
        "committee": committee,
        "building": building,
        "household": household,
        "spare": spare,
        "round": round_obj,
    }


@pytest.fixture
def registration(place):
    return registration_create(
        round=place["round"],
        household=place["household"],
        name="张三明",
        phone=PHONE,
        channel="online",
    ).registration


def _lookup(client: Client, ticket: str, body: dict | str):
    return client.post(
        f"/api/v1/registrations/{ticket}/status", body, content_type="application/json"
    )


# --- API -----------------------------------------------------------------------------


def test_body_lookup_answers_as_the_old_get(client, registration):
    response = _lookup(client, registration.ticket.lower(), {"phone": "138 1234 5678"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body.pop("state")["state"] in (
        "waiting",
        "pending_review",
    )  # tests/allocation/test_status_page.py
    assert body == {
        "ticket": registration.ticket,
        "queue_number": registration.queue_number,
        "status": registration.status,
        "committee": "KJ01",
        "round": registration.round_id,
        "voucher": None,
    }
    # Nothing of the phone in the URL that was requested.
    assert response.request["QUERY_STRING"] == ""
    assert PHONE not in response.request["PATH_INFO"]
    old = client.get(f"/api/v1/registrations/{registration.ticket}", {"phone": PHONE})
    assert old.status_code == 200 and {**old.json(), "state": None} == {**body, "state": None}


def test_body_lookup_shows_the_voucher(client, registration):
    VoucherFactory(registration=registration)
    voucher = _lookup(client, registration.ticket, {"phone": PHONE}).json()["voucher"]
    assert voucher["status"] == "issued" and voucher["batch"]["unit_price"] == "12.50"


def test_wrong_phone_and_unknown_ticket_get_the_same_not_found(client, registration):
    wrong_phone = _lookup(client, registration.ticket, {"phone": OTHER_PHONE})
    unknown = _lookup(client, "AAAAAAAAA", {"phone": PHONE})
    malformed_ticket = _lookup(client, "not-a-ticket", {"phone": PHONE})
    assert wrong_phone.status_code == unknown.status_code == malformed_ticket.status_code == 404
    assert wrong_phone.json() == unknown.json() == malformed_ticket.json()
    assert wrong_phone.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [{}, {"phone": ""}, {"phone": "123"}, {"phone": 13812345678}, {"phone": "1381234\x005678"}],
)
def test_bad_phone_is_a_422_on_the_phone_field(client, registration, body):
    before = Registration.objects.values_list("pk", "status", "phone")
    snapshot = list(before)
    response = _lookup(client, registration.ticket, body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    assert list(response.json()["errors"]) == ["phone"]
    assert list(before) == snapshot  # nothing changed


def test_body_that_is_not_json_is_refused_in_json(client, registration):
    response = _lookup(client, registration.ticket, "phone=13812345678")
    assert response.status_code in (400, 422)  # the API's answer to unparsable JSON
    assert response["Content-Type"].startswith("application/json") and response.json()


def test_body_lookup_shares_the_status_rate_limit(client, registration, settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"status": {"phone": (2, 600)}}
    assert _lookup(client, registration.ticket, {"phone": PHONE}).status_code == 200
    assert client.get("/api/v1/registrations/X", {"phone": PHONE}).status_code == 404
    limited = _lookup(client, registration.ticket, {"phone": PHONE})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["code"]


def test_openapi_puts_the_phone_in_the_body_and_deprecates_the_query(client):
    spec = client.get("/api/v1/openapi.json").json()["paths"]
    post = spec["/api/v1/registrations/{ticket}/status"]["post"]
    assert [p["name"] for p in post.get("parameters", [])] == ["ticket"]
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    components = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert components[schema_ref.rsplit("/", 1)[-1]]["required"] == ["phone"]
    get = spec["/api/v1/registrations/{ticket}"]["get"]
    assert get["deprecated"] is True and get["summary"].startswith("Deprecated")


# --- pages: no phone in any URL ------------------------------------------------------

URL_ATTRS = {"href", "action", "src", "formaction", "data-url", "poster", "cite"}


class _Urls(HTMLParser):
    """Every URL a page renders, and each form's method with its field names."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in URL_ATTRS]
        if tag == "input" and values.get("name") == "next":
            self.urls.append(values.get("value") or "")  # the language switch's return path
        if tag == "form":
            self.forms.append({"method": (values.get("method") or "get").lower(), "fields": []})
        elif tag in ("input", "select", "textarea") and self.forms:
            self.forms[-1]["fields"].append(values.get("name"))


def _phone_free(response, *phones: str) -> None:
    parser = _Urls()
    parser.feed(response.content.decode())
    digits = [re.sub(r"\D", "", p) for p in phones]
    for url in [*parser.urls, response.get("Location", "")]:
        plain = re.sub(r"\D", "", url)
        assert not any(d in plain for d in digits), f"a phone number in a URL: {url}"
        assert "phone=" not in url, url
    for form in parser.forms:
        if "phone" in form["fields"]:
            assert form["method"] == "post", f"a phone field in a {form['method']} form"


def test_resident_flow_never_puts_the_phone_in_a_url(client, place):
    entry = f"/r/{place['round'].pk}/KJ01/"
    building = place["building"].pk
    pages = [
        client.get("/"),
        client.get(entry),
        client.get(entry, {"building": building}),
        client.get(f"{entry}photo/", {"building": building}),
        client.get("/r/status/"),
        client.get("/privacy/"),
    ]
    form = {"building": building, "room": place["household"].pk, "name": "张三明"}
    refused = client.post(entry, {**form, "phone": "1381234567"})  # one digit short
    registered = client.post(entry, {**form, "phone": PHONE})
    assert refused.status_code == 422 and registered.status_code == 302
    pages += [refused, registered, client.get(registered["Location"])]
    ticket = Registration.objects.get().ticket
    pages += [
        client.post("/r/status/", {"ticket": ticket, "phone": PHONE}),
        client.post("/r/status/", {"ticket": ticket, "phone": OTHER_PHONE}),
        client.post("/r/status/", {"ticket": ticket, "phone": "123"}),
    ]
    assert [p.status_code for p in pages[-3:]] == [200, 404, 422]
    for page in pages:
        _phone_free(page, PHONE, OTHER_PHONE, "1381234567")


def test_desk_slip_and_staff_redirect_hold_no_phone(client, place):
    client.force_login(UserFactory(role="committee", committee=place["committee"]))
    desk = f"/r/desk/{place['round'].pk}/KJ01/"
    saved = client.post(
        desk,
        {"household": place["spare"].pk, "name": "李四", "phone": OTHER_PHONE, "id_checked": "on"},
    )
    assert saved.status_code == 302
    slip = client.get(saved["Location"])
    assert slip.status_code == 200
    for page in (saved, slip, client.get(desk, {"q": "12-302"})):
        _phone_free(page, OTHER_PHONE)


def test_no_template_or_script_builds_a_phone_query():
    root = Path(fairshare.__file__).parent
    files = [
        p
        for p in root.rglob("*")
        if p.suffix in (".html", ".js") and "vendor" not in p.parts and p.is_file()
    ]
    assert files
    offenders = [
        str(p.relative_to(root))
        for p in files
        if re.search(r"[?&]phone=|phone=\{\{|registrations/[^\"'\s]*\?", p.read_text("utf-8"))
    ]
    assert offenders == []
