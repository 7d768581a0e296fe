from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def ping(request: HttpRequest) -> JsonResponse:
    """Trivial endpoint (no database): the framework ceiling in benchmarks."""
    return JsonResponse({"ok": True})
