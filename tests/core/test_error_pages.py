"""403, 404 and 500 pages: translated (Chinese unless switched), in the site's layout, a
link home; JSON under /api/ (fairshare/core/error_views.py, templates 403/404/500.html).
Tests run with DEBUG=False, as in production."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation

from fairshare.core.error_views import server_error
from tests.factories import PharmacyFactory, UserFactory

pytestmark = pytest.mark.django_db

LAYOUT = 'class="container site-header"'


def _text(response) -> str:
    return response.content.decode()


def test_tests_run_without_debug():
    assert settings.DEBUG is False


def test_404_is_chinese_in_the_layout_with_a_link_home(client: Client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = _text(response)
    assert "页面不存在" in body and "返回首页" in body and 'href="/"' in body
    assert LAYOUT in body and 'lang="zh-CN"' in body
    assert "Not Found" not in body and "Page not found" not in body


def test_404_in_english_when_switched(client: Client):
    client.cookies["django_language"] = "en"
    body = _text(client.get("/no-such-page/"))
    assert "Page not found" in body and "Back to the home page" in body
    assert "页面不存在" not in body


def test_403_is_chinese_in_the_layout(client: Client):
    client.force_login(UserFactory(role="pharmacy", pharmacy=PharmacyFactory()))
    response = client.get("/admin/rounds/round/")  # rounds are area staff's
    assert response.status_code == 403
    body = _text(response)
    assert "无权访问" in body and "返回首页" in body and LAYOUT in body
    assert "403 Forbidden" not in body and "Access denied" not in body
    client.cookies["django_language"] = "en"
    assert "Access denied" in _text(client.get("/admin/rounds/round/"))


@pytest.mark.urls("tests.core.error_urls")
def test_a_failing_view_gets_the_chinese_500_page():
    client = Client(raise_request_exception=False)
    response = client.get("/test-boom/")
    assert response.status_code == 500
    body = _text(response)
    assert "出错了" in body and "返回首页" in body and LAYOUT in body
    assert "Server Error" not in body and "a bug in a view" not in body
    client.cookies["django_language"] = "en"
    assert "Something went wrong" in _text(client.get("/test-boom/"))


def test_the_500_page_renders_without_the_database(django_assert_num_queries):
    with translation.override("zh-hans"), django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/registration/"))
    assert response.status_code == 500 and "出错了" in _text(response)


@pytest.mark.urls("tests.core.error_urls")
def test_api_paths_answer_json_in_the_users_language():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/no-such-path")
    assert response.status_code == 404
    assert response.json() == {"detail": "没有这个接口路径。", "code": "not_found"}
    response = client.get("/api/v1/test-boom")
    assert response.status_code == 500 and response.json()["code"] == "server_error"
    assert response.json()["detail"] == "内部错误，请稍后重试。"
    client.cookies["django_language"] = "en"
    assert client.get("/api/v1/no-such-path").json()["detail"] == "No such API path."
