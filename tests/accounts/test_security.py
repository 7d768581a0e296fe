"""Web hardening: security headers, CSRF, secure cookies/HSTS, tampered sessions and tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client

from fairshare.accounts.models import ApiToken
from tests.factories import CommitteeFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES_API_ADMIN = [
    "/",
    "/accounts/login/",
    "/api/v1/rounds",
    "/api/v1/openapi.json",
    "/admin/",  # as the admin answers an anonymous visitor: a redirect to the login
]


@pytest.mark.parametrize("url", PAGES_API_ADMIN)
def test_security_headers_on_pages_api_and_admin(client: Client, url: str):
    response = client.get(url)
    assert response.status_code == (302 if url == "/admin/" else 200)
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "microphone=()" in response["Permissions-Policy"]


def test_staff_pages_have_no_inline_script_or_style(client: Client):
    committee = CommitteeFactory()
    user = UserFactory(role="subdistrict", subdistrict=committee.subdistrict)
    client.force_login(user)
    for url in ["/accounts/login/", "/accounts/", "/accounts/helpers/", "/accounts/audit/"]:
        body = client.get(url).content.decode()
        assert "<script>" not in body and " style=" not in body, url
        assert " on" + "click=" not in body


def test_csrf_required_on_login_and_language_forms():
    UserFactory(username="csrf1")
    client = Client(enforce_csrf_checks=True)
    refused = client.post("/accounts/login/", {"username": "csrf1", "password": "pw-for-tests-1"})
    assert refused.status_code == 403
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403
    # With the token from the form, the same posts work.
    page = client.get("/accounts/login/")
    token = page.cookies[django_settings.CSRF_COOKIE_NAME].value
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    ok = client.post(
        "/accounts/login/",
        {"username": "csrf1", "password": "pw-for-tests-1", "csrfmiddlewaretoken": token},
    )
    assert ok.status_code == 302
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    lang = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert lang.status_code == 302


def test_every_form_on_staff_pages_carries_a_csrf_token(client: Client):
    committee = CommitteeFactory()
    client.force_login(UserFactory(role="subdistrict", subdistrict=committee.subdistrict))
    for url in ["/accounts/login/", "/accounts/", "/accounts/helpers/"]:
        body = client.get(url).content.decode()
        posts = body.count('method="post"')
        assert posts >= 1 and body.count('name="csrfmiddlewaretoken"') == posts, url


def test_secure_mode_turns_on_secure_cookies_hsts_and_ssl_redirect(tmp_path):
    """FAIRSHARE_SECURE=1 wires the settings (checked in a fresh interpreter)."""
    code = (
        "import json, fairshare.settings as s; print(json.dumps([s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_HTTPONLY]))"
    )
    env = {**os.environ, "FAIRSHARE_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    for flag, expected in (
        ("1", [True, True, 31536000, True, True]),
        ("0", [False, False, 0, False, True]),
    ):
        env["FAIRSHARE_SECURE"] = flag
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert json.loads(out.stdout) == expected


def test_secure_settings_take_effect_on_responses(settings, client: Client):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    redirect = client.get("/accounts/login/")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    UserFactory(username="sec1")
    page = client.get("/accounts/login/", secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.cookies[settings.CSRF_COOKIE_NAME]["secure"]
    login = client.post(
        "/accounts/login/", {"username": "sec1", "password": "pw-for-tests-1"}, secure=True
    )
    session_cookie = login.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"


def test_tampered_session_cookie_redirects_to_login(client: Client):
    committee = CommitteeFactory()
    client.force_login(UserFactory(role="committee", committee=committee))
    assert client.get("/accounts/").status_code == 200
    name = django_settings.SESSION_COOKIE_NAME
    key = client.cookies[name].value
    client.cookies[name] = key[:-1] + ("a" if key[-1] != "a" else "b")
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_tampered_or_malformed_token_is_401(client: Client):
    user = UserFactory(role="committee", committee=CommitteeFactory())
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    assert client.get("/api/v1/auth/tokens", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    for header in (f"Bearer {raw[:-1]}x", f"Bearer {raw}{raw}", "Bearer ", f"Basic {raw}", raw):
        response = client.get("/api/v1/auth/tokens", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json()["code"] == "unauthenticated"
