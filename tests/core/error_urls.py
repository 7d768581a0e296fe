"""The site's URLs plus two views that fail, for tests/core/test_error_pages.py."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from fairshare.urls import handler403, handler404, handler500
from fairshare.urls import urlpatterns as site_patterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


urlpatterns = [
    path("test-boom/", boom),
    path("api/v1/test-boom", boom),
    *site_patterns,
]
__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
