"""The one "has a mobile" rule and its SQL form for set-based writes."""

from __future__ import annotations

import pytest
from django.db import connection

from fairshare.core.errors import FieldErrors
from fairshare.core.phones import has_mobile, stored_mobile_sql
from fairshare.registration.validation import clean_phone

TYPED = [
    "13912345678",
    "139 1234 5678",
    "+86 139-1234-5678",
    "021-65431234",
    "02165431234",
    "0571 8888 1234",
    "无",
    "",
    "no phone",
]


@pytest.mark.django_db
def test_stored_mobile_sql_is_has_mobile():
    """Each way staff type a phone, stored as clean_phone stores it, answers the same in
    SQL as in Python (negative control: a landline and "no phone" are among them)."""
    stored = []
    for typed in TYPED:
        errors = FieldErrors()
        stored.append(clean_phone(typed, errors, mobile_required=False))
        assert not errors, (typed, errors)
    assert {has_mobile(p) for p in stored} == {True, False}
    with connection.cursor() as cursor:
        for phone in stored:
            cursor.execute(f"SELECT {stored_mobile_sql('p')} FROM (SELECT %s AS p) t", [phone])
            assert bool(cursor.fetchone()[0]) is has_mobile(phone), repr(phone)
