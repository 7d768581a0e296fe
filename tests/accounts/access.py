"""Accounts pages and endpoints of issue 19 in the access matrix: the roster upload page
and the staff accounts page are for subdistrict and district staff (each within their own
area); the change-password page is for every signed-in staff user; the password API is
public (its credentials are in the body)."""

from __future__ import annotations

from tests.accounts.access_registry import public, staff
from tests.accounts.world import PASSWORD

AREA = ("district", "subdistrict")
ALL_STAFF = ("district", "subdistrict", "committee", "pharmacy")


def _weak_new_password(c):
    # The right credentials and a new password the validators refuse: 422, nothing changed.
    return {
        "username": c.side.users["committee"].username,
        "password": PASSWORD,
        "new_password": "x",
    }


def _job(c):
    """A roster job of the calling user (a job page is only its uploader's)."""
    from fairshare.core.models import Job

    job = Job.objects.create(kind="roster_import", params={"dry_run": True}, created_by=c.user)
    return {"job_id": job.pk}


ENTRIES = {
    ("GET", "/accounts/import/jobs/<int:job_id>/"): staff(*AREA, params=_job),
    ("GET", "/accounts/import/jobs/<int:job_id>/status/"): staff(*AREA, params=_job),
    ("GET", "/accounts/import/"): staff(*AREA, scoped=False, own=frozenset({200})),
    # Without a file the form is shown again with its error (422).
    ("POST", "/accounts/import/"): staff(
        *AREA, scoped=False, body=lambda c: {"action": "check"}, own=frozenset({422})
    ),
    ("GET", "/accounts/password/"): staff(*ALL_STAFF, scoped=False, own=frozenset({200})),
    # An empty form: shown again with its errors (422), nothing changed.
    ("POST", "/accounts/password/"): staff(
        *ALL_STAFF, scoped=False, body=lambda c: {}, own=frozenset({422})
    ),
    ("GET", "/accounts/staff/"): staff(*AREA, scoped=False, own=frozenset({200})),
    # Reactivating the (active) pharmacy account of the target side changes nothing; a
    # foreign side's account is "not found".
    ("POST", "/accounts/staff/<int:user_id>/"): staff(
        *AREA,
        params=lambda c: {"user_id": c.users["pharmacy"].pk},
        body=lambda c: {"action": "reactivate"},
        own=frozenset({302}),
    ),
    ("POST", "/api/v1/auth/password"): public(body=_weak_new_password),
}
