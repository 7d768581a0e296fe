"""Database outages answer 503 "retry" (API: JSON, pages: the site's 503 page); other DB errors
stay 500."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from fairshare.core.dbguard import is_unavailable

pytestmark = pytest.mark.django_db


def _raise(message: str, cls=OperationalError):
    def boom(*args, **kwargs):
        raise cls(message)

    return boom


def test_classification():
    assert is_unavailable(OperationalError("connection failed: Connection refused"))
    assert is_unavailable(OperationalError("server closed the connection unexpectedly"))
    assert is_unavailable(InterfaceError("connection already closed"))
    assert not is_unavailable(OperationalError("no such table: community_committee"))
    assert not is_unavailable(ValueError("connection"))


def test_api_outage_is_a_json_503_with_retry_after(monkeypatch):
    monkeypatch.setattr(
        "fairshare.community.api.committee_list", _raise("server closed the connection")
    )
    response = Client().get("/api/v1/committees")
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable" and int(response["Retry-After"]) > 0
    assert "Content-Security-Policy" in response  # still wrapped by the security headers


def test_page_outage_is_the_503_page(monkeypatch):
    monkeypatch.setattr("fairshare.transparency.views.render", _raise("connection refused"))
    response = Client().get("/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    assert "请稍后重试" in response.content.decode()


def test_other_database_errors_stay_500(monkeypatch):
    monkeypatch.setattr("fairshare.community.api.committee_list", _raise("no such table: x"))
    client = Client(raise_request_exception=False)
    assert client.get("/api/v1/committees").status_code == 500
