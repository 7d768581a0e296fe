from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from fairshare.community.models import Committee
from fairshare.rounds.models import Round


def home(request: HttpRequest) -> HttpResponse:
    rounds = Round.objects.filter(status=Round.Status.OPEN).order_by("registration_opens_at")
    committees = Committee.objects.select_related("subdistrict", "pharmacy").order_by("code")
    return render(request, "core/home.html", {"rounds": rounds, "committees": committees})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def ping(request: HttpRequest) -> JsonResponse:
    """Trivial endpoint (no database): the framework ceiling in benchmarks."""
    return JsonResponse({"ok": True})
