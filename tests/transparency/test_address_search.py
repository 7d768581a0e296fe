"""Find your place: the home page's address search leads to the committee's form."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import BuildingFactory, CommitteeFactory, RoundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    tumen = CommitteeFactory(name="图们居委会")
    kongjiang = CommitteeFactory(name="1200弄居委会", subdistrict=tumen.subdistrict)
    round_obj = RoundFactory(district=tumen.subdistrict.district)
    b12 = BuildingFactory(committee=tumen, compound="图们路61弄", label="12号")
    BuildingFactory(committee=tumen, compound="图们路61弄", label="13号")
    other = CommitteeFactory(name="图们二居委会", subdistrict=tumen.subdistrict)
    BuildingFactory(committee=other, compound="图们路161弄", label="12号")
    for n in range(1, 6):
        BuildingFactory(committee=kongjiang, compound="控江路1200弄", label=f"{n}号")
    return {"round": round_obj, "tumen": tumen, "kongjiang": kongjiang, "b12": b12}


@pytest.mark.parametrize(
    "query",
    [
        "图们路61弄12号",
        "图们路６１弄１２号",
        "61弄12号",
        "图们路61弄12号301室",
        "图们路61弄12栋",
        "61弄12-301",
        "图们路 61 弄 12 号楼 301 室",
    ],
)
def test_a_building_address_opens_the_form_with_the_building_chosen(client, world, query):
    response = client.get("/", {"q": query})
    assert response.status_code == 302
    assert response["Location"] == (
        f"/r/{world['round'].pk}/{world['tumen'].code}/?building={world['b12'].pk}"
    )
    page = client.get(response["Location"])
    assert f'<option value="{world["b12"].pk}" selected>' in page.content.decode()


def test_a_lane_opens_its_committees_form(client, world):
    response = client.get("/", {"q": "控江路１２００弄"})
    assert response["Location"] == f"/r/{world['round'].pk}/{world['kongjiang'].code}/"


def test_several_matches_give_a_short_list(client, world):
    body = client.get("/", {"q": "图们路"}).content.decode()
    assert "图们路61弄" in body and "图们路161弄" in body
    assert f"/r/{world['round'].pk}/{world['tumen'].code}/" in body


def test_an_address_matching_nothing_says_so(client, world):
    response = client.get("/", {"q": "图们路99弄1号"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "图们路99弄1号" in body and 'role="alert"' in body
    assert "/r/" not in body.split('class="address-results"')[1].split("</section>")[0]


def test_a_lane_does_not_match_a_longer_number(client, world):
    # 61弄 must not find 161弄's 12号: exactly one building → redirect to 61弄 12号.
    response = client.get("/", {"q": "61弄12号"})
    assert response["Location"].endswith(f"?building={world['b12'].pk}")


def test_text_that_is_no_address_is_explained(client, world):
    body = client.get("/", {"q": "12345"}).content.decode()
    assert 'role="alert"' in body


def test_the_search_costs_the_same_few_queries_for_many_buildings(client, world):
    def queries(query):
        with CaptureQueriesContext(connection) as ctx:
            client.get("/", {"q": query})
        return len(ctx.captured_queries)

    before = queries("控江路")
    for n in range(6, 206):
        BuildingFactory(committee=world["kongjiang"], compound="控江路1200弄", label=f"{n}号")
    # The buildings of the compound, the open rounds: nothing per building or committee.
    assert queries("控江路") == before == 2
