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


class LedgerCheckpoint(models.Model):
    """A signed statement of every ledger chain's head at a time (issue 18).

    Written by ``transparency.checkpoints.checkpoint_take`` (the daily
    ``fairshare ledger_checkpoint`` and staff on demand), never changed afterwards.
    ``statement`` is the exact canonical JSON that was signed
    (``registration/checkpoint_format.py``); ``chains`` the same heads as a list of
    ``{"round", "committee", "links", "head"}`` for reading.
    """

    created_at = models.DateTimeField(_("signed at"), default=timezone.now, db_index=True)
    chains = models.JSONField(_("chains"), default=list)
    statement = models.TextField(_("signed statement"))
    signature = models.CharField(_("signature"), max_length=100)
    public_key = models.CharField(_("public key"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({len(self.chains)})"
