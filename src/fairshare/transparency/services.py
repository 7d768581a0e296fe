"""Writes of this app: publishing and withdrawing official notices (答复口径)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import covers_subdistrict
from fairshare.community.models import Subdistrict
from fairshare.core.audit import audit_record
from fairshare.core.errors import FieldErrors, Forbidden, NotFound
from fairshare.core.locking import write_transaction
from fairshare.transparency.models import Notice


def notice_publish(
    *, actor: User | None, subdistrict: Subdistrict, title: str, body: str
) -> Notice:
    """Publish a notice for a subdistrict; subdistrict (or district) staff only. Audited."""
    title, body = (title or "").strip(), (body or "").strip()
    errors = FieldErrors()
    if not title:
        errors.add("title", _("This field is required."))
    elif len(title) > 100:
        errors.add("title", _("At most 100 characters."))
    if not body:
        errors.add("body", _("This field is required."))
    elif len(body) > 2000:
        errors.add("body", _("At most 2000 characters."))
    if errors:
        raise errors
    if not covers_subdistrict(actor, subdistrict):  # its own staff, or its district's
        raise Forbidden(_("Only staff of this subdistrict may publish its notices."))
    with write_transaction():
        notice = Notice.objects.create(
            subdistrict=subdistrict,
            title=title,
            body=body,
            published_at=timezone.now(),
            published_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="notice.publish",
            obj=notice,
            after={"title": title, "body": body},
            subdistrict_id=subdistrict.pk,
        )
    return notice


def notice_withdraw(*, actor: User | None, notice_id: int) -> Notice:
    """Withdraw a published notice (kept for the record). Audited."""
    notice = Notice.objects.select_related("subdistrict").filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(_("Unknown notice."))
    if not covers_subdistrict(actor, notice.subdistrict):
        raise Forbidden(_("Only staff of this subdistrict may withdraw its notices."))
    with write_transaction():
        now = timezone.now()
        changed = Notice.objects.filter(pk=notice.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=now
        )
        if changed:
            audit_record(
                actor=actor,
                action="notice.withdraw",
                obj=notice,
                before={"title": notice.title},
                subdistrict_id=notice.subdistrict_id,
            )
    notice.refresh_from_db()
    return notice
