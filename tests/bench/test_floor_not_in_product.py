"""The benchmark's raw-SQL floor (bench/benchfloor/) is not part of the product's URLs."""

import pytest


@pytest.mark.django_db
def test_the_product_does_not_serve_the_benchmark_floor(client):
    response = client.post("/bench/floor/1/register", data="{}", content_type="application/json")
    assert response.status_code == 404
