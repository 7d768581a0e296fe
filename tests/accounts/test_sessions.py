"""Staff sessions on shared desk computers end 12 h after login however active, after an
hour idle, and on browser close (fairshare.accounts.middleware.SessionLimitMiddleware and
the FAIRSHARE_SESSION_* settings). Time is moved by replacing ``timezone.now``, which the
middleware and Django's session store both read."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fairshare.accounts.middleware import SEEN_AT
from tests.factories import CommitteeFactory, PharmacyFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
STAFF_PAGE = "/accounts/"


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def staff(db):
    return UserFactory(username="desk-1", role="committee", committee=CommitteeFactory())


def _login(client: Client, username: str):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


def _logged_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_defaults_are_twelve_hours_one_hour_idle_and_browser_close():
    assert settings.FAIRSHARE_SESSION_MAX_SECONDS == 12 * 3600
    assert settings.FAIRSHARE_SESSION_IDLE_SECONDS == 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_sixty_one_idle_minutes_log_out(client: Client, clock: Clock, staff):
    _login(client, staff.username)
    assert client.get(STAFF_PAGE).status_code == 200
    clock.advance(minutes=61)
    response = client.get(STAFF_PAGE)
    assert _logged_out(response)
    assert _logged_out(client.get(STAFF_PAGE))  # the session is gone, not just this request
    login_page = client.get(response["Location"])
    assert "登录已结束" in login_page.content.decode()


def test_within_the_limits_the_user_stays_in(client: Client, clock: Clock, staff):
    _login(client, staff.username)
    for _ in range(5):
        clock.advance(minutes=59)
        assert client.get(STAFF_PAGE).status_code == 200


@pytest.mark.parametrize("cookie_age", [None, 14 * 24 * 3600], ids=["default", "14-days"])
def test_twelve_hours_after_login_the_session_ends_however_active(
    client: Client, clock: Clock, staff, settings, cookie_age
):
    """Also with Django's old 14-day session age: the middleware ends it, not the row."""
    if cookie_age:
        settings.SESSION_COOKIE_AGE = cookie_age
    _login(client, staff.username)
    for _ in range(23):  # 11.5 hours, a request every 30 minutes
        clock.advance(minutes=30)
        assert client.get(STAFF_PAGE).status_code == 200
    clock.advance(minutes=30)
    assert _logged_out(client.get(STAFF_PAGE))


def test_activity_is_written_at_most_once_a_minute(client: Client, clock: Clock, staff):
    _login(client, staff.username)
    first = client.session[SEEN_AT]
    clock.advance(seconds=30)
    client.get(STAFF_PAGE)
    assert client.session[SEEN_AT] == first
    clock.advance(seconds=31)
    client.get(STAFF_PAGE)
    assert client.session[SEEN_AT] == pytest.approx(first + 61)


def test_an_api_call_with_an_idle_session_is_401(client: Client, clock: Clock):
    user = UserFactory(username="till-1", role="pharmacy", pharmacy=PharmacyFactory())
    _login(client, user.username)
    assert client.get("/api/v1/vouchers/NOPE-CODE").status_code != 401
    clock.advance(minutes=61)
    response = client.get("/api/v1/vouchers/NOPE-CODE")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_the_session_cookie_ends_with_the_browser(client: Client, staff, settings):
    cookie = _login(client, staff.username).cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = False  # control: a kept cookie has an age
    other = Client()
    cookie = _login(other, staff.username).cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


def test_the_limits_follow_the_environment(client: Client, clock: Clock, staff, settings):
    settings.FAIRSHARE_SESSION_IDLE_SECONDS = 10 * 60
    _login(client, staff.username)
    clock.advance(minutes=11)
    assert _logged_out(client.get(STAFF_PAGE))


def _settings_with(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import fairshare.settings as s; print(s.SESSION_COOKIE_AGE)"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FAIRSHARE_SESSION_MAX_HOURS", "12h"),
        ("FAIRSHARE_SESSION_MAX_HOURS", "0"),
        ("FAIRSHARE_SESSION_IDLE_MINUTES", "-5"),
        ("FAIRSHARE_SESSION_BROWSER_CLOSE", "sometimes"),
    ],
)
def test_a_bad_session_setting_stops_start_up(name: str, value: str):
    result = _settings_with(**{name: value})
    assert result.returncode != 0
    assert f"{name}: " in result.stderr


def test_a_good_session_setting_is_used():
    result = _settings_with(FAIRSHARE_SESSION_MAX_HOURS="8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(8 * 3600)
