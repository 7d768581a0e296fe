"""core/clientip: the client address under 0, 1 and 2 trusted proxy hops."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from fairshare.core.clientip import client_ip, client_ip_from, client_ip_or_none, parse_address
from tests.factories import UserFactory

SPOOFS = ["1.1.1.1", "10.9.9.9, 8.8.8.8", "not-an-ip", "", "::1", "203.0.113.7"]


def _request(remote: str, forwarded: str | None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


@pytest.mark.parametrize("spoof", SPOOFS)
def test_hops_0_ignores_x_forwarded_for(settings, spoof):
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_ip(_request("198.51.100.4", spoof)) == "198.51.100.4"
    assert client_ip(_request("198.51.100.4", None)) == "198.51.100.4"


@pytest.mark.parametrize("spoof", SPOOFS)
def test_hops_1_takes_the_entry_the_proxy_added(settings, spoof):
    settings.TRUSTED_PROXY_HOPS = 1
    # nginx appends the address it saw: whatever the client sent stays to its left.
    chain = f"{spoof}, 203.0.113.9" if spoof else "203.0.113.9"
    assert client_ip(_request("10.0.0.2", chain)) == "203.0.113.9"


@pytest.mark.parametrize("spoof", SPOOFS)
def test_hops_2_takes_the_entry_the_outer_proxy_added(settings, spoof):
    settings.TRUSTED_PROXY_HOPS = 2
    chain = f"{spoof}, 203.0.113.9, 10.0.0.1" if spoof else "203.0.113.9, 10.0.0.1"
    assert client_ip(_request("10.0.0.2", chain)) == "203.0.113.9"


def test_never_the_leftmost_of_a_long_chain():
    chain = "6.6.6.6, 7.7.7.7, 203.0.113.9, 10.0.0.1"
    assert client_ip_from("10.0.0.2", chain, 0) == "10.0.0.2"
    assert client_ip_from("10.0.0.2", chain, 1) == "10.0.0.1"
    assert client_ip_from("10.0.0.2", chain, 2) == "203.0.113.9"
    assert client_ip_from("10.0.0.2", chain, 3) == "7.7.7.7"


def test_short_chain_gives_the_leftmost_entry_a_trusted_proxy_wrote():
    # Two proxies configured, the request reached the inner one directly.
    assert client_ip_from("10.0.0.2", "203.0.113.9", 2) == "203.0.113.9"
    # No header at all: the peer.
    assert client_ip_from("10.0.0.2", "", 2) == "10.0.0.2"


def test_malformed_entry_falls_back_to_the_address_on_its_right():
    assert client_ip_from("10.0.0.2", "1.2.3.4, garbage", 1) == "10.0.0.2"
    assert client_ip_from("10.0.0.2", "1.2.3.4, unknown, 10.0.0.1", 2) == "10.0.0.1"
    assert client_ip_from("10.0.0.2", "1.2.3.4, , 10.0.0.1", 2) == "10.0.0.1"
    assert client_ip_from("", "1.2.3.4", 1) == "unknown"
    assert client_ip_from("nonsense", "1.2.3.4", 1) == "unknown"


def test_addresses_are_normalised():
    assert parse_address(" 203.0.113.9:5678 ") == "203.0.113.9"
    assert parse_address("[2001:db8:0:0::1]:443") == "2001:db8::1"
    assert parse_address("2001:DB8::0:1") == "2001:db8::1"
    assert parse_address("::ffff:203.0.113.9") == "203.0.113.9"
    assert parse_address("203.0.113.256") is None
    assert client_ip_or_none(_request("", None)) is None


def _settings_in_fresh_interpreter(tmp_path, **env_vars: str) -> subprocess.CompletedProcess:
    code = "import fairshare.settings as s; print(s.TRUSTED_PROXY_HOPS)"
    env = {**os.environ, "FAIRSHARE_DATA_DIR": str(tmp_path), "DATABASE_URL": "", **env_vars}
    env.pop("FAIRSHARE_RATELIMIT_PROXY_HEADER", None)
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_setting_is_parsed_strictly(tmp_path):
    assert _settings_in_fresh_interpreter(tmp_path).stdout.strip() == "0"
    ok = _settings_in_fresh_interpreter(tmp_path, FAIRSHARE_TRUSTED_PROXY_HOPS="2")
    assert ok.stdout.strip() == "2"
    for bad in ("-1", "one", "1.5"):
        failed = _settings_in_fresh_interpreter(tmp_path, FAIRSHARE_TRUSTED_PROXY_HOPS=bad)
        assert failed.returncode != 0 and "FAIRSHARE_TRUSTED_PROXY_HOPS: " in failed.stderr


def test_old_proxy_header_variable_stops_start_up_naming_the_new_one(tmp_path):
    failed = _settings_in_fresh_interpreter(
        tmp_path, FAIRSHARE_RATELIMIT_PROXY_HEADER="HTTP_X_FORWARDED_FOR"
    )
    assert failed.returncode != 0
    assert "FAIRSHARE_RATELIMIT_PROXY_HEADER: " in failed.stderr
    assert "FAIRSHARE_TRUSTED_PROXY_HOPS" in failed.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("hops", [0, 1, 2])
def test_login_lockout_records_the_same_client_address(settings, hops):
    """django-axes keys its attempts on core/clientip's address, not on a spoofable one."""
    settings.TRUSTED_PROXY_HOPS = hops
    UserFactory(username="addr1")
    added_by_proxies = ["203.0.113.9", "10.0.0.1"][:hops]
    for spoof in ("1.1.1.1", "2.2.2.2"):
        Client().post(
            "/accounts/login/",
            {"username": "addr1", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=", ".join([spoof, *added_by_proxies]),
        )
    expected = "10.0.0.2" if hops == 0 else "203.0.113.9"
    attempts = list(AccessAttempt.objects.values_list("ip_address", "failures_since_start"))
    assert attempts == [(expected, 2)]
