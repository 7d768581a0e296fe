"""Fault-injection fixtures: a private PostgreSQL server and seeded server environments.

These tests are run by ``make faults`` (not by ``make test``): they start real
server processes, stop PostgreSQL under load and kill -9 gunicorn.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.liveserver import openapi_paths, prepare_data, server_env
from tests.support.pgcluster import PrivateCluster, pg_bin_dir

REGISTER_PATH = "/api/v1/rounds/{round_id}/registrations"
# The resident status lookup: the phone in the JSON body, never in the URL.
STATUS_PATH = "/api/v1/registrations/{ticket}/status"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/faults/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PrivateCluster]:
    if pg_bin_dir() is None:
        pytest.fail("PostgreSQL server binaries are needed for the fault tests (apt: postgresql)")
    # Not under pytest's tmp dir: the postgres user must be able to enter the folder.
    root = Path(tempfile.mkdtemp(prefix="fairshare-faults-pg-"))
    cluster = PrivateCluster(root)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def pg_env(pg_cluster: PrivateCluster, tmp_path_factory) -> dict[str, str]:
    """Environment of a server on the private PostgreSQL, migrated and seeded (600 households)."""
    data_dir = tmp_path_factory.mktemp("faults-pg-data")
    env = server_env(data_dir, pg_cluster.url)
    prepare_data(env, households=600)
    return env


def has_operation(base_url: str, path: str, method: str = "post") -> bool:
    return method in openapi_paths(base_url).get(path, {})


def require_registration(base_url: str) -> None:
    """The registration API must be in this build (a missing endpoint fails the test)."""
    paths = openapi_paths(base_url)
    assert "post" in paths.get(REGISTER_PATH, {}), f"{REGISTER_PATH} missing from openapi.json"
    assert "post" in paths.get(STATUS_PATH, {}), f"{STATUS_PATH} missing from openapi.json"
