"""API error messages are translated and in the user's language only: Chinese by
default, English after the language switch; never "中文 / English" in one message
(fairshare/core/api_errors.py, the handlers of fairshare/api.py, the selectors' NotFound)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from fairshare.core.api_errors import validation_error_body
from tests.factories import CommitteeFactory, RoundFactory
from tests.support.language import is_chinese_only, is_english_only

pytestmark = pytest.mark.django_db


def _both(path: str, method: str = "get", **kwargs) -> tuple[dict, dict]:
    """The JSON answer in Chinese (default) and in English (language cookie)."""
    zh = getattr(Client(), method)(path, **kwargs).json()
    english = Client()
    english.cookies["django_language"] = "en"
    return zh, getattr(english, method)(path, **kwargs).json()


def test_authentication_required():
    zh, en = _both("/api/v1/auth/tokens")
    assert zh["detail"] == "需要登录。" and en["detail"] == "Authentication required."


def test_unknown_round():
    zh, en = _both("/api/v1/stats/rounds/999999")
    assert zh["detail"] == "未知的轮次。" and en["detail"] == "Unknown round."


def test_unknown_committee():
    zh, en = _both("/api/v1/committees/NOPE/households")
    assert zh["detail"] == "未知的居委会。" and en["detail"] == "Unknown committee."


def test_unknown_subdistrict_of_the_stats():
    rnd = RoundFactory()
    zh, en = _both(f"/api/v1/stats/rounds/{rnd.pk}?subdistrict=NOPE")
    assert zh["detail"] == "未知的街道。" and en["detail"] == "Unknown subdistrict."


def test_pydantic_errors_are_translated():
    committee = CommitteeFactory()
    rnd = RoundFactory(district=committee.subdistrict.district)
    path = f"/api/v1/rounds/{rnd.pk}/registrations"
    body = {"committee": committee.code, "room": "1" * 500}
    zh, en = _both(path, "post", data=body, content_type="application/json")
    assert zh["detail"] == "输入有误。" and en["detail"] == "Invalid input."
    for message in (m for messages in zh["errors"].values() for m in messages):
        assert is_chinese_only(message), message
    for message in (m for messages in en["errors"].values() for m in messages):
        assert is_english_only(message), message


def test_malformed_json_body():
    rnd = RoundFactory()
    path = f"/api/v1/rounds/{rnd.pk}/registrations"
    zh, en = _both(path, "post", data="{", content_type="application/json")
    # Invalid input like any other (422): the reason is the body's own error.
    assert zh["detail"] == "输入有误。" and en["detail"] == "Invalid input."
    assert zh["errors"] == {"__all__": ["请求体不是有效的 JSON。"]}
    assert en["errors"] == {"__all__": ["The body is not valid JSON."]}


def test_a_validators_message_is_kept_and_pydantics_english_is_not():
    errors = [
        {
            "type": "value_error",
            "loc": ["body", "payload", "name"],
            "msg": "Value error, 坏",
            "ctx": {"error": ValueError("名称含有控制字符。")},
        },
        {"type": "int_parsing", "loc": ["query", "n"], "msg": "Input should be a valid integer"},
    ]
    with translation.override("zh-hans"):
        body = validation_error_body(errors)
    assert body["errors"] == {"name": ["名称含有控制字符。"], "n": ["请输入整数。"]}
