"""Alibaba Cloud SMS end to end, against a loopback stub of the SendSms API.

The stub is a tiny HTTP server on a free loopback port; the SDK's endpoint is pointed
at it through ``SMS_ALIYUN_ENDPOINT``. It checks the request shape (action SendSms,
PhoneNumbers, SignName, TemplateCode, TemplateParam JSON with the kind's variables,
each within the provider's limit) and answers per scenario. Messages are enqueued by
the real services (a phone-code request, a voucher allocation) and sent by the outbox
worker's processing function (``outbox_drain``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone, translation

from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.allocation.tokens import code_display
from fairshare.core.models import OutboxMessage
from fairshare.core.outbox import outbox_drain, outbox_enqueue
from fairshare.core.sms import SMS_KINDS, SmsRejected, sms_enqueue, sms_render
from fairshare.core.sms_aliyun import VARIABLE_MAX, fit_variables, provider_phone
from fairshare.registration.phonecodes import phone_code_send
from tests.allocation.factories import Entry, queue_build
from tests.factories import CommitteeFactory, RoundFactory

pytestmark = pytest.mark.django_db

TEMPLATES = {kind: f"SMS_{kind.upper()}" for kind in SMS_KINDS}
ANSWERS: dict[str, tuple[int, dict[str, str]]] = {
    "ok": (200, {"Code": "OK", "Message": "OK", "BizId": "900^1", "RequestId": "r-ok"}),
    # SendSms answers business errors with HTTP 200 and the error code in the body.
    "throttled": (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}),
    "invalid_number": (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}),
    "bad_template": (200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}),
    "bad_signature": (400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}),
    "http500": (500, {"Code": "ServiceUnavailable", "Message": "try later"}),
}


class Stub:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def check(self, headers: Any, query: dict[str, list[str]]) -> None:
        """Record what does not look like a SendSms request of this service."""
        if headers.get("x-acs-action") != "SendSms":
            self.problems.append(f"action {headers.get('x-acs-action')!r}")
        params = {key: values[0] for key, values in query.items()}
        for field in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"):
            if not params.get(field):
                self.problems.append(f"missing {field}")
        kind = {code: kind for kind, code in TEMPLATES.items()}.get(params.get("TemplateCode"))
        try:
            variables = json.loads(params.get("TemplateParam", ""))
        except ValueError:
            self.problems.append("TemplateParam is not JSON")
            return
        if kind is None or set(variables) != set(SMS_KINDS[kind].variables):
            self.problems.append(f"variables {sorted(variables)} for {kind}")
        for name, value in variables.items():
            if not isinstance(value, str) or len(value) > VARIABLE_MAX or "://" in value:
                self.problems.append(f"variable {name}={value!r}")
        self.requests.append({**params, "vars": variables})


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            query = parse_qs(urlsplit(self.path).query) | parse_qs(body)
            stub.check(self.headers, query)
            if stub.mode == "slow":
                time.sleep(1.5)
                status, answer = ANSWERS["ok"]
            else:
                status, answer = ANSWERS[stub.mode]
            data = json.dumps({"RequestId": "r-1", **answer}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout scenario)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def stub(settings, monkeypatch) -> Iterator[Stub]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_ENDPOINT = f"http://127.0.0.1:{server.server_port}"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "test-key-id"
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "test-key-secret"
    settings.SMS_ALIYUN_SIGN_NAME = "公平配"
    settings.SMS_ALIYUN_TEMPLATES = dict(TEMPLATES)
    settings.SMS_CONNECT_TIMEOUT_MS = 500
    settings.SMS_READ_TIMEOUT_MS = 400
    yield state
    server.shutdown()
    server.server_close()
    assert state.problems == []


@pytest.fixture
def pharmacy_setup(monkeypatch) -> dict[str, Any]:
    """A pharmacy, its committee and an open round, at 07:00 (all pickup slots ahead)."""
    from fairshare.allocation import engine

    committee = CommitteeFactory()
    moment = timezone.make_aware(datetime.combine(timezone.localdate(), clock(7, 0)))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)
    return {
        "pharmacy": committee.pharmacy,
        "committees": [committee],
        "round": RoundFactory(district=committee.subdistrict.district),
        "today": timezone.localdate(),
    }


def _only() -> OutboxMessage:
    return OutboxMessage.objects.get(kind="sms")


def test_phone_code_is_sent_as_template_and_variables(stub):
    phone_code_send(phone="+86 138 1234 5678")
    assert outbox_drain() == {"sent": 1, "retried": 0, "failed": 0}
    [request] = stub.requests
    assert request["PhoneNumbers"] == "13812345678" and request["SignName"] == "公平配"
    assert request["TemplateCode"] == "SMS_CODE"
    assert request["vars"]["minutes"] == "10" and len(request["vars"]["code"]) == 6
    assert _only().status == OutboxMessage.Status.SENT and _only().last_error == ""


def test_voucher_variables_fit_the_limits_and_the_code_is_never_cut(stub, pharmacy_setup):
    s = pharmacy_setup
    pharmacy = s["pharmacy"]
    pharmacy.name = "上海市杨浦区控江路街道社区卫生服务中心附属第一大药房连锁有限公司控江路旗舰店"
    pharmacy.address = "控江路1000号 详见 https://example.com/map?id=1"
    pharmacy.save()
    [registration] = queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()])
    supply_declare(
        pharmacy=pharmacy,
        date=s["today"],
        packs=1,
        manufacturer="某厂",
        style="N95",
        unit_price="9.90",
        actor=None,
    )
    result = allocation_run(round=s["round"], date=s["today"], pharmacy=pharmacy)
    assert outbox_drain() == {"sent": 1, "retried": 0, "failed": 0}
    [request] = stub.requests
    variables = request["vars"]
    assert request["TemplateCode"] == "SMS_VOUCHER"
    assert request["PhoneNumbers"] == registration.phone
    assert variables["code"] == code_display(result.vouchers[0].code)  # whole
    assert len(variables["pharmacy"]) == VARIABLE_MAX and variables["pharmacy"].endswith("…")
    assert variables["address"] == "控江路1000号 详见"  # the link is gone
    assert (variables["packs"], variables["price"]) == ("1", "9.90")


def test_throttled_is_retried_later_then_sent(stub):
    stub.mode = "throttled"
    phone_code_send(phone="13812345678")
    before = timezone.now()
    assert outbox_drain() == {"sent": 0, "retried": 1, "failed": 0}
    message = _only()
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert message.available_at > before
    assert "throttled" in message.last_error and "isv.BUSINESS_LIMIT_CONTROL" in message.last_error

    stub.mode = "ok"
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox_drain() == {"sent": 1, "retried": 0, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")


def test_invalid_number_gives_up_with_the_reason(stub):
    stub.mode = "invalid_number"
    phone_code_send(phone="13812345678")
    assert outbox_drain() == {"sent": 0, "retried": 0, "failed": 1}
    message = _only()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 1
    assert message.last_error.startswith("SmsRejected: invalid phone number")
    assert "isv.MOBILE_NUMBER_ILLEGAL" in message.last_error


@pytest.mark.parametrize("mode", ["bad_template", "bad_signature"])
def test_configuration_faults_give_up_and_log_an_error(stub, mode, caplog):
    stub.mode = mode
    phone_code_send(phone="13812345678")
    with caplog.at_level(logging.ERROR, logger="fairshare.core.sms_aliyun"):
        assert outbox_drain() == {"sent": 0, "retried": 0, "failed": 1}
    message = _only()
    assert message.status == OutboxMessage.Status.FAILED
    assert "check the sign name, template or account" in message.last_error
    assert ANSWERS[mode][1]["Code"] in message.last_error
    assert any(r.levelno == logging.ERROR for r in caplog.records)


@pytest.mark.parametrize("mode", ["http500", "slow"])
def test_server_errors_and_timeouts_are_retried(stub, mode):
    stub.mode = mode
    phone_code_send(phone="13812345678")
    before = timezone.now()
    assert outbox_drain() == {"sent": 0, "retried": 1, "failed": 0}
    message = _only()
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert message.available_at > before
    assert message.last_error.startswith("ConnectionError: SMS provider unreachable")
    assert len(stub.requests) == 1  # the SDK's own retries are off: the outbox retries


def test_a_variable_over_the_limit_that_must_not_be_cut_never_reaches_the_provider(stub):
    sms_enqueue(phone="13812345678", kind="code", variables={"code": "1" * 36, "minutes": "10"})
    assert outbox_drain() == {"sent": 0, "retried": 0, "failed": 1}
    assert stub.requests == []
    assert "over 35 chars" in _only().last_error


def test_plain_text_message_from_before_the_deploy(stub, settings, tmp_path):
    outbox_enqueue(kind="sms", payload={"phone": "13812345678", "text": "旧短信"})
    assert outbox_drain() == {"sent": 0, "retried": 0, "failed": 1}  # no template for it
    assert "plain-text message" in _only().last_error and stub.requests == []

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    outbox_enqueue(kind="sms", payload={"phone": "13812345679", "text": "旧短信"})
    assert outbox_drain()["sent"] == 1  # text backends still send it
    line = json.loads(settings.SMS_FILE_PATH.read_text(encoding="utf-8"))
    assert (line["phone"], line["text"]) == ("13812345679", "旧短信")


def test_a_purged_payload_is_never_sent(stub):
    outbox_enqueue(kind="sms", payload={"purged": True})
    assert outbox_drain() == {"sent": 0, "retried": 0, "failed": 1}
    assert "purged" in _only().last_error and stub.requests == []


def test_file_and_console_render_the_kind_in_the_users_language(settings, tmp_path, caplog):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    variables = {"code": "123456", "minutes": "10"}
    sms_enqueue(phone="13812345678", kind="code", variables=variables)
    with translation.override("en"):
        sms_enqueue(phone="13812345679", kind="code", variables=variables)
    assert outbox_drain()["sent"] == 2
    lines = [json.loads(x) for x in settings.SMS_FILE_PATH.read_text("utf-8").splitlines()]
    assert lines[0]["text"] == "【公平配】您的登记验证码是123456，10分钟内有效。"
    assert lines[1]["text"] == "Fairshare: your registration code is 123456, valid for 10 minutes."

    settings.SMS_BACKEND = "console"
    sms_enqueue(phone="13812345670", kind="code", variables=variables, lang="zh-hans")
    with caplog.at_level(logging.INFO, logger="fairshare.core.sms"):
        assert outbox_drain()["sent"] == 1
    assert "您的登记验证码是123456" in caplog.text


def test_enqueue_refuses_variables_that_do_not_match_the_kind():
    with pytest.raises(ValueError, match="takes the str variables"):
        sms_enqueue(phone="13812345678", kind="code", variables={"code": "1"})
    assert not OutboxMessage.objects.exists()


def test_every_kind_renders_in_both_languages():
    for kind, spec in SMS_KINDS.items():
        payload = {"phone": "1", "kind": kind, "vars": {v: f"<{v}>" for v in spec.variables}}
        for lang in ("zh-hans", "en"):
            text = sms_render({**payload, "lang": lang})
            assert all(f"<{v}>" in text for v in spec.variables), (kind, lang)
        assert sms_render({**payload, "lang": "zh-hans"}).startswith("【公平配】")


def test_fitting_and_phone_format():
    fitted = fit_variables("code", {"code": "123456", "minutes": "10"})
    assert fitted == {"code": "123456", "minutes": "10"}
    with pytest.raises(SmsRejected):
        fit_variables("code", {"code": "see www.example.com/x", "minutes": "1"})
    assert provider_phone("+8613812345678") == "13812345678"
    assert provider_phone("13812345678") == "13812345678"
    assert provider_phone("+852 9123 4567") == "0085291234567"


def _settings_error(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSHARE_SMS_")}
    environ |= env
    code = "import fairshare.settings"
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )
    return done.stderr if done.returncode else ""


def test_provider_settings_are_checked_at_start_up():
    full = {
        "FAIRSHARE_SMS_BACKEND": "aliyun",
        "FAIRSHARE_SMS_ACCESS_KEY_ID": "id",
        "FAIRSHARE_SMS_ACCESS_KEY_SECRET": "secret",
        "FAIRSHARE_SMS_SIGN_NAME": "公平配",
        "FAIRSHARE_SMS_TEMPLATE_CODE": "SMS_1",
        "FAIRSHARE_SMS_TEMPLATE_REGISTRATION": "SMS_2",
        "FAIRSHARE_SMS_TEMPLATE_VOUCHER": "SMS_3",
        "FAIRSHARE_SMS_TEMPLATE_CARRY_OVER": "SMS_4",  # carried households are told
        "FAIRSHARE_SMS_TEMPLATE_SHORTFALL": "SMS_5",  # and those cancelled by a shortfall
        "FAIRSHARE_SMS_TEMPLATE_APPOINTMENT": "SMS_6",  # desk appointment times
    }
    assert _settings_error(**full) == ""
    no_carry = {k: v for k, v in full.items() if k != "FAIRSHARE_SMS_TEMPLATE_CARRY_OVER"}
    assert "FAIRSHARE_SMS_TEMPLATE_CARRY_OVER: required" in _settings_error(**no_carry)
    no_short = {k: v for k, v in full.items() if k != "FAIRSHARE_SMS_TEMPLATE_SHORTFALL"}
    assert "FAIRSHARE_SMS_TEMPLATE_SHORTFALL: required" in _settings_error(**no_short)
    missing = {k: v for k, v in full.items() if k != "FAIRSHARE_SMS_TEMPLATE_VOUCHER"}
    assert "FAIRSHARE_SMS_TEMPLATE_VOUCHER: required" in _settings_error(**missing)
    assert "FAIRSHARE_SMS_BACKEND" in _settings_error(FAIRSHARE_SMS_BACKEND="alibaba")
    assert "FAIRSHARE_SMS_ENDPOINT" in _settings_error(FAIRSHARE_SMS_ENDPOINT="ftp://x/y")


def test_outbox_backoff_is_unchanged_for_other_kinds():
    # Not an SMS: a handler's plain exception is still retried with the usual back-off.
    def broken(payload: dict[str, Any]) -> None:
        raise OSError("disk full")

    outbox_enqueue(kind="pdf", payload={})
    start = timezone.now()
    assert outbox_drain(handlers={"pdf": broken}) == {"sent": 0, "retried": 1, "failed": 0}
    message = OutboxMessage.objects.get()
    assert timedelta(seconds=1) < message.available_at - start <= timedelta(seconds=3)
    assert message.last_error == "OSError: disk full"
