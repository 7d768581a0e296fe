"""Roster uploads on several nodes (issue 17): the page stores the files on one node, the
outbox worker of another runs the import; the shared private storage carries them."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from fairshare.accounts.roster import staging
from fairshare.community.models import Household
from fairshare.core.models import Job, StoredFile
from fairshare.core.outbox import outbox_drain
from tests.accounts import roster_files as rf
from tests.factories import SubdistrictFactory, UserFactory

pytestmark = pytest.mark.django_db
LOCAL = {"BACKEND": "fairshare.core.filestore.LocalPrivateStorage"}
DATABASE = {"BACKEND": "fairshare.core.filestore.DatabaseStorage"}


def _check_on_node1_import_on_node2(client, settings, tmp_path, storage: dict) -> Job:
    settings.STORAGES = {**settings.STORAGES, "private": storage}
    client.force_login(
        UserFactory(
            role="subdistrict", subdistrict=SubdistrictFactory(code="XHJD", name="新华街道")
        )
    )
    upload = SimpleUploadedFile("roster.xlsx", rf.standard_workbook())
    with override_settings(PRIVATE_MEDIA_ROOT=tmp_path / "node1"):
        answer = client.post("/accounts/import/", {"action": "check", "upload": [upload]})
    assert answer.status_code == 302
    with override_settings(PRIVATE_MEDIA_ROOT=tmp_path / "node2"):
        outbox_drain()  # node2's worker runs the check
    return Job.objects.get()


def test_an_upload_on_one_node_is_imported_by_another(client, settings, tmp_path):
    job = _check_on_node1_import_on_node2(client, settings, tmp_path, DATABASE)
    assert job.state == Job.State.DONE, job.error
    assert StoredFile.objects.filter(name__startswith="roster-imports/").exists()
    assert not (tmp_path / "node1").exists()  # nothing on node1's disk
    with override_settings(PRIVATE_MEDIA_ROOT=tmp_path / "node2"):
        answer = client.post("/accounts/import/", {"action": "confirm", "job": job.pk})
        assert answer.status_code == 302
    with override_settings(PRIVATE_MEDIA_ROOT=tmp_path / "node1"):
        outbox_drain()
    assert Household.objects.count() == 3
    assert not StoredFile.objects.filter(name__startswith="roster-imports/").exists()


def test_control_a_node_local_folder_loses_the_upload_for_the_other_node(
    client, settings, tmp_path
):
    job = _check_on_node1_import_on_node2(client, settings, tmp_path, LOCAL)
    assert job.state == Job.State.FAILED and "gone" in job.error


def test_staged_names_come_back_unchanged_and_old_uploads_go(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "private": DATABASE}
    files = [SimpleUploadedFile(n, b"a,b\n") for n in ("名单 第1批.csv", "b (2).csv")]
    token = staging.staged_save(files)
    opened = staging.staged_open(token)
    assert [name for name, _ in opened] == ["名单 第1批.csv", "b (2).csv"]
    assert opened[0][1].read() == b"a,b\n"
    assert not staging.staged_exists("../" + token)  # only tokens name a folder
    staging.staged_forget_old("roster_import")
    assert staging.staged_exists(token)  # younger than an hour
    stale = f"{int(time.time()) - 2 * staging.KEEP_SECONDS}-{'x' * 22}"
    staging.staged_delete(token)
    StoredFile.objects.create(name=f"roster-imports/{stale}/00-YQ", content=b"a")
    staging.staged_forget_old("roster_import")
    assert not staging.staged_exists(stale)
