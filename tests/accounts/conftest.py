from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    PharmacyFactory,
    RoundFactory,
    SubdistrictFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Argon2 is slow on purpose; the matrix creates many users. test_auth checks Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles_world():
    """District YP: S1 (c1, c2 served by p1; c3 by p2), S2 (c4 by p3); district HK: S3 (c5, p4);
    a round in each district; one user of each role in YP's first places, a role-less user,
    a superuser and an expired district user."""
    yp, hk = DistrictFactory(code="YP"), DistrictFactory(code="HK")
    s1, s2 = SubdistrictFactory(district=yp), SubdistrictFactory(district=yp)
    s3 = SubdistrictFactory(district=hk)
    p1, p2 = PharmacyFactory(subdistrict=s1), PharmacyFactory(subdistrict=s1)
    p3, p4 = PharmacyFactory(subdistrict=s2), PharmacyFactory(subdistrict=s3)
    c1 = CommitteeFactory(subdistrict=s1, pharmacy=p1)
    CommitteeFactory(subdistrict=s1, pharmacy=p1)
    CommitteeFactory(subdistrict=s1, pharmacy=p2)
    CommitteeFactory(subdistrict=s2, pharmacy=p3)
    CommitteeFactory(subdistrict=s3, pharmacy=p4)
    expired = timezone.now() - timedelta(seconds=1)
    return {
        **{"yp": yp, "hk": hk, "s1": s1, "s2": s2, "s3": s3, "c1": c1},
        **{"p1": p1, "p2": p2, "p3": p3, "p4": p4},
        "round_yp": RoundFactory(district=yp),
        "round_hk": RoundFactory(district=hk),
        "district": UserFactory(role="district", district=yp),
        "subdistrict": UserFactory(role="subdistrict", subdistrict=s1),
        "committee": UserFactory(role="committee", committee=c1),
        "pharmacy": UserFactory(role="pharmacy", pharmacy=p1),
        "none": UserFactory(role=""),
        "super": UserFactory(role="", is_superuser=True),
        "expired": UserFactory(role="district", district=yp, access_expires_at=expired),
    }
