"""``{% load own_link_tags %}{% own_link registration as link %}``: the registration's own
"registered" link (``registration/links.py``) for the slip, without a view change."""

from __future__ import annotations

from django import template

from fairshare.registration.links import OwnLink, registered_link
from fairshare.registration.models import Registration

register = template.Library()


@register.simple_tag
def own_link(registration: Registration) -> OwnLink | None:
    return registered_link(registration)
