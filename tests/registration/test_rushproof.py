"""Rush-proof entry form (issue 15, registration/rushproof.py): a form sent again with its
key registers once and lands on the same confirmation; errors are not kept; a busy or
rate-limited answer says when to retry. The browser side (countdown, same key, no
retyping) is tests/e2e/test_rushproof.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from fairshare.core.locking import Busy
from fairshare.registration.models import Registration

pytestmark = pytest.mark.django_db


def _url(place):
    return f"/r/{place['round'].pk}/KJ01/"


def _form(client, place):
    page = client.get(_url(place), {"building": place["building"].pk}).content.decode()
    key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)
    fields = {
        "building": place["building"].pk,
        "room": place["household"].pk,
        "name": "张三明",
        "phone": "13812345678",
        "action": "register",
    }
    return key, fields


def test_the_same_form_sent_twice_registers_once_and_both_land_on_its_confirmation(place):
    client = Client()
    key, fields = _form(client, place)
    first = client.post(_url(place), {**fields, "form_key": key})
    again = client.post(_url(place), fields, HTTP_IDEMPOTENCY_KEY=key)  # the script's header
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Registration.objects.count() == 1
    assert client.get(again["Location"]).status_code == 200


def test_a_repeat_with_the_key_is_answered_from_the_first_without_running_again(place, monkeypatch):
    """With the key the repeat never reaches the registration service; without it (the
    negative control) the service runs again and only its same-person rule saves the day."""
    from fairshare.registration import views

    calls = []
    real = views.registration_create

    def counted(**kwargs):
        calls.append(kwargs["name"])
        return real(**kwargs)

    monkeypatch.setattr(views, "registration_create", counted)
    client = Client()
    key, fields = _form(client, place)
    for _ in range(3):
        assert client.post(_url(place), {**fields, "form_key": key}).status_code == 302
    assert len(calls) == 1
    for _ in range(2):
        assert client.post(_url(place), fields).status_code == 302
    assert len(calls) == 3 and Registration.objects.count() == 1


def test_a_rejected_form_is_not_kept_and_the_corrected_one_registers(place):
    client = Client()
    key, fields = _form(client, place)
    wrong = client.post(_url(place), {**fields, "name": "", "form_key": key})
    assert wrong.status_code == 422 and not Registration.objects.exists()
    fixed = client.post(_url(place), {**fields, "form_key": key})
    assert fixed.status_code == 302 and Registration.objects.count() == 1


def test_the_same_key_with_other_details_after_a_success_is_refused(place):
    client = Client()
    key, fields = _form(client, place)
    assert client.post(_url(place), {**fields, "form_key": key}).status_code == 302
    other = client.post(_url(place), {**fields, "name": "李四", "form_key": key})
    assert other.status_code == 422 and "刷新页面" in other.content.decode()
    assert list(Registration.objects.values_list("name", flat=True)) == ["张三明"]


def test_each_render_of_the_form_has_its_own_key(place):
    client = Client()
    assert _form(client, place)[0] != _form(client, place)[0]


def test_busy_and_rate_limited_answers_say_when_to_retry(place, settings, monkeypatch):
    client = Client()
    key, fields = _form(client, place)

    def busy(**_kwargs):
        raise Busy()

    monkeypatch.setattr("fairshare.registration.views.registration_create", busy)
    answer = client.post(_url(place), {**fields, "form_key": key})
    assert answer.status_code == 503 and int(answer["Retry-After"]) > 0
    assert 'value="张三明"' in answer.content.decode()  # what was typed is kept
    monkeypatch.undo()
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {**settings.RATELIMITS, "register": {"phone": (1, 600)}}
    assert client.post(_url(place), {**fields, "form_key": key}).status_code == 302
    limited = client.post(_url(place), {**fields, "phone": "13812345678", "form_key": "x"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
