"""The resident's signed personal status link (``/r/s/<token>/``), instead of retyping.

The token is ``django.core.signing`` over the registration's id and ticket with its own
salt (so no other signed value of the service is accepted as one); it holds no phone.
It does not expire: the status page refuses it once the registration's personal data
is purged (``Registration.personal_data_purged_at``).
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from fairshare.registration.models import Registration

STATUS_LINK_SALT = "fairshare.registration.status-link"


def status_token_make(registration: Registration) -> str:
    return signing.dumps([registration.pk, registration.ticket], salt=STATUS_LINK_SALT)


def status_token_read(token: str) -> tuple[int, str] | None:
    """(registration id, ticket) of a genuine token; ``None`` for anything else."""
    try:
        value = signing.loads(token, salt=STATUS_LINK_SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        return None
    return value[0], value[1]


def status_link_path(registration: Registration) -> str:
    return reverse("resident_status_link", args=[status_token_make(registration)])
