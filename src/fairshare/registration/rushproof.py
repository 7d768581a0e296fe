"""Rush-proof registration forms (issue 15): a retried form registers once.

Each render of the resident entry form carries a fresh random key (hidden field
``form_key``; ``entry.js`` also sends it as the ``Idempotency-Key`` header). When the
page's own script gets 503 or 429 back, it keeps what was typed, counts down the
``Retry-After`` seconds and sends the same request again with the same key; a browser
without the script can press the button again. Whichever arrives twice, the key makes
the registration happen once: the first successful answer (the ticket) is stored with
``core.idempotency`` and a repeat with the same key and the same fields is given it
again, so the resident lands on their confirmation page instead of "already registered".
Errors are not stored (the registration raises, nothing commits), so a corrected form
sent with the same key runs as new. The same key with different fields after a success
(e.g. the back button, then another name) is refused with a message, never a second
registration.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from django.http import HttpRequest
from django.utils.translation import gettext as _

from fairshare.core.errors import FieldErrors
from fairshare.core.idempotency import IdempotencyMismatch, idempotent_call
from fairshare.registration.photos import MAX_PHOTO_BYTES

FIELD = "form_key"
HEADER = "HTTP_IDEMPOTENCY_KEY"
_SIGNED_FIELDS = ("building", "room", "name", "phone", "returned_from", "returned_on")


def form_key_new() -> str:
    """A fresh key for one render of the form."""
    return secrets.token_urlsafe(18)


def form_key_of(request: HttpRequest) -> str:
    """The key the browser sent: the header (the script) or the hidden field."""
    return (request.META.get(HEADER) or request.POST.get(FIELD) or "").strip()


def _payload(request: HttpRequest, scope: str) -> dict[str, str]:
    post = request.POST
    payload = {name: post.get(name, "") for name in _SIGNED_FIELDS}
    payload["returned_recently"] = str(post.get("returned_recently") == "on")
    upload = request.FILES.get("photo")
    if upload is not None:  # the photo channel: the same picture, not just the same name
        payload["photo"] = hashlib.sha256(upload.read(MAX_PHOTO_BYTES + 1)).hexdigest()
        upload.seek(0)
    payload["scope"] = scope
    return payload


def registration_once(*, request: HttpRequest, scope: str, register: Callable[[], str]) -> str:
    """The ticket of this form's registration: ``register()``'s on the first successful
    send of the form's key, the stored one on a repeat. Without a key, just ``register()``."""
    key = form_key_of(request)
    if not key:
        return register()
    try:
        _status, body = idempotent_call(
            key=key,
            scope=f"form:{scope}",
            payload=_payload(request, scope),
            call=lambda: (201, {"ticket": register()}),
        )
    except IdempotencyMismatch:
        errors = FieldErrors()
        errors.add(
            "general",
            _(
                "This form was already sent with other details. Reload the page to start "
                "a new registration."
            ),
        )
        raise errors from None
    return str(body["ticket"])
