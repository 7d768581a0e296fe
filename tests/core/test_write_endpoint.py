"""``core/endpoints.write_endpoint``: the write endpoints' shared plumbing."""

from __future__ import annotations

import json
import threading

import pytest
from django.test import RequestFactory
from django.utils import translation

from fairshare.core import groupcommit
from fairshare.core.endpoints import write_endpoint
from fairshare.core.errors import Conflict

pytestmark = pytest.mark.django_db


def test_the_operation_answers_in_the_request_language_on_another_thread(monkeypatch):
    """A group-commit unit may run on another request's thread (the group's leader),
    where another language is active."""

    def on_another_thread(fn):
        result = {}
        thread = threading.Thread(target=lambda: result.update(answer=fn()))
        thread.start()
        thread.join()
        return result["answer"]

    monkeypatch.setattr(groupcommit, "group_commit", on_another_thread)

    @write_endpoint(group_commit=True)
    def view(request):
        return lambda: (201, {"language": translation.get_language(), "text": "中文"})

    with translation.override("en"):  # the settings' default is zh-hans
        response = view(RequestFactory().post("/x"))
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "中文".encode() in response.content  # not ASCII-escaped
    assert json.loads(response.content)["language"] == "en"


def test_a_refusal_of_the_operation_is_its_status_and_error_body():
    @write_endpoint()
    def view(request):
        def refuse():
            raise Conflict("Taken.", code="taken", extra={"by": 1})

        return refuse

    response = view(RequestFactory().post("/x"))
    assert response.status_code == 409
    assert json.loads(response.content) == {"detail": "Taken.", "code": "taken", "by": 1}
