"""Official notices (答复口径) published by subdistrict offices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """A short official answer (答复口径) shown on the public board and resident pages.

    Notices are published through ``fairshare.transparency.services.notice_publish``
    (which writes an audit record) and withdrawn, never deleted.
    """

    subdistrict = models.ForeignKey(
        "community.Subdistrict",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("subdistrict"),
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), max_length=2000)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("official notice")
        verbose_name_plural = _("official notices")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["subdistrict", "published_at"], name="notice_subdistrict_idx")
        ]

    def __str__(self) -> str:
        return self.title
