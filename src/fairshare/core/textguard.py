"""Pages never answer 500 to a NUL character: the request is refused before any view.

No database text column can hold NUL (PostgreSQL refuses the whole statement), and
many pages read ``request.POST`` / ``request.GET`` without a form. So, for every
page request (the API has its own per-field rule, ``core/schemas.py``):

* a control character in the path → 404 (no page has such an address);
* NUL in a query or form value (or name) → 400, a page in the user's language that
  names the fields to correct. Nothing runs, so nothing is written.

Other control characters and line breaks in single-line fields are per-field errors
of the forms (``core/forms.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fairshare.core.schemas import text_problem

_API_PREFIX = "/api/"


def nul_fields(request: HttpRequest) -> list[str]:
    """The names of query and form fields whose name or a value holds NUL."""
    fields: list[str] = []
    for data in (request.GET, request.POST):
        for name, values in data.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                fields.append(name.replace("\x00", "\\0"))
    return fields


class TextGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_API_PREFIX):
            return self.get_response(request)
        if text_problem(request.path) is not None:
            raise Http404("control character in the path")
        fields = nul_fields(request)
        if fields:
            return render(request, "core/text_refused.html", {"fields": fields}, status=400)
        return self.get_response(request)
