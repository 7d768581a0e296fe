"""The roster import pages speak Chinese by default and English after the language switch."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fairshare.core.outbox import outbox_drain
from tests.accounts import roster_files as rf
from tests.factories import SubdistrictFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE_ZH = [
    "导入花名册",
    "上传",
    "工作簿（XLSX）或 CSV 文件",
    "检查文件（不写入）",
    "合计不超过 50 MB",
]
PAGE_EN = ["Import the roster", "Upload", "Workbook (XLSX) or CSV files", "Check the file"]
ERRORS_ZH = [
    "文件未导入：共 2 处错误。",
    "未写入任何数据。请修改文件后重新上传。",
    "<th>工作表</th><th>行</th><th>列</th><th>问题</th>",
    "不是有效的中国大陆手机号码（11 位）。",
    "请填写“是”或“否”。",
]
ERRORS_EN = [
    "The file was not imported: 2 errors.",
    "Nothing was written. Correct the file and upload it again.",
    "<th>Sheet</th><th>Row</th><th>Column</th><th>Problem</th>",
    "Not a valid mainland China mobile number (11 digits).",
    "Write 是 or 否 (yes or no).",
]


@pytest.fixture
def office_client(client):
    sub = SubdistrictFactory(code="XHJD", name="新华街道")
    client.force_login(UserFactory(role="subdistrict", subdistrict=sub))
    return client


def _bad_upload(client):
    rows = [list(r) for r in rf.HOUSEHOLDS]
    rows[0][7] = "maybe"  # 独居: neither 是 nor 否
    rows[2][6] = "1234"  # 手机
    upload = SimpleUploadedFile("roster.xlsx", rf.standard_workbook(rows))
    answer = client.post("/accounts/import/", {"action": "check", "upload": [upload]})
    assert answer.status_code == 302
    outbox_drain()  # the worker runs the check
    page = client.get(answer["Location"])
    assert page.context["status"]["state"] == "failed"
    return page.content.decode()


def _has_all(html, texts):
    missing = [text for text in texts if text not in html]
    assert not missing, missing


def _has_none(html, texts):
    present = [text for text in texts if text in html]
    assert not present, present


def test_import_page_is_chinese_by_default_then_english(office_client):
    html = office_client.get("/accounts/import/").content.decode()
    _has_all(html, PAGE_ZH)
    _has_none(html, PAGE_EN)
    office_client.cookies["django_language"] = "en"  # the language switch sets this cookie
    html = office_client.get("/accounts/import/").content.decode()
    _has_all(html, PAGE_EN)
    _has_none(html, PAGE_ZH)


def test_error_list_is_chinese_by_default_then_english(office_client):
    html = _bad_upload(office_client)
    _has_all(html, ERRORS_ZH)
    _has_none(html, ERRORS_EN)
    office_client.cookies["django_language"] = "en"
    html = _bad_upload(office_client)
    _has_all(html, ERRORS_EN)
    _has_none(html, ERRORS_ZH)


def test_preview_counts_are_chinese(office_client):
    upload = SimpleUploadedFile("roster.xlsx", rf.standard_workbook())
    answer = office_client.post("/accounts/import/", {"action": "check", "upload": [upload]})
    outbox_drain()
    html = office_client.get(answer["Location"]).content.decode()
    _has_all(html, ["文件检查通过", "<th>新增</th>", "<td>住户</td>", "<td>工作人员账号</td>"])
    _has_all(html, ["确认导入"])
    _has_none(html, ["Households", "Confirm the import", "marked inactive"])


def test_change_password_page_after_a_one_time_password_is_chinese(client):
    user = UserFactory(role="", password_change_required=True)
    client.force_login(user)
    html = client.get("/accounts/", follow=True).content.decode()
    _has_all(html, ["修改密码", "您使用一次性密码登录。", "当前密码", "再次输入新密码"])
    _has_none(html, ["Change your password", "You signed in with a one-time password"])
    same = client.post(
        "/accounts/password/",
        {
            "old_password": "pw-for-tests-1",
            "new_password1": "pw-for-tests-1",
            "new_password2": "pw-for-tests-1",
        },
    )
    _has_all(same.content.decode(), ["新密码不能与当前密码相同。"])
