"""``{% form_token %}``: the one-time token of a staff write form (``core.forms``)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from fairshare.core.forms import FORM_TOKEN, form_token_new

register = template.Library()


@register.simple_tag
def form_token() -> SafeString:
    """A hidden input with a fresh token; put it next to ``{% csrf_token %}``."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_TOKEN, form_token_new())
