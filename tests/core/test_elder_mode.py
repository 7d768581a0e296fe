"""Elder mode (长辈模式): the cookie switch and what the page then says."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_elder_mode_switches_on_and_off_and_returns_to_the_page(client):
    on = client.get("/elder/", {"on": "1", "next": "/r/status/"})
    assert on.status_code == 302 and on["Location"] == "/r/status/"
    assert client.cookies["fs_elder"].value == "1"
    page = client.get("/r/status/").content.decode()
    assert 'class="elder"' in page and 'aria-pressed="true"' in page
    client.get("/elder/", {"on": "0", "next": "/"})
    page = client.get("/").content.decode()
    assert 'class="elder"' not in page and 'aria-pressed="false"' in page


def test_elder_mode_never_redirects_off_site(client):
    response = client.get("/elder/", {"on": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"
