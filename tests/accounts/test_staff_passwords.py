"""One-time passwords of staff accounts (issue 19): given by the roster import or a reset,
printed/shown once, changed at the first login (page or API) before anything else; the
staff accounts page of subdistrict and district staff (reset, deactivate, reactivate)."""

from __future__ import annotations

import io
import re

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from fairshare.accounts.models import ApiToken, User
from fairshare.accounts.services import ONE_TIME_ALPHABET, ONE_TIME_LENGTH
from fairshare.core.models import AuditLog
from tests.accounts import roster_files as rf
from tests.factories import (
    CommitteeFactory,
    PharmacyFactory,
    SubdistrictFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NEW = "a-long-enough-pass-42"
ONE_TIME = re.compile(f"[{ONE_TIME_ALPHABET}]{{{ONE_TIME_LENGTH}}}")
JSON = "application/json"


def _command(tmp_path, *options):
    book = tmp_path / "roster.xlsx"
    book.write_bytes(rf.standard_workbook())
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_roster", str(book), "--district", "杨浦区", *options, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def _passwords(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    pairs = dict(line.split("\t") for line in lines)
    assert len(pairs) == len(lines)
    return pairs


def _no_password_in_audit(*passwords: str) -> None:
    text = str(list(AuditLog.objects.values()))
    assert AuditLog.objects.exists()
    for password in passwords:
        assert password not in text


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _token(client, username, password):
    body = {"username": username, "password": password}
    return client.post("/api/v1/auth/token", body, content_type=JSON)


def _api_change(client, username, password, new):
    body = {"username": username, "password": password, "new_password": new}
    return client.post("/api/v1/auth/password", body, content_type=JSON)


def test_command_prints_one_line_per_new_account_and_only_that_on_stdout(tmp_path):
    out, err = _command(tmp_path)
    passwords = _passwords(out)
    assert set(passwords) == {"xh-desk", "xh-pharm", "xh-office"}
    assert all(ONE_TIME.fullmatch(p) for p in passwords.values())
    assert len(set(passwords.values())) == 3
    assert '"staff": {"created": 3' in err and "done in" in err  # the rest is on stderr
    desk = User.objects.get(username="xh-desk")
    assert desk.password_change_required and desk.check_password(passwords["xh-desk"])
    assert passwords["xh-desk"] not in desk.password  # stored hashed
    _no_password_in_audit(*passwords.values())
    # Again: nothing for accounts that still have their one-time password …
    assert _command(tmp_path)[0] == ""
    assert User.objects.get(username="xh-desk").check_password(passwords["xh-desk"])
    # … unless asked; then the old one-time password stops working.
    again = _passwords(_command(tmp_path, "--reset-passwords")[0])
    assert set(again) == set(passwords) and again["xh-desk"] != passwords["xh-desk"]
    desk.refresh_from_db()
    assert not desk.check_password(passwords["xh-desk"]) and desk.check_password(again["xh-desk"])
    _no_password_in_audit(*passwords.values(), *again.values())


def test_reset_passwords_leaves_accounts_that_chose_their_own(tmp_path):
    passwords = _passwords(_command(tmp_path)[0])
    desk = User.objects.get(username="xh-desk")
    desk.set_password(NEW)
    desk.password_change_required = False
    desk.save()
    again = _passwords(_command(tmp_path, "--reset-passwords")[0])
    assert set(again) == {"xh-pharm", "xh-office"}
    assert User.objects.get(username="xh-desk").check_password(NEW)
    assert passwords


def test_a_refused_import_prints_its_errors_on_stderr(tmp_path):
    book = tmp_path / "bad.xlsx"
    book.write_bytes(rf.standard_workbook([["新华街道", "XH09", *rf.HOUSEHOLDS[0][2:]]]))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_roster", str(book), "--district", "杨浦区", stdout=out, stderr=err)
    assert out.getvalue() == "" and "nothing was written" in err.getvalue()


def test_one_time_password_signs_in_only_to_the_change_page(client, tmp_path):
    password = _passwords(_command(tmp_path)[0])["xh-office"]
    login = _login(client, "xh-office", password)
    assert login.status_code == 302
    for page in ("/accounts/", "/accounts/import/", "/accounts/staff/", "/accounts/audit/"):
        answer = client.get(page)
        assert (answer.status_code, answer["Location"]) == (302, "/accounts/password/"), page
    api = client.get("/api/v1/auth/tokens")  # an API call on the session
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    assert client.get("/accounts/password/").status_code == 200
    same = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": password, "new_password2": password},
    )
    assert same.status_code == 422 and same.context["form"].has_error("new_password1")
    weak = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": "abc", "new_password2": "abc"},
    )
    assert weak.status_code == 422 and weak.context["form"].has_error("new_password1")
    wrong = client.post(
        "/accounts/password/",
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 422 and wrong.context["form"].has_error("old_password")
    assert User.objects.get(username="xh-office").password_change_required
    done = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
    )
    assert (done.status_code, done["Location"]) == (302, "/accounts/")
    assert client.get("/accounts/").status_code == 200  # still signed in, now normally
    assert client.get("/accounts/staff/").status_code == 200
    office = User.objects.get(username="xh-office")
    assert not office.password_change_required and office.check_password(NEW)
    assert AuditLog.objects.filter(action="password.change", actor_id=office.pk).exists()
    _no_password_in_audit(password, NEW)


def test_token_refused_until_the_one_time_password_is_changed_through_the_api(client, tmp_path):
    password = _passwords(_command(tmp_path)[0])["xh-pharm"]
    refused = _token(client, "xh-pharm", password)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    assert not ApiToken.objects.exists()
    wrong = _api_change(client, "xh-pharm", "not-the-password", NEW)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    assert AccessAttempt.objects.get(username="xh-pharm").failures_since_start == 1
    weak = _api_change(client, "xh-pharm", password, "abc")
    assert weak.status_code == 422 and "new_password" in weak.json()["errors"]
    same = _api_change(client, "xh-pharm", password, password)
    assert same.status_code == 422 and "new_password" in same.json()["errors"]
    assert User.objects.get(username="xh-pharm").password_change_required
    changed = _api_change(client, "xh-pharm", password, NEW)
    assert changed.status_code == 200 and changed.json()["code"] == "password_changed"
    assert _token(client, "xh-pharm", password).status_code == 401
    assert _token(client, "xh-pharm", NEW).status_code == 200
    _no_password_in_audit(password, NEW)


def test_the_api_password_change_is_locked_out_like_the_token(client, settings):
    UserFactory(username="gina", role="")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _api_change(client, "gina", "wrong", NEW).status_code == 401
    assert _api_change(client, "gina", "wrong", NEW).status_code == 429  # the limit: locked
    locked = _api_change(client, "gina", "pw-for-tests-1", NEW)
    assert locked.status_code == 429
    assert User.objects.get(username="gina").check_password("pw-for-tests-1")


@pytest.fixture
def area():
    """A subdistrict office with a committee, a pharmacy and their staff; another
    subdistrict with its own committee user."""
    sub = SubdistrictFactory()
    pharmacy = PharmacyFactory(subdistrict=sub)
    committee = CommitteeFactory(subdistrict=sub, pharmacy=pharmacy)
    other = SubdistrictFactory(district=sub.district)
    return {
        "office": UserFactory(username="office", role="subdistrict", subdistrict=sub),
        "desk": UserFactory(username="desk", role="committee", committee=committee),
        "pharm": UserFactory(username="pharm", role="pharmacy", pharmacy=pharmacy),
        "foreign": UserFactory(
            username="foreign",
            role="committee",
            committee=CommitteeFactory(
                subdistrict=other, pharmacy=PharmacyFactory(subdistrict=other)
            ),
        ),
    }


def test_staff_page_resets_a_password_to_a_one_time_one(client, area):
    desk = area["desk"]
    raw = _token(client, "desk", "pw-for-tests-1").json()["token"]
    client.force_login(area["office"])
    listed = client.get("/accounts/staff/")
    assert list(listed.context["accounts"]) == [desk, area["pharm"]]  # own area, not self
    answer = client.post(f"/accounts/staff/{desk.pk}/", {"action": "reset"})
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    user, password = answer.context["reset"]
    assert user == desk and ONE_TIME.fullmatch(password)
    assert password.encode() in answer.content  # shown once, on the page, not in a URL
    desk.refresh_from_db()
    assert desk.password_change_required and desk.check_password(password)
    assert client.get("/api/v1/auth/tokens", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    entry = AuditLog.objects.get(action="staff.password_reset")
    assert entry.actor_id == area["office"].pk and entry.committee_id == desk.committee_id
    _no_password_in_audit(password)
    other = type(client)()
    assert _login(other, "desk", "pw-for-tests-1").status_code == 200  # the old one is gone
    assert _login(other, "desk", password).status_code == 302
    assert other.get("/accounts/")["Location"] == "/accounts/password/"  # one-time again
    assert _token(other, "desk", password).status_code == 403


def test_staff_page_deactivates_and_reactivates(client, area):
    pharm = area["pharm"]
    session = type(client)()
    session.force_login(pharm)
    client.force_login(area["office"])
    off = client.post(f"/accounts/staff/{pharm.pk}/", {"action": "deactivate"})
    assert (off.status_code, off["Location"]) == (302, "/accounts/staff/")
    assert not User.objects.get(pk=pharm.pk).is_active
    assert session.get("/accounts/").status_code == 302  # its session has ended
    assert _login(type(client)(), "pharm", "pw-for-tests-1").status_code == 200  # refused
    assert _token(type(client)(), "pharm", "pw-for-tests-1").status_code == 401
    on = client.post(f"/accounts/staff/{pharm.pk}/", {"action": "reactivate"})
    assert on.status_code == 302 and User.objects.get(pk=pharm.pk).is_active
    assert _login(type(client)(), "pharm", "pw-for-tests-1").status_code == 302
    staff_actions = AuditLog.objects.filter(action__startswith="staff.").order_by("id")
    assert list(staff_actions.values_list("action", flat=True)) == [
        "staff.deactivate",
        "staff.reactivate",
    ]
    entry = AuditLog.objects.get(action="staff.deactivate")
    assert (entry.before, entry.after, entry.pharmacy_id) == (
        {"is_active": True},
        {"is_active": False},
        pharm.pharmacy_id,
    )


def test_foreign_accounts_are_not_found_and_committee_staff_refused(client, area):
    foreign = area["foreign"]
    client.force_login(area["office"])
    for action in ("reset", "deactivate"):
        assert client.post(f"/accounts/staff/{foreign.pk}/", {"action": action}).status_code == 404
    assert (
        client.post(f"/accounts/staff/{area['office'].pk}/", {"action": "reset"}).status_code == 404
    )
    foreign.refresh_from_db()
    assert foreign.is_active and foreign.check_password("pw-for-tests-1")
    client.force_login(area["desk"])
    assert client.get("/accounts/staff/").status_code == 403
    pharm = area["pharm"]
    assert client.post(f"/accounts/staff/{pharm.pk}/", {"action": "reset"}).status_code == 403
    assert User.objects.get(pk=pharm.pk).check_password("pw-for-tests-1")
    assert not AuditLog.objects.filter(action__startswith="staff.").exists()
