"""The site's 403, 404 and 500 answers (``handler403`` etc. in fairshare/urls.py).

Pages get the translated templates 403.html, 404.html and 500.html in the site's layout;
paths under /api/ get a JSON body (also for a path no API route matches), in the
user's language like every other API error.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("You may not do this."), "code": "forbidden"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("No such API path."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = {"detail": _("Internal error; please try again later."), "code": "server_error"}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
