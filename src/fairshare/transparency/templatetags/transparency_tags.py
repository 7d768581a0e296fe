"""``{% load transparency_tags %}{% official_notices subdistrict %}`` for resident pages."""

from __future__ import annotations

from typing import Any

from django import template

from fairshare.community.models import Subdistrict
from fairshare.transparency.selectors import notices_for

register = template.Library()


@register.inclusion_tag("transparency/_notices.html")
def official_notices(subdistrict: Subdistrict | int | str | None, limit: int = 5) -> dict[str, Any]:
    """Published notices of a subdistrict (instance, id or code)."""
    if subdistrict is None or subdistrict == "":
        return {"notices": []}
    return {"notices": list(notices_for(subdistrict=subdistrict, limit=limit))}
