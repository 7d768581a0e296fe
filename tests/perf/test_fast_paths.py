"""The hot-path shortcuts of issue 8 behave like the code they replace."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

import fairshare.core.ratelimit as rl
from fairshare.core.fastsql import insert_model, select_models
from fairshare.core.models import OutboxMessage
from fairshare.core.ratelimit import RateLimited, ratelimit_enforce

pytestmark = pytest.mark.django_db


class FakePipeline:
    """SET NX EX / INCR with Redis semantics on a dict (one "round trip" per execute)."""

    def __init__(self, store: dict[str, int], log: list[int]) -> None:
        self.store, self.log, self.ops = store, log, []

    def set(self, key, value, ex=None, nx=False):
        self.ops.append(("set", key, value, nx))

    def incr(self, key):
        self.ops.append(("incr", key))

    def execute(self):
        self.log.append(len(self.ops))
        out = []
        for op in self.ops:
            if op[0] == "set":
                if op[3] and op[1] in self.store:
                    out.append(None)
                else:
                    self.store[op[1]] = op[2]
                    out.append(True)
            else:
                self.store[op[1]] = self.store.get(op[1], 0) + 1
                out.append(self.store[op[1]])
        return out


class FakeRedis:
    def __init__(self) -> None:
        self.store: dict[str, int] = {}
        self.round_trips: list[int] = []

    def pipeline(self, transaction=False):
        return FakePipeline(self.store, self.round_trips)


def test_redis_rate_limit_counts_both_scopes_in_one_round_trip(settings, monkeypatch):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"register": {"ip": (10, 600), "phone": (2, 600)}}
    fake = FakeRedis()
    monkeypatch.setattr(rl, "_redis_client", lambda: fake)
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")
    ratelimit_enforce(name="register", request=request, phone="13800000001")
    ratelimit_enforce(name="register", request=request, phone="13800000001")
    assert fake.round_trips == [4, 4]  # SET NX + INCR for ip and phone, one pipeline each
    with pytest.raises(RateLimited) as exc:
        ratelimit_enforce(name="register", request=request, phone="13800000001")
    assert 1 <= exc.value.retry_after <= 600
    # another phone from the same address is still allowed (ip limit 10)
    ratelimit_enforce(name="register", request=request, phone="13800000002")
    assert not any("13800000001" in k or "10.0.0.1" in k for k in fake.store)  # hashed keys


def test_fast_insert_and_select_match_the_orm():
    msg = OutboxMessage(kind="t", payload={"a": [1, "中"]}, household_id=None)
    assert insert_model(msg) and msg.pk
    orm = OutboxMessage.objects.get(pk=msg.pk)
    (fast,) = select_models(OutboxMessage, "id = %s", [msg.pk])
    for field in OutboxMessage._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    assert fast.payload == {"a": [1, "中"]} and fast.available_at.tzinfo is not None
