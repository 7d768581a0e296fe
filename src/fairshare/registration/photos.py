"""The photo channel ("一张照片"): a resident uploads a photo of the residence booklet or
ID with the phone number; the upload time sets the queue number.

The registration is created at once (channel photo, status pending_review) together
with its RegistrationPhoto row, in one transaction. The file is written first through
the row's private storage (``core/filestore.py``; never under static files)
and removed again when the registration is refused. Staff of the committee see it
through a scoped view.
"""

from __future__ import annotations

import secrets
from typing import Unpack

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from fairshare.community.models import Household
from fairshare.core.errors import FieldErrors
from fairshare.core.filestore import private_storage
from fairshare.core.locking import write_transaction
from fairshare.registration.models import RegistrationPhoto
from fairshare.registration.services import (
    RegistrationOptions,
    RegistrationResult,
    registration_create,
)
from fairshare.rounds.models import Round

MAX_PHOTO_BYTES = 8 * 1024 * 1024
_SIGNATURES = {b"\xff\xd8\xff": ("image/jpeg", "jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}


def photo_kind(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) judged from the file's first bytes, not its name."""
    for magic, kind in _SIGNATURES.items():
        if data.startswith(magic):
            return kind
    return None


def registration_create_with_photo(
    *,
    round: Round,
    household: Household,
    name: str,
    phone: str,
    photo: bytes,
    **extra: Unpack[RegistrationOptions],
) -> RegistrationResult:
    errors = FieldErrors()
    kind = photo_kind(photo or b"")
    if not photo:
        errors.add("photo", _("Please choose a photo."))
    elif len(photo) > MAX_PHOTO_BYTES:
        errors.add("photo", _("The photo is too large (at most 8 MB)."))
    elif kind is None:
        errors.add("photo", _("Please upload a JPEG or PNG photo."))
    if errors or kind is None:
        raise errors
    content_type, ext = kind
    storage = private_storage()
    file_name = storage.save(
        f"photos/{round.pk}/{household.committee_id}/{secrets.token_hex(16)}.{ext}",
        ContentFile(photo),
    )
    try:
        with write_transaction():
            result = registration_create(
                round=round,
                household=household,
                name=name,
                phone=phone,
                channel="photo",
                photo_attached=True,
                **extra,
            )
            if result.created:
                RegistrationPhoto.objects.create(
                    registration=result.registration,
                    file=file_name,
                    content_type=content_type,
                    size=len(photo),
                )
    except BaseException:
        storage.delete(file_name)
        raise
    if not result.created:
        storage.delete(file_name)
    return result
