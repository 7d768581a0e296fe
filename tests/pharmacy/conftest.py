"""Fixtures for the pharmacy tests: a voucher, its pharmacy's staff and another pharmacy's."""

from __future__ import annotations

import pytest

from fairshare.accounts.models import ApiToken
from tests.factories import PharmacyFactory, UserFactory, VoucherFactory


def bearer_for(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def voucher(db):
    return VoucherFactory(registration__name="张三明")


@pytest.fixture
def owner(voucher):
    return UserFactory(role="pharmacy", pharmacy=voucher.pharmacy)


@pytest.fixture
def other_pharmacy(voucher):
    return PharmacyFactory(subdistrict=voucher.pharmacy.subdistrict)


@pytest.fixture
def stranger(other_pharmacy):
    return UserFactory(role="pharmacy", pharmacy=other_pharmacy)
