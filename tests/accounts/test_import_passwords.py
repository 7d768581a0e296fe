"""The roster page's one-time passwords (issue 19): through the background job sealed,
shown once to the uploader within the hour, never in clear in the database."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.core.models import AuditLog, Job
from fairshare.core.outbox import outbox_drain
from fairshare.core.secretbox import open_json, seal_json
from tests.accounts import roster_files as rf
from tests.factories import SubdistrictFactory, UserFactory

pytestmark = pytest.mark.django_db
STAFF = {"xh-desk", "xh-pharm", "xh-office"}


@pytest.fixture
def office(client):
    sub = SubdistrictFactory(code="XHJD", name="新华街道")
    user = UserFactory(role="subdistrict", subdistrict=sub)
    client.force_login(user)
    return user


def _finished(client, answer):
    assert answer.status_code == 302, answer.content[:2000]
    outbox_drain()  # what the outbox worker does
    return answer["Location"]


def _imported(client, **confirm):
    """Upload → check job → confirm → import job; the import job page's address."""
    upload = SimpleUploadedFile("roster.xlsx", rf.standard_workbook())
    check = _finished(
        client, client.post("/accounts/import/", {"action": "check", "upload": [upload]})
    )
    checked = client.get(check)
    assert checked.context["status"]["state"] == "done" and checked.context["dry_run"]
    assert b'name="reset_passwords"' in checked.content  # the confirm step offers it
    job = checked.context["job"].pk
    return _finished(
        client, client.post("/accounts/import/", {"action": "confirm", "job": job, **confirm})
    )


def _database_text():
    return str(list(Job.objects.values())) + str(list(AuditLog.objects.values()))


def test_passwords_shown_once_to_the_uploader_never_stored_in_clear(client, office):
    location = _imported(client)
    stored = Job.objects.get(params__dry_run=False)
    assert stored.state == "done" and stored.result["passwords"]  # sealed, not empty
    before = _database_text()  # the rows as the worker left them, before any view
    page = client.get(location)
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    passwords = dict(page.context["passwords"])
    assert set(passwords) == STAFF
    html = page.content.decode()
    assert all(f'<code class="one-time-password">{p}</code>' in html for p in passwords.values())
    for text in (before, _database_text()):  # neither the job row nor the audit log
        assert not any(p in text for p in passwords.values())
    assert Job.objects.get(pk=stored.pk).result["passwords"] == ""  # blanked after the view
    again = client.get(location)
    assert again.context["passwords"] == [] and "no-store" in again["Cache-Control"]
    assert not any(p in again.content.decode() for p in passwords.values())
    assert "/accounts/staff/" in again.content.decode()  # where to reset one
    # The password signs in, but only to the forced change page.
    client.logout()
    login = client.post(
        "/accounts/login/", {"username": "xh-desk", "password": passwords["xh-desk"]}
    )
    assert login.status_code == 302
    assert client.get("/accounts/")["Location"] == "/accounts/password/"
    assert client.get("/accounts/password/").status_code == 200
    assert User.objects.get(username="xh-desk").password_change_required


def test_an_unviewed_import_older_than_an_hour_shows_no_passwords(client, office):
    location = _imported(client)
    job = Job.objects.get(params__dry_run=False)
    sealed = job.result["passwords"]
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=61))
    page = client.get(location)
    assert page.context["passwords"] == [] and b"one-time-password" not in page.content
    assert "/accounts/staff/" in page.content.decode()
    assert Job.objects.get(pk=job.pk).result["passwords"] == ""  # blanked, not kept
    assert open_json(sealed, context=f"roster_import:{job.pk}")  # it was there to blank


def test_reset_passwords_checkbox_reaches_the_import(client, office):
    client.get(_imported(client))  # the new accounts' passwords, seen
    # A second import of the same file: no new accounts, so no passwords ...
    location = _imported(client)
    assert client.get(location).context["passwords"] == []
    # ... unless the checkbox asks for new ones for accounts that have not changed theirs.
    location = _imported(client, reset_passwords="on")
    assert Job.objects.filter(params__reset_passwords=True).count() == 1
    assert set(dict(client.get(location).context["passwords"])) == STAFF


def test_another_uploader_never_sees_the_passwords(client, office):
    location = _imported(client)
    client.force_login(UserFactory(role="subdistrict", subdistrict=office.subdistrict))
    assert client.get(location).status_code == 404
    assert Job.objects.get(params__dry_run=False).result["passwords"]  # still there
    client.force_login(office)
    assert set(dict(client.get(location).context["passwords"])) == STAFF


def test_secretbox_is_bound_to_its_context_and_key(settings):
    # A password long and unusual enough that it cannot turn up in base64 by chance (a
    # two-letter one did, once in a while: that is no proof of encryption).
    secret = "Kq7-zz9!pw_Secret"
    token = seal_json([["a", secret]], context="roster_import:1")
    assert secret not in token and secret.encode() not in base64.urlsafe_b64decode(token + "==")
    assert open_json(token, context="roster_import:1") == [["a", secret]]
    assert open_json(token, context="roster_import:2") is None
    assert open_json(token[:-4] + "AAAA", context="roster_import:1") is None
    assert open_json("", context="roster_import:1") is None
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert open_json(token, context="roster_import:1") is None
