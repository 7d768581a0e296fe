"""Elder mode (长辈模式, like WeChat's care mode): a cookie the resident sets with one
button on any page; ``base.html`` then marks ``<html class="elder">`` and ``site.css``
raises text to ≥ 24 px (18 pt), headings to ≥ 40 px (30 pt) and tap targets to ≥ 60×60 px
(MIIT 2021 适老化 rules). Works without JavaScript: a GET form, then back to the page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

COOKIE = "fs_elder"
ONE_YEAR = 365 * 24 * 3600


@require_GET
def elder_mode_set(request: HttpRequest) -> HttpResponse:
    """``?on=1`` switches elder mode on, ``?on=0`` off; then back to ``next`` (same site)."""
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if request.GET.get("on") == "1":
        response.set_cookie(COOKIE, "1", max_age=ONE_YEAR, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
