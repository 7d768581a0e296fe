"""``{% appointments_due round committee as panel %}``: who is due now and who is late,
for the desk's appointment panel (``registration/_appointments_panel.html``);
``{% appointments_bookable round committee as bookable %}``: the entry page's link to the
resident's online booking."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from fairshare.community.models import Committee
from fairshare.registration.appointments import appointments_due as _due
from fairshare.registration.appointments import windows_bookable
from fairshare.rounds.models import Round

register = template.Library()


@register.simple_tag
def appointments_due(round: Round, committee: Committee) -> dict[str, Any]:
    due, late = _due(round=round, committee=committee, now=timezone.now())
    return {"due": due, "late": late}


@register.simple_tag
def appointments_bookable(round: Round, committee: Committee) -> bool:
    """Whether the committee has a window residents can still book (entry page link)."""
    return windows_bookable(round=round, committee=committee, now=timezone.now()).exists()
