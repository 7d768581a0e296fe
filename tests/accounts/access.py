"""The roster import pages (issue 19) in the access matrix: the upload page is for
subdistrict and district staff (each within their own area); the set-password page is
public (its one-time link is the credential)."""

from __future__ import annotations

from tests.accounts.access_registry import public, staff

AREA = ("district", "subdistrict")


def _bad_link(c):
    return {"uidb64": "MQ", "token": "not-a-token"}


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
    ("GET", "/accounts/set-password/<uidb64>/<token>/"): public(params=_bad_link),
    ("POST", "/accounts/set-password/<uidb64>/<token>/"): public(
        params=_bad_link, body=lambda c: {}
    ),
}
