"""Changes to places. Who may call them is decided above (accounts' scoping)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from fairshare.community.models import Committee, Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import FieldErrors
from fairshare.core.locking import lock_rows, write_transaction


def committee_pharmacy_set(
    *, committee: Committee, pharmacy: Pharmacy, actor: AbstractBaseUser | None = None
) -> Committee:
    """Make ``pharmacy`` the committee's serving pharmacy (same subdistrict; audited)."""
    if pharmacy.subdistrict_id != committee.subdistrict_id:
        raise FieldErrors(
            {"pharmacy": [_("The serving pharmacy must be in the committee's subdistrict.")]}
        )
    with write_transaction():
        current = lock_rows(Committee.objects.filter(pk=committee.pk)).get()
        if current.pharmacy_id == pharmacy.pk:
            return current
        before = {"pharmacy": current.pharmacy_id}
        current.pharmacy = pharmacy
        current.save(update_fields=["pharmacy"])
        audit_record(
            actor=actor,
            action="committee.pharmacy",
            obj=current,
            before=before,
            after={"pharmacy": pharmacy.pk},
            subdistrict_id=current.subdistrict_id,
            committee_id=current.pk,
        )
    return current
