"""The scoped admin screens of community and rounds models (fairshare/accounts/admin_scoping.py)
open for every staff role that may view them, list only the rows of the role's scope, and
answer 403 to the others. Regression: /admin/community/pharmacy/ answered 500 to committee
and subdistrict staff ("Cannot resolve keyword 'committees_id'")."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


# (admin path, {role: rows listed}); a role left out gets 403.
SCREENS = [
    (
        "/admin/community/pharmacy/",
        {"district": 3, "subdistrict": 2, "committee": 1, "pharmacy": 1},
    ),
    ("/admin/community/subdistrict/", {"district": 2, "subdistrict": 1}),
    ("/admin/community/committee/", {"district": 4, "subdistrict": 3, "committee": 1}),
    ("/admin/rounds/round/", {"district": 1, "subdistrict": 1}),
]


@pytest.mark.parametrize("role", ["district", "subdistrict", "committee", "pharmacy"])
@pytest.mark.parametrize(("path", "rows"), SCREENS, ids=[s[0] for s in SCREENS])
def test_each_role_sees_its_rows_or_403(client: Client, roles_world, role, path, rows):
    client.force_login(roles_world[role])
    response = client.get(path)
    if role not in rows:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows[role]


def test_the_admin_index_lists_the_screens_of_the_role(client: Client, roles_world):
    client.force_login(roles_world["committee"])
    response = client.get("/admin/")
    assert response.status_code == 200
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert {"Pharmacy", "Committee", "Building", "Household"} <= models
    assert not {"Subdistrict", "Round"} & models
