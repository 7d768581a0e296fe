"""The figures the privacy notice states, read from the settings (never hard-coded)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def purge_after_days() -> int:
    """Days after a round's last purchase day until its personal data is purged
    (``FAIRSHARE_PURGE_AFTER_DAYS``, the figure ``fairshare purge_due`` uses)."""
    return int(settings.FAIRSHARE_PURGE_AFTER_DAYS)
