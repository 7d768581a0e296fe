"""The text rule (core/schemas.py, core/forms.py, core/textguard.py) on real entry points.

NUL and other control characters are a per-field 422 on the API and a per-field form
error on pages (NUL in any page request: a 400 page naming the fields), in the user's
language, and nothing is written; line breaks only in multi-line fields. Both
databases: PostgreSQL answered 500 to NUL before.
"""

from __future__ import annotations

import inspect
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pydantic import BaseModel

from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.allocation.models import SupplyDeclaration
from fairshare.api import api
from fairshare.core.schemas import MultiLineText, Schema, SingleLine
from fairshare.pharmacy.models import Handover, OfflineBatch, ProxyBatch
from fairshare.registration.models import Registration
from fairshare.transparency.models import Notice
from tests.accounts.world import PASSWORD, Side, build_side

pytestmark = pytest.mark.django_db

CONTROL_ZH = "请删除文字中的控制字符（如 NUL）。"
CONTROL_EN = "Remove the control characters (such as NUL) from this text."
LINE_ZH = "此项只能填写一行：不能含换行或制表符。"


@pytest.fixture
def side(settings) -> Side:
    settings.RATELIMIT_ENABLED = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_side("a", "YPA", "1")


def _call(client: Client, side: Side, role: str | None, method: str, url: str, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {side.tokens[role]}"} if role else {}
    if method == "GET":
        return client.get(url, **headers)
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **headers)


def _registration(side: Side, **change: str) -> dict[str, Any]:
    household = side.free_household
    body = {
        "committee": side.committee.code,
        "building": household.building.label,
        "room": household.room,
        "name": "a-roster-member",
        "phone": "13812340000",
    }
    return {**body, **change}


def _later() -> str:
    return (timezone.now() + timedelta(days=3)).isoformat()


# (role, url, valid body, field, bad value, model whose rows must not change)
CASES = {
    "registration": (
        None,
        lambda s: f"/api/v1/rounds/{s.round.pk}/registrations",
        _registration,
        "building",
        Registration,
    ),
    "token": (
        None,
        lambda s: "/api/v1/auth/token",
        lambda s: {"username": "a-committee", "password": PASSWORD, "label": "desk"},
        "label",
        ApiToken,
    ),
    "assignment": (
        "subdistrict",
        lambda s: "/api/v1/auth/helpers/assignments",
        lambda s: {
            "username": s.users["helper"].username,
            "committee": s.other_committee.code,
            "expires_at": _later(),
        },
        "committee",
        CommitteeAssignment,
    ),
    "supply": (
        "pharmacy",
        lambda s: f"/api/v1/pharmacies/{s.pharmacy.code}/supplies",
        lambda s: {
            "date": (s.next_supply_date + timedelta(days=1)).isoformat(),
            "packs": 10,
            "manufacturer": "上海某厂",
            "style": "平面",
            "unit_price": "1.50",
        },
        "manufacturer",
        SupplyDeclaration,
    ),
    "handover": (
        "committee",
        lambda s: f"/api/v1/vouchers/{s.redeemed_voucher.code}/handover",
        lambda s: {"recipient_name": "王五"},
        "recipient_name",
        Handover,
    ),
    "offline": (
        "pharmacy",
        lambda s: f"/api/v1/pharmacies/{s.pharmacy.code}/offline-redemptions",
        lambda s: {
            "batch_id": "batch-1",
            "items": [{"code": s.voucher.code, "redeemed_at": timezone.now().isoformat()}],
        },
        "batch_id",
        OfflineBatch,
    ),
    "proxy": (
        "committee",
        lambda s: f"/api/v1/committees/{s.committee.code}/proxy-purchases",
        lambda s: {"codes": [s.voucher.code]},
        "codes",
        ProxyBatch,
    ),
}


def _spoil(body: dict[str, Any], field: str, bad: str) -> dict[str, Any]:
    value = body[field]
    if isinstance(value, list):
        return {**body, field: [*value, bad]}
    return {**body, field: f"{value}{bad}"}


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x7f", "\x85", "\ud800", "\n", "\t", "\u2028"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_api_refuses_control_characters_per_field(client, side, case, bad):
    role, url, body, field, model = CASES[case]
    spoiled = _spoil(body(side), field, bad)
    before = model.objects.count()
    response = _call(client, side, role, "POST", url(side), spoiled)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == "invalid"
    assert list(answer["errors"]) == [field]
    assert answer["errors"][field] == [CONTROL_ZH if bad not in "\n\t\u2028" else LINE_ZH]
    assert model.objects.count() == before


@pytest.mark.parametrize("case", sorted(CASES))
def test_api_control_the_valid_body_is_accepted(client, side, case):
    """The positive control: without the bad character the same call succeeds."""
    role, url, body, _field, model = CASES[case]
    before = model.objects.count()
    response = _call(client, side, role, "POST", url(side), body(side))
    assert response.status_code < 300, response.content
    assert model.objects.count() == before + 1


def test_nested_list_item_is_refused_with_its_path(client, side):
    role, url, body, _field, model = CASES["offline"]
    spoiled = body(side)
    spoiled["items"][0]["terminal_id"] = "T1\x00"
    response = _call(client, side, role, "POST", url(side), spoiled)
    assert response.status_code == 422
    assert response.json()["errors"] == {"items.0.terminal_id": [CONTROL_ZH]}
    assert not model.objects.exists()


def test_the_message_is_in_one_language(client, side):
    body = {"username": "a-committee\x00", "password": PASSWORD}
    zh = _call(client, side, None, "POST", "/api/v1/auth/token", body).json()
    assert zh["errors"] == {"username": [CONTROL_ZH]} and zh["detail"] == "输入有误。"
    client.cookies["django_language"] = "en"
    en = _call(client, side, None, "POST", "/api/v1/auth/token", body).json()
    assert en["errors"] == {"username": [CONTROL_EN]} and en["detail"] == "Invalid input."


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/vouchers/AB%00CD",
        "/api/v1/vouchers/AB%01CD/redeem",
        "/api/v1/registrations/ABC%00DEF?phone=13812340000",
        "/api/v1/registrations/ABCDEF?phone=138%0012340000",
        "/api/v1/committees/%00/households",
        "/api/v1/public/notices?subdistrict=%00",
        "/api/v1/stats/rounds/1?committee=C%00",
        "/api/v1/pharmacies/P%00/reconciliation",
    ],
)
def test_path_and_query_parameters_refuse_nul(client, side, url):
    call = client.post if url.endswith("/redeem") else client.get
    response = call(url, HTTP_AUTHORIZATION=f"Bearer {side.tokens['pharmacy']}")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("raw", ["{", '{"username": ', b"\xff\xfe", "[" * 100_000])
def test_a_body_that_is_not_json_is_a_json_422(client, raw):
    before = ApiToken.objects.count()
    response = client.post("/api/v1/auth/token", raw, content_type="application/json")
    assert response.status_code == 422 and response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "detail": "输入有误。",
        "code": "invalid",
        "errors": {"__all__": ["请求体不是有效的 JSON。"]},
    }
    assert ApiToken.objects.count() == before


class _Inner(Schema):
    label: str


class _NoteIn(Schema):
    title: str
    note: MultiLineText = ""
    tags: list[str] = []
    notes: list[MultiLineText] = []
    extra: dict[str, str] = {}
    inner: _Inner | None = None


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        ({"title": "t", "note": "第一行\n第二行\r\n\t缩进"}, True),
        ({"title": "t", "notes": ["a\nb"]}, True),
        ({"title": "a\nb"}, False),
        ({"title": "t", "note": "a\x00b"}, False),
        ({"title": "t", "tags": ["ok", "a\nb"]}, False),
        ({"title": "t", "extra": {"k\x00": "v"}}, False),
        ({"title": "t", "extra": {"k": "\x1b[31m"}}, False),
        ({"title": "t", "inner": {"label": "\x00"}}, False),
        ({"title": "ünïcode 表情 🙂 ‍ zero-width joiner"}, True),
    ],
)
def test_multiline_fields_allow_line_breaks_and_nothing_else_does(data, ok):
    from pydantic import ValidationError

    if ok:
        _NoteIn.model_validate(data)
    else:
        with pytest.raises(ValidationError):
            _NoteIn.model_validate(data)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        nested = [m for f in annotation.model_fields.values() for m in _models_in(f.annotation)]
        return [annotation, *nested]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def _operations():
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield path, operation


def test_every_request_body_schema_and_text_parameter_follows_the_rule():
    """A new endpoint cannot forget the rule: bodies inherit core.schemas.Schema, and
    every text path/query parameter is declared SingleLine."""
    single_line = SingleLine.__metadata__[0]
    bodies, params = 0, 0
    for path, operation in _operations():
        for model in operation.models:
            for name, field in model.model_fields.items():
                if model.__name__.endswith("BodyParams"):
                    for schema in _models_in(field.annotation):
                        bodies += 1
                        assert issubclass(schema, Schema), f"{path}: {schema.__name__}"
                elif field.annotation is str or str in getattr(field.annotation, "__args__", ()):
                    params += 1
                    assert single_line in field.metadata, f"{path}: parameter {name}"
    assert bodies >= 11 and params >= 15  # the walk reached them


# ---- pages ---------------------------------------------------------------------------


def _login(client: Client, side: Side, role: str) -> None:
    client.force_login(side.users[role])


def test_login_form_refuses_control_characters_per_field(client, side):
    response = client.post("/accounts/login/", {"username": "a-committee\x01", "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [CONTROL_ZH]
    assert "_auth_user_id" not in client.session


def test_helper_form_refuses_per_field_and_writes_nothing(client, side):
    _login(client, side, "subdistrict")
    before = User.objects.count()
    data = {
        "action": "create",
        "new-username": "helper\x07x",
        "new-password": "pw-for-tests-2",
        "new-committee": side.committee.pk,
        "new-expires_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post("/accounts/helpers/", data)
    assert response.status_code == 422
    assert response.context["create_form"].errors["username"] == [CONTROL_ZH]
    line = client.post("/accounts/helpers/", {**data, "new-username": "helper\tx"})
    assert line.context["create_form"].errors["username"] == [LINE_ZH]
    assert User.objects.count() == before
    control = client.post("/accounts/helpers/", {**data, "new-username": "helper-x"})
    assert control.status_code == 302 and User.objects.count() == before + 1


def test_helper_assign_form_with_a_control_character_is_an_invalid_choice(client, side):
    _login(client, side, "subdistrict")
    before = CommitteeAssignment.objects.count()
    data = {
        "action": "assign",
        "assign-helper": "1\x01",
        "assign-committee": side.committee.pk,
        "assign-expires_at": _later()[:16],
    }
    response = client.post("/accounts/helpers/", data)
    assert response.status_code == 422 and "helper" in response.context["assign_form"].errors
    assert CommitteeAssignment.objects.count() == before


def test_audit_filter_form_refuses_per_field(client, side):
    _login(client, side, "subdistrict")
    response = client.get("/accounts/audit/", {"action": "a\x1bb"})
    assert response.context["form"].errors["action"] == [CONTROL_ZH]
    client.cookies["django_language"] = "en"
    english = client.get("/accounts/audit/", {"actor": "a\nb"})
    assert english.context["form"].errors["actor"] == [
        "This field takes a single line: no line breaks or tabs."
    ]


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/login/", {"username": "a-committee\x00", "password": PASSWORD}),
        ("/accounts/helpers/", {"action": "create", "new-username": "h\x00"}),
        ("/accounts/audit/", None),
        ("{registration}", {"building": "1号\x00", "room": "101", "name": "张三"}),
        ("/r/status/", {"ticket": "ABC\x00", "phone": "13812340000"}),
        ("/vouchers/supply/", {"manufacturer": "厂\x00", "packs": "1"}),
        ("/pharmacy/", {"code": "AB\x00CD", "action": "redeem"}),
    ],
)
def test_nul_in_any_page_request_is_a_400_page_naming_the_field(client, side, url, data):
    _login(client, side, "committee" if "pharmacy" not in url else "pharmacy")
    url = url.format(registration=f"/r/{side.round.pk}/{side.committee.code}/")
    counts = (Registration.objects.count(), User.objects.count(), SupplyDeclaration.objects.count())
    if data is None:
        response = client.get(url, {"actor": "x\x00"})
        field = "actor"
    else:
        response = client.post(url, data)
        field = next(k for k, v in data.items() if "\x00" in v)
    assert response.status_code == 400
    assert "无法保存的字符" in response.content.decode() and field in response.content.decode()
    after = (Registration.objects.count(), User.objects.count(), SupplyDeclaration.objects.count())
    assert after == counts


@pytest.mark.parametrize(
    "url", ["/r/done/%00/", "/r/{round}/%01/", "/public/rounds/1/committees/%00/"]
)
def test_a_control_character_in_a_page_path_is_404(client, side, url):
    assert client.get(url.format(round=side.round.pk)).status_code == 404


def test_admin_notice_body_is_multiline_and_title_single_line(client, side):
    _login(client, side, "subdistrict")
    before = Notice.objects.count()
    add = "/admin/transparency/notice/add/"
    base = {"subdistrict": side.subdistrict.pk, "title": "答复", "body": "第一行\n第二行"}
    bad_title = client.post(add, {**base, "title": "答\n复"})
    assert bad_title.status_code == 200
    assert bad_title.context["adminform"].form.errors["title"] == [LINE_ZH]
    bad_body = client.post(add, {**base, "body": "第一行\x1b"})
    assert bad_body.context["adminform"].form.errors["body"] == [CONTROL_ZH]
    assert Notice.objects.count() == before
    assert client.post(add, base).status_code == 302
    assert Notice.objects.filter(body="第一行\n第二行").exists()
