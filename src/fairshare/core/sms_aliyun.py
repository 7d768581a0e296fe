"""Alibaba Cloud SMS (dysmsapi 2017-05-25, ``SendSms``) through the official SDK.

``FAIRSHARE_SMS_BACKEND=aliyun``; settings under ``# --- sms provider ---`` in
settings.py, the how-to in docs/sms.md. One template per message kind
(``SMS_ALIYUN_TEMPLATES``); the message's variables go as ``TemplateParam`` JSON,
each fitted to the provider's limits first (``fit_variables``): at most
``VARIABLE_MAX`` characters, no links. The SDK's own retries are off: the outbox
retries (``SmsRetryLater`` / transient errors) or gives up (``SmsRejected``).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions
from django.conf import settings

from fairshare.core.sms import SMS_KINDS, SmsRejected, SmsRetryLater

log = logging.getLogger(__name__)

VARIABLE_MAX = 35  # characters per template variable (Alibaba Cloud's limit)
# Links are refused in variables: any scheme://, www. or bare domain with a path.
_LINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://\S*|www\.\S+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*)"
)
_THROTTLED = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "Throttling.User",
    "Throttling",
    "isv.DAY_LIMIT_CONTROL",
}
_BAD_NUMBER = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT",
}
_CONFIG = ("isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL", "isv.TEMPLATE_", "isv.SMS_SIGN")
_CONFIG_CODES = {
    "isv.INVALID_PARAMETERS",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "InvalidAccessKeyId.NotFound",
    "SignatureDoesNotMatch",
    "Forbidden.RAM",
}


def provider_phone(phone: str) -> str:
    """The number as SendSms takes it: 11 digits for the mainland (no +86), else 00 + CC."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+"):
        digits = "00" + digits
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    if not digits:
        raise SmsRejected(f"invalid phone number {phone!r}")
    return digits


def _shorten(value: str) -> str:
    return value if len(value) <= VARIABLE_MAX else value[: VARIABLE_MAX - 1].rstrip() + "…"


def fit_variables(kind: str, variables: dict[str, str]) -> dict[str, str]:
    """The variables within the provider's limits: links removed, long text shortened
    (names, addresses); an ``exact`` variable (a code, a number) is never cut: if it does
    not fit, the message is rejected."""
    spec = SMS_KINDS[kind]
    fitted: dict[str, str] = {}
    for name in spec.variables:
        value = " ".join(str(variables.get(name, "")).split())
        if _LINK.search(value):
            if name in spec.exact:
                raise SmsRejected(f"variable {name!r} of {kind!r} holds a link")
            value = " ".join(_LINK.sub("", value).split())
        if len(value) > VARIABLE_MAX:
            if name in spec.exact:
                raise SmsRejected(f"variable {name!r} of {kind!r} is over {VARIABLE_MAX} chars")
            value = _shorten(value)
        fitted[name] = value
    return fitted


def _config() -> Config:
    endpoint = settings.SMS_ALIYUN_ENDPOINT
    protocol = "HTTPS"
    if "://" in endpoint:
        scheme, endpoint = endpoint.split("://", 1)
        protocol = scheme.upper()
    return Config(
        access_key_id=settings.SMS_ALIYUN_ACCESS_KEY_ID,
        access_key_secret=settings.SMS_ALIYUN_ACCESS_KEY_SECRET,
        endpoint=endpoint.rstrip("/"),
        protocol=protocol,
        region_id=settings.SMS_ALIYUN_REGION,
        connect_timeout=settings.SMS_CONNECT_TIMEOUT_MS,
        read_timeout=settings.SMS_READ_TIMEOUT_MS,
    )


def _classify(code: str, message: str, kind: str) -> Exception:
    """The outbox's view of a provider error code (docs/sms.md, "Error handling")."""
    reason = f"{code}: {message}".strip(": ")
    if code in _THROTTLED or code.startswith("Throttling"):
        return SmsRetryLater(f"throttled by the provider ({reason})")
    if code in _BAD_NUMBER:
        return SmsRejected(f"invalid phone number ({reason})")
    if code.startswith(_CONFIG) or code in _CONFIG_CODES:
        log.error("SMS %s refused, configuration fault: %s", kind, reason)
        return SmsRejected(f"refused: check the sign name, template or account ({reason})")
    return RuntimeError(f"provider error ({reason})")  # unknown: retried, then failed


class AliyunBackend:
    """Sends ``send_template`` messages with SendSms; raises per ``_classify``."""

    def __init__(self) -> None:
        self.client = Client(_config())

    def send_template(self, *, phone: str, kind: str, variables: dict[str, str]) -> None:
        template = settings.SMS_ALIYUN_TEMPLATES.get(kind)
        if not template:
            log.error("SMS %s has no template code (FAIRSHARE_SMS_TEMPLATE_*)", kind)
            raise SmsRejected(f"no template code for SMS kind {kind!r}")
        request = sms_models.SendSmsRequest(
            phone_numbers=provider_phone(phone),
            sign_name=settings.SMS_ALIYUN_SIGN_NAME,
            template_code=template,
            template_param=json.dumps(fit_variables(kind, variables), ensure_ascii=False),
        )
        runtime = RuntimeOptions(
            autoretry=False,
            connect_timeout=settings.SMS_CONNECT_TIMEOUT_MS,
            read_timeout=settings.SMS_READ_TIMEOUT_MS,
        )
        try:
            response = self.client.send_sms_with_options(request, runtime)
        except Exception as exc:
            raise _sdk_error(exc, kind) from exc
        body: Any = response.body
        code = str(getattr(body, "code", "") or "")
        if code != "OK":
            raise _classify(code or "NoCode", str(getattr(body, "message", "") or ""), kind)


def _sdk_error(exc: Exception, kind: str) -> Exception:
    """An SDK exception: an error answer of the API (it has a ``code``) or a transport fault."""
    code = getattr(exc, "code", None)
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
    if isinstance(code, str) and code and not (isinstance(status, int) and status >= 500):
        data = getattr(exc, "data", None) or {}
        message = data.get("Message") if isinstance(data, dict) else None
        return _classify(code, str(message or ""), kind)
    detail = f"HTTP {status}" if status else type(exc).__name__
    return ConnectionError(f"SMS provider unreachable or failing ({detail}: {exc})"[:500])
