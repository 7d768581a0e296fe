import pytest
from django.test import Client

from tests.factories import CommitteeFactory, HouseholdFactory, RoundFactory

pytestmark = pytest.mark.django_db


def test_home_is_chinese_by_default_and_english_by_choice(client: Client):
    committee = CommitteeFactory(name="图们居委会")
    RoundFactory(district=committee.subdistrict.district)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "口罩预约登记购买" in body and "图们居委会" in body
    assert 'lang="zh-CN"' in body
    # The browser's language does not matter: residents get Chinese unless they switch.
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "口罩预约登记购买" in response.content.decode()
    client.cookies["django_language"] = "en"
    assert "Mask reservation and purchase" in client.get("/").content.decode()


def test_language_switch(client: Client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert "Mask reservation and purchase" in response.content.decode()


def test_security_headers(client: Client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_hsts_and_secure_cookies_outside_debug(settings, client: Client):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_healthz(client: Client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_public_api_lists(client: Client):
    committee = CommitteeFactory(code="KJ01")
    HouseholdFactory(building__committee=committee, building__label="3号", room="502")
    round_ = RoundFactory(district=committee.subdistrict.district)
    rounds = client.get("/api/v1/rounds").json()
    assert rounds[0]["id"] == round_.id and rounds[0]["status"] == "open"
    committees = client.get("/api/v1/committees").json()
    assert committees[0] == {
        "code": "KJ01",
        "name": committee.name,
        "subdistrict": committee.subdistrict.code,
        "pharmacy": committee.pharmacy.code,
        "pharmacy_name": committee.pharmacy.name,
        "address": "",
    }
    households = client.get("/api/v1/committees/KJ01/households").json()
    assert households == [{"building": "3号", "compound": "控江路1200弄", "room": "502"}]
    missing = client.get("/api/v1/committees/NOPE/households")
    assert missing.status_code == 404 and missing.json()["detail"] == "未知的居委会。"


def test_openapi_document(client: Client):
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/token" in doc["paths"]
    assert "/api/v1/committees/{code}/households" in doc["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/pico/pico.min.css",
        "/static/fairshare/site.css",
        "/static/vendor/jsqr/jsQR.js",
    ],
)
def test_vendored_static_files_are_served(client: Client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])
