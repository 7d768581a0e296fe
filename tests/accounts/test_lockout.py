"""Login lockout per (username, client address); failures across usernames lock nobody.

Through the real login page and the real settings (FAIRSHARE_LOGIN_FAILURE_LIMIT 5,
FAIRSHARE_LOGIN_IP_FAILURE_LIMIT 30, a 15-minute cool-off). Negative control: with the
address-wide lock this change replaced (tests/accounts/test_lockout.py at the parent
commit of accounts/throttle.py), the first two tests fail with 429 for bob and carol.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from fairshare.accounts import throttle
from tests.factories import CommitteeFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
OFFICE = "10.20.0.1"  # the production proxy: every staff member of the office shares it
HOME = "198.51.100.23"


def login(
    client: Client,
    username: str,
    password: str = PASSWORD,
    ip: str = OFFICE,
    challenge: str | None = None,
    **meta: str,
):
    data = {"username": username, "password": password}
    if challenge is not None:
        data["challenge"] = challenge
    return client.post("/accounts/login/", data, REMOTE_ADDR=ip, **meta)


def fail(username: str, times: int, ip: str = OFFICE) -> list[int]:
    return [login(Client(), username, "wrong", ip).status_code for _ in range(times)]


def staff(username: str):
    return UserFactory(username=username, role="committee", committee=CommitteeFactory())


def logged_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


@pytest.fixture
def issued(monkeypatch) -> list[str]:
    """The digits of each picture shown (random in use; the test needs to know them)."""
    answers: list[str] = []

    def new_answer() -> str:
        answers.append(f"{52846 + 1111 * len(answers)}")
        return answers[-1]

    monkeypatch.setattr(throttle, "new_answer", new_answer)
    return answers


def _age_attempts(minutes: float) -> None:
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=minutes)
        attempt.save(update_fields=["attempt_time"])


def test_one_accounts_failures_never_lock_another_account_from_the_same_address():
    """Alice keeps typing a wrong password (more often than the address limit): only
    she is locked, and only here; bob at the next desk logs in without a challenge."""
    staff("alice"), staff("bob")
    limit = settings.AXES_FAILURE_LIMIT
    attempts = fail("alice", settings.FAIRSHARE_LOGIN_IP_FAILURE_LIMIT + 1)
    assert attempts == [200] * (limit - 1) + [429] * (len(attempts) - limit + 1)
    assert login(Client(), "alice").status_code == 429  # alice herself, right password
    client = Client()
    assert (
        'name="challenge"'
        not in client.get("/accounts/login/", REMOTE_ADDR=OFFICE).content.decode()
    )
    assert logged_in(login(client, "bob"))  # bob, same address, is not locked


def test_failures_across_usernames_ask_a_challenge_and_lock_nobody(issued):
    """30 failures from the office (six people, five typos each): carol still logs in."""
    staff("carol")
    for n in range(settings.FAIRSHARE_LOGIN_IP_FAILURE_LIMIT // settings.AXES_FAILURE_LIMIT):
        staff(f"typist{n}")
        fail(f"typist{n}", settings.AXES_FAILURE_LIMIT)
    client = Client()
    page = client.get("/accounts/login/", REMOTE_ADDR=OFFICE)
    assert page.status_code == 200 and 'name="challenge"' in page.content.decode()
    assert "data:image/png;base64," in page.content.decode()
    assert " style=" not in page.content.decode() and "<script>" not in page.content.decode()
    # A wrong answer: no login, and it is no failed login of carol's.
    wrong = login(client, "carol", challenge="11111")
    assert wrong.status_code == 200 and not wrong.wsgi_request.user.is_authenticated
    assert "图中的数字" in wrong.content.decode()
    assert not AccessAttempt.objects.filter(username="carol").exists()
    # The right password with the picture's digits: in.
    client.get("/accounts/login/", REMOTE_ADDR=OFFICE)
    assert logged_in(login(client, "carol", challenge=issued[-1]))
    # From another address nothing is asked.
    assert (
        'name="challenge"'
        not in Client().get("/accounts/login/", REMOTE_ADDR=HOME).content.decode()
    )


def test_a_challenge_answer_is_used_once(issued):
    staff("dave")
    for n in range(settings.FAIRSHARE_LOGIN_IP_FAILURE_LIMIT):
        fail(f"nobody{n}", 1)
    client = Client()
    client.get("/accounts/login/", REMOTE_ADDR=OFFICE)
    first = issued[-1]
    wrong_password = login(client, "dave", "wrong", challenge=first)
    assert (
        wrong_password.status_code == 200 and "用户名或密码错误" in wrong_password.content.decode()
    )
    # That answer is spent (the page now shows another picture): resending it fails.
    assert issued[-1] != first
    assert not logged_in(login(client, "dave", challenge=first))
    assert logged_in(login(client, "dave", challenge=issued[-1]))


def test_the_token_api_cannot_bypass_the_challenge():
    staff("erin")
    for n in range(settings.FAIRSHARE_LOGIN_IP_FAILURE_LIMIT):
        fail(f"nobody{n}", 1)
    body = {"username": "erin", "password": PASSWORD}
    hot = Client().post(
        "/api/v1/auth/token", body, content_type="application/json", REMOTE_ADDR=OFFICE
    )
    assert hot.status_code == 429 and hot["Content-Type"].startswith("application/json")
    cold = Client().post(
        "/api/v1/auth/token", body, content_type="application/json", REMOTE_ADDR=HOME
    )
    assert cold.status_code == 200
    _age_attempts(16)  # the failures leave the cool-off window
    again = Client().post(
        "/api/v1/auth/token", body, content_type="application/json", REMOTE_ADDR=OFFICE
    )
    assert again.status_code == 200


def test_locked_account_is_refused_until_the_cool_off_ends_from_that_address_only():
    staff("frank")
    fail("frank", settings.AXES_FAILURE_LIMIT)
    locked_at = AccessAttempt.objects.get(username="frank").attempt_time
    for _ in range(3):  # the right password, still locked; the lockout does not grow
        refused = login(Client(), "frank")
        assert refused.status_code == 429 and not refused.wsgi_request.user.is_authenticated
    assert AccessAttempt.objects.get(username="frank").attempt_time == locked_at
    assert 800 <= int(refused["Retry-After"]) <= 900
    assert logged_in(login(Client(), "frank", ip=HOME))  # the same account elsewhere
    _age_attempts(14)
    assert login(Client(), "frank").status_code == 429
    _age_attempts(1.1)
    assert logged_in(login(Client(), "frank"))


def test_lockout_page_says_when_to_retry_in_the_users_language():
    staff("gina")
    fail("gina", settings.AXES_FAILURE_LIMIT)
    zh = login(Client(), "gina")
    ends = AccessAttempt.objects.get(username="gina").attempt_time + timedelta(minutes=15)
    from django.utils import timezone

    hhmm = timezone.localtime(ends).strftime("%H:%M")
    text = zh.content.decode()
    assert zh.status_code == 429 and f"请在 {hhmm} 之后" in text and "15 分钟" in text
    assert "Try again" not in text
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = login(english, "gina")
    assert f"Try again after {hhmm} (in 15 minutes)" in en.content.decode()
    assert "请在" not in en.content.decode()


def test_spoofed_forwarded_for_does_not_unlock(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    staff("hank")
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), "hank", "wrong", ip=OFFICE, HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, 203.0.113.5")
    spoofed = login(Client(), "hank", HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.5")
    assert spoofed.status_code == 429
    # Another client behind the same proxy is another address.
    assert logged_in(login(Client(), "hank", HTTP_X_FORWARDED_FOR="203.0.113.6"))


def test_the_admin_login_is_the_staff_login(client, django_user_model):
    """The admin's own login form would skip the challenge: it redirects to the one login."""
    django_user_model.objects.create_superuser("root", password="a-long-password-1")
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/admin/"
    posted = client.post("/admin/login/", {"username": "root", "password": "a-long-password-1"})
    assert posted.status_code in (301, 302) and "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
