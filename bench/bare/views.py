"""The bare app's trivial JSON view (the raw-SQL registration is ``benchfloor.views``)."""

from django.http import HttpRequest, JsonResponse


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
